from django.core.management.base import BaseCommand, CommandError

from messaging.errors import StoreUnavailable


class DynamoCommand(BaseCommand):
    """A command that talks to the messaging table: DynamoDB failures become one
    actionable line and exit code 1, never a traceback."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except StoreUnavailable as exc:
            raise CommandError(str(exc)) from exc
