"""The configured table, looked up at call time so settings overrides apply."""

from django.conf import settings

from messaging.dynamo import MessagingTable
from messaging.dynamo.admin import TableAdmin
from messaging.dynamo.bulk import BulkLoader
from messaging.dynamo.people import PersonData


def messaging_table() -> MessagingTable:
    return MessagingTable(settings.MESSAGING_TABLE)


def table_admin() -> TableAdmin:
    return TableAdmin(settings.MESSAGING_TABLE)


def bulk_loader() -> BulkLoader:
    return BulkLoader(settings.MESSAGING_TABLE)


def people_table() -> PersonData:
    return PersonData(settings.MESSAGING_TABLE)
