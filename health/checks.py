"""What readiness means for Cruddur: Postgres, the cache (Redis in production) and the
messaging table each answer within the probe timeout.

django-health-check supplies the Postgres and cache checks, the per-check timeout and
the concurrent run; the DynamoDB check is ours because only the gateway calls boto3.
"""

import dataclasses
import datetime

from django.conf import settings
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceUnavailable

from messaging.dynamo.errors import StoreUnavailable
from messaging.health import table_ready


@dataclasses.dataclass
class MessagingTable(HealthCheck):
    """DescribeTable on MESSAGING_TABLE (messaging.health.table_ready)."""

    def run(self) -> None:
        try:
            table_ready()
        except StoreUnavailable as exc:
            raise ServiceUnavailable(str(exc)) from exc


def readiness_checks() -> dict[str, HealthCheck]:
    """The checks by the name /readyz reports them under, built at call time so the
    timeout setting applies."""
    timeout = datetime.timedelta(seconds=settings.HEALTH_CHECK_TIMEOUT)
    database, table = Database(), MessagingTable()
    database.timeout = table.timeout = timeout
    return {
        "database": database,
        # Cache's timeout is also its probe key's expiry, which Django rounds down to
        # whole seconds (0 would expire the key before it is read back).
        "cache": Cache(timeout=max(timeout, datetime.timedelta(seconds=1))),
        "dynamodb": table,
    }
