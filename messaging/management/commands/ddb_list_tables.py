from messaging.dynamo.client import endpoint_description
from messaging.management.base import DynamoCommand
from messaging.store import table_admin


class Command(DynamoCommand):
    help = "List the DynamoDB tables at the configured endpoint, marking the messaging table."

    def handle(self, *args, **options):
        table = table_admin()
        names = table.list_tables()
        self.stdout.write(f"{len(names)} table(s) at {endpoint_description()}")
        for name in names:
            marker = "  <- MESSAGING_TABLE" if name == table.name else ""
            self.stdout.write(f"  {name}{marker}")
        if table.name not in names:
            self.stdout.write(f"{table.name} is not there - run: python manage.py ddb_schema_load")
