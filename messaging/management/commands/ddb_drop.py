import sys

from django.core.management.base import CommandError

from messaging.dynamo.client import endpoint_description
from messaging.management.base import DynamoCommand
from messaging.store import table_admin


class Command(DynamoCommand):
    help = (
        "Delete the messaging table (MESSAGING_TABLE) and every conversation in it. Asks"
        " for confirmation on a terminal; without one (a script, CI) it needs --yes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, yes=False, **options):
        table = table_admin()
        where = endpoint_description()
        # Checked first, so nobody is asked to confirm deleting what is not there.
        if table.name not in table.list_tables():
            self.stdout.write(f"table {table.name} does not exist at {where}; nothing to do")
            return
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError(
                    f"refusing to delete table {table.name} at {where} without a terminal to"
                    " confirm on; pass --yes"
                )
            answer = input(f"Delete table {table.name} at {where} and all its data? [y/N] ")
            if answer.strip().lower() not in {"y", "yes"}:
                raise CommandError("aborted; nothing was deleted")
        if table.drop():
            self.stdout.write(self.style.SUCCESS(f"deleted table {table.name} at {where}"))
        else:
            self.stdout.write(f"table {table.name} does not exist at {where}; nothing to do")
