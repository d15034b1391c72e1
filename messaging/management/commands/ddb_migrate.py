"""`manage.py ddb_migrate`: upgrade a v1 table to v2 in place (README, "Upgrading from v1")."""

from messaging.management.base import DynamoCommand
from messaging.store import table_admin


class Command(DynamoCommand):
    help = (
        "Upgrade the messaging table from v1 to v2 in place: add the v2 indexes, convert"
        " every v1 pair (conversation item, bounded rows), then drop v1's inbox index."
        " Idempotent and resumable: run it again after a kill and it converts what is left."
        " --dry-run says what it would change and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="report only; write nothing")

    def handle(self, *args, dry_run=False, **options):
        table = table_admin()
        report = table.migrate(dry_run=dry_run, progress=self.stdout.write)
        for line in report.lines():
            self.stdout.write(line)
        if not dry_run:
            self.stdout.write(self.style.SUCCESS(f"{table.name} is at v2"))
