"""Domain errors. Views, the API's exception handler and commands map these to output."""

from messaging.dynamo.errors import StoreUnavailable, TableMissing

__all__ = [
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
    def __init__(self):
        super().__init__("cursor", "This cursor is not valid. Start again from the first page.")


class IdempotencyKeyReused(MessagingError):
    """The Idempotency-Key was already used for a different request."""
