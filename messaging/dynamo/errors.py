"""Every outcome the gateway reports by exception; nothing above it sees botocore's.

Two kinds: the store failing (`StoreUnavailable` and its subclasses, which callers turn
into a 503 or a retry), and a write's outcome that the caller decides on
(`IdempotentReplay`, `ConversationExists`, `NotAMember`, `Blocked`,
`MessageChangeRefused`, `MessageMissing`, `ConditionFailed`).
"""

from uuid import UUID

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from messaging.dynamo.records import IdempotencyRecord, Membership


class StoreUnavailable(Exception):
    """DynamoDB cannot be reached, is too slow for the request's deadline, or kept
    throttling past the client's retries."""


class TableMissing(StoreUnavailable):
    """The table does not exist at the configured endpoint."""


class StreamMissing(StoreUnavailable):
    """The table has no stream (or no table)."""


class DeadlineExceeded(BotoCoreError):
    """The request's deadline leaves no time for another DynamoDB attempt."""

    fmt = "no time left before the request's deadline ({remaining:.2f}s)"


class IteratorExpired(Exception):
    """A shard iterator older than 15 minutes, or one the engine forgot."""


class TrimmedData(Exception):
    """The checkpoint points at records older than the stream's 24-hour retention."""


class IdempotentReplay(Exception):
    """The caller's idempotency key was already used; `record` is what it created."""

    def __init__(self, record: IdempotencyRecord):
        super().__init__("idempotency key already used")
        self.record = record


class ConversationExists(Exception):
    """`conversation_create` found the conversation already there. `membership` is the
    sender's, when the cancelled write could return it."""

    def __init__(self, membership: Membership | None):
        super().__init__("conversation already exists")
        self.membership = membership


class NotAMember(Exception):
    """The caller has no row in the conversation (or the conversation does not exist)."""


class Blocked(Exception):
    """A block between members refused the write (a direct send, or a new conversation
    holding two people one of whom blocked the other). `pairs` holds each pair of
    members the write found a block between (which of the two blocked is not said)."""

    def __init__(self, pairs: frozenset[frozenset[UUID]]):
        super().__init__("blocked")
        self.pairs = pairs


class MessageChangeRefused(Exception):
    """An edit or deletion the message's own condition refused: `reason` is "sender"
    (someone else's message), "window" (too old to edit) or "deleted"."""

    def __init__(self, reason: str):
        super().__init__(f"message change refused ({reason})")
        self.reason = reason


class MessageMissing(Exception):
    """No such message in the conversation (or it went while being changed)."""


class ConditionFailed(Exception):
    """A conditional write found the item not in the state it requires."""


UNAVAILABLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
}


def translate(exc: Exception, *, table_name: str, endpoint: str) -> Exception:
    """Map a boto error to the gateway's own, or return it unchanged."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            return TableMissing(
                f"table {table_name} not found at {endpoint}"
                " - run: python manage.py ddb_schema_load"
            )
        if code in UNAVAILABLE_CODES:
            return StoreUnavailable(f"DynamoDB at {endpoint} refused the request ({code})")
        return exc
    if isinstance(exc, NoCredentialsError):
        return StoreUnavailable(
            "no AWS credentials found - for a local engine export"
            " AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local (the Makefile does)"
        )
    if isinstance(exc, DeadlineExceeded):
        return StoreUnavailable(f"DynamoDB at {endpoint} did not answer within the deadline")
    if isinstance(exc, BotoCoreError):
        return StoreUnavailable(
            f"cannot reach DynamoDB at {endpoint} ({type(exc).__name__})"
            " - is it running? `make dev` starts DynamoDB Local"
        )
    return exc
