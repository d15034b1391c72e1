// Starts AWS's DynamoDB Local bound to 127.0.0.1 only.
//
// DynamoDB Local has no bind-address option and listens on every interface; this
// launcher builds the same server from the same command-line options, then sets the
// host of its Jetty connectors to loopback before starting it. Run with Java's
// single-file source launcher (see devtools/dynamodb_local.py).
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDBLocal {
    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        for (Field field : DynamoDBProxyServer.class.getDeclaredFields()) {
            if (Server.class.isAssignableFrom(field.getType())) {
                field.setAccessible(true);
                Server server = (Server) field.get(proxy);
                for (Connector connector : server.getConnectors()) {
                    ((ServerConnector) connector).setHost("127.0.0.1");
                }
            }
        }
        proxy.start();
        proxy.join();
    }
}
