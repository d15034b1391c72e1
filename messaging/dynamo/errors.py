"""Errors the gateway raises; nothing above it sees botocore exceptions."""

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError


class StoreUnavailable(Exception):
    """DynamoDB cannot be reached, or kept throttling past the client's retries."""


class TableMissing(StoreUnavailable):
    """The table does not exist at the configured endpoint."""


class StreamMissing(StoreUnavailable):
    """The table has no stream (or no table)."""


class IteratorExpired(Exception):
    """A shard iterator older than 15 minutes, or one the engine forgot."""


class TrimmedData(Exception):
    """The checkpoint points at records older than the stream's 24-hour retention."""


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
    if isinstance(exc, BotoCoreError):
        return StoreUnavailable(
            f"cannot reach DynamoDB at {endpoint} ({type(exc).__name__})"
            " - is it running? `make dev` starts DynamoDB Local"
        )
    return exc
