"""The messaging table's part of the readiness probe."""

from messaging.dynamo.errors import StoreUnavailable
from messaging.store import messaging_table

# UPDATING still serves reads and writes (an index being added, a capacity change).
SERVING_STATUSES = {"ACTIVE", "UPDATING"}


def table_ready() -> str:
    """The table's status, through one DescribeTable: the cheapest call that proves the
    endpoint, the credentials and the table all at once, and costs no capacity.

    Raises StoreUnavailable (TableMissing when it does not exist) when the table cannot
    serve requests.
    """
    status = messaging_table().status()
    if status not in SERVING_STATUSES:
        raise StoreUnavailable(f"table is {status}")
    return status
