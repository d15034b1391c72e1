from messaging.dynamo.client import endpoint_description
from messaging.management.base import DynamoCommand
from messaging.store import table_admin


class Command(DynamoCommand):
    help = (
        "Create the messaging table (MESSAGING_TABLE) from messaging/dynamo/schema.py: keys,"
        " the indexes, the stream and TTL. Safe to run again: an existing table keeps its"
        " data and gains any index it lacks (run ddb_migrate to upgrade a v1 table)."
    )

    def handle(self, *args, **options):
        table = table_admin()
        where = endpoint_description()
        if table.create():
            self.stdout.write(self.style.SUCCESS(f"created table {table.name} at {where}"))
            return
        added = table.indexes_ensure()
        if added:
            self.stdout.write(f"table {table.name} at {where}: added index {', '.join(added)}")
        else:
            self.stdout.write(f"table {table.name} already exists at {where}; left unchanged")
