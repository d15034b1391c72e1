from django.core.management.base import CommandError

from messaging import selectors
from messaging.errors import NotFound
from messaging.management.base import DynamoCommand


class Command(DynamoCommand):
    help = (
        "Write one user's export (every conversation they are in, with every message) as"
        " JSON: the document GET /api/me/export gives them, read a page at a time."
    )

    def add_arguments(self, parser):
        parser.add_argument("handle", help="the user's handle (@ optional)")
        parser.add_argument("--output", help="write to this file instead of stdout")

    def handle(self, *args, handle, output=None, **options):
        try:
            user = selectors.user_get_by_handle(handle=handle)
        except NotFound as exc:
            raise CommandError(str(exc)) from exc
        chunks = selectors.person_export(user=user)
        if output is None:
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
            return
        with open(output, "w", encoding="utf-8") as file:
            file.writelines(chunks)
        self.stderr.write(f"wrote the export of @{user.handle} to {output}")
