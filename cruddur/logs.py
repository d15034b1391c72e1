"""Request logging: one line per request, and the request's id on every line it logs.

`RequestLogMiddleware` opens a `RequestContext` (a contextvar, so it follows the request
into the thread Django runs a sync view in), counts SQL through
`connection.execute_wrapper` and DynamoDB calls through botocore event hooks on the
gateway's client, and logs `request` when the response is ready. `RequestIdFilter` puts
the id on every record; `JsonFormatter` writes one JSON object a line (production) and
`TextFormatter` a readable line (`make dev`).

Only names, ids, counts and timings are logged: never a body, a query string, a header
value other than the request id, a token or a password.
"""

import contextvars
import dataclasses
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from django.core.signals import request_finished
from django.db import connection
from django.utils.functional import SimpleLazyObject, empty

from messaging.dynamo.client import CAPACITY_OPERATIONS, add_client_hook

logger = logging.getLogger("cruddur.request")

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only if it is short and plain (a uuid, an ALB trace id), so a
# client cannot write arbitrary text into every log line of its request.
ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:=+/-]{1,128}")


@dataclasses.dataclass
class RequestContext:
    request_id: str
    dynamodb_requests: int = 0
    dynamodb_capacity: float = 0.0
    sql_queries: int = 0


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "cruddur_request", default=None
)


def current_request_id() -> str | None:
    context = _current.get()
    return context.request_id if context else None


# --- DynamoDB counting (botocore event hooks, registered on every client) ----------------


def _ask_capacity(params, model, **_):
    if _current.get() is not None and model.name in CAPACITY_OPERATIONS:
        params.setdefault("ReturnConsumedCapacity", "TOTAL")


def _count_call(model, **_):
    context = _current.get()
    if context is not None:
        context.dynamodb_requests += 1


def _count_capacity(parsed, **_):
    context = _current.get()
    if context is None:
        return
    consumed = parsed.get("ConsumedCapacity")
    entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
    context.dynamodb_capacity += sum(entry.get("CapacityUnits", 0.0) for entry in entries)


def _install_hooks(service: str, client) -> None:
    if service != "dynamodb":
        return
    events = client.meta.events
    # unique_id makes registering twice (a test re-creating the middleware) a no-op.
    events.register("provide-client-params.dynamodb", _ask_capacity, unique_id="cruddur-cap")
    events.register("before-call.dynamodb", _count_call, unique_id="cruddur-count")
    events.register("after-call.dynamodb", _count_capacity, unique_id="cruddur-consumed")


# --- the middleware ----------------------------------------------------------------------


def _request_id(request) -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    if ACCEPTED_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def _user_uuid(request) -> str | None:
    user = getattr(request, "user", None)
    # A user nobody looked at stays unloaded: logging must not cost a session query.
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    if not user.is_authenticated:
        return None
    return str(user.uuid)


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        add_client_hook(_install_hooks)

    def __call__(self, request):
        context = RequestContext(request_id=_request_id(request))
        # Not reset on the way out: Django logs 4xx and 5xx responses ("django.request")
        # after the middleware returns, and that line belongs to this request too.
        # request_finished ends it.
        _current.set(context)
        started = time.perf_counter()
        status = 500
        try:
            with connection.execute_wrapper(self._count_sql):
                response = self.get_response(request)
            status = response.status_code
            response[REQUEST_ID_HEADER] = context.request_id
            return response
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            logger.info(
                "%s %s %s %.1fms ddb=%d sql=%d",
                request.method,
                request.path,
                status,
                duration_ms,
                context.dynamodb_requests,
                context.sql_queries,
                extra={
                    "http": {
                        "method": request.method,
                        "path": request.path,
                        "status": status,
                        "duration_ms": round(duration_ms, 1),
                    },
                    "user_uuid": _user_uuid(request),
                    "dynamodb": {
                        "requests": context.dynamodb_requests,
                        "consumed_capacity": round(context.dynamodb_capacity, 2),
                    },
                    "sql_queries": context.sql_queries,
                },
            )

    def _count_sql(self, execute, sql, params, many, context):
        request_context = _current.get()
        if request_context is not None:
            request_context.sql_queries += 1
        return execute(sql, params, many, context)


def _end_request(**_) -> None:
    _current.set(None)


request_finished.connect(_end_request, dispatch_uid="cruddur.logs.end_request")


# --- filter and formatters ------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Stamps every record with the id of the request being served ("-" outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, the record's
    `extra` fields, and the exception's type and traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        entry.update(
            {key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES}
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        return super().format(record)
