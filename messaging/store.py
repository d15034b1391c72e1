from django.conf import settings

from messaging.dynamo import MessagingTable


def messaging_table() -> MessagingTable:
    """The configured table, looked up at call time so settings overrides apply."""
    return MessagingTable(settings.MESSAGING_TABLE)
