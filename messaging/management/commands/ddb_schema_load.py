from messaging.dynamo.client import endpoint_description
from messaging.management.base import DynamoCommand
from messaging.store import messaging_table


class Command(DynamoCommand):
    help = (
        "Create the messaging table (MESSAGING_TABLE) from messaging/dynamo/schema.py: keys,"
        " the inbox index, the stream and TTL. Safe to run again: an existing table is left"
        " as it is."
    )

    def handle(self, *args, **options):
        table = messaging_table()
        where = endpoint_description()
        if table.create():
            self.stdout.write(self.style.SUCCESS(f"created table {table.name} at {where}"))
        else:
            self.stdout.write(f"table {table.name} already exists at {where}; left unchanged")
