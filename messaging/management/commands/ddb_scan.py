from itertools import islice

from messaging.management.base import DynamoCommand
from messaging.store import table_admin


class Command(DynamoCommand):
    help = (
        "Print every item of the messaging table, one readable line each, reading every"
        " page of the Scan. A Scan reads the whole table: for operators, never for requests."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="stop after N items")

    def handle(self, *args, limit=None, **options):
        table = table_admin()
        count = 0
        for row in islice(table.scan_summaries(), limit):
            self.stdout.write(f"{row['type']:<12} {row['pk']:<44} {row['sk']:<64} {row['detail']}")
            count += 1
        self.stdout.write(f"{count} item(s) in {table.name}" + (" (limited)" if limit else ""))
