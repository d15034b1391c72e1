"""Domain errors. Views, the API's exception handler and commands map these to output.

The gateway's outcomes (`messaging.dynamo.errors`) stay below the services; of them only
`StoreUnavailable` (and its `TableMissing`) passes up unchanged, because every layer
answers it the same way: try again shortly.
"""

from messaging.dynamo.errors import StoreUnavailable, TableMissing

__all__ = [
    "Conflict",
    "Forbidden",
    "IdempotencyKeyReused",
    "Invalid",
    "InvalidCursor",
    "MessagingError",
    "NotFound",
    "StoreUnavailable",
    "TableMissing",
]


class MessagingError(Exception):
    pass


class NotFound(MessagingError):
    """No such user or conversation, or not one the caller may see (never says which)."""


class Invalid(MessagingError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class InvalidCursor(Invalid):
    def __init__(self) -> None:
        super().__init__("cursor", "This cursor is not valid. Start again from the first page.")


class Forbidden(MessagingError):
    """The caller may see this but not do this to it."""


class Conflict(MessagingError):
    """The request would repeat something that may happen only once (a second report of
    the same message)."""


class IdempotencyKeyReused(MessagingError):
    """The Idempotency-Key was already used for a different request."""
