"""One place that turns errors into HTTP responses for the API: domain errors in DRF's
exception handler, and Django's own error views for paths under /api/."""

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from messaging.errors import (
    Conflict,
    Forbidden,
    IdempotencyKeyReused,
    Invalid,
    NotFound,
    StoreUnavailable,
)

logger = logging.getLogger(__name__)

# Seconds a client should wait before retrying after a 503; DynamoDB throttling and
# endpoint hiccups clear within seconds.
STORE_RETRY_AFTER = 5


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Messages are temporarily unavailable. Try again shortly."
    default_code = "service_unavailable"
    # Seconds for Retry-After; DRF's handler reads it as a throttle's wait.
    wait: float | None = None


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This was already done."
    default_code = "conflict"


class IdempotencyConflict(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used for a different message."
    default_code = "idempotency_key_reused"


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, NotFound):
        return exceptions.NotFound(str(exc) or None)
    if isinstance(exc, Invalid):
        return exceptions.ValidationError({exc.field: [exc.message]})
    if isinstance(exc, Forbidden):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, Conflict):
        return ConflictError(str(exc) or None)
    if isinstance(exc, IdempotencyKeyReused):
        return IdempotencyConflict(str(exc) or None)
    if isinstance(exc, StoreUnavailable):
        # The gateway's message names the endpoint and table: useful to an operator,
        # not to an API client.
        logger.warning("DynamoDB unavailable: %s", exc)
        unavailable = ServiceUnavailable()
        unavailable.wait = STORE_RETRY_AFTER
        return unavailable
    return exc


def exception_handler(exc, context):
    return drf_exception_handler(_as_api_exception(exc), context)


# Django's own error views (cruddur.urls handler400/403/404/500) answer outside any DRF
# view: unknown /api/ paths, bodies Django refuses before a view runs, crashes. Under
# /api/ they answer JSON like the rest of the API; pages keep the site's templates.


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def bad_request(request, exception):
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse({"detail": "The request body is too large."}, status=413)
    return JsonResponse({"detail": "Bad request."}, status=400)


def permission_denied(request, exception):
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return JsonResponse({"detail": "You do not have permission to do this."}, status=403)


def page_not_found(request, exception):
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request):
    if not _is_api(request):
        return defaults.server_error(request)
    return JsonResponse({"detail": "Something went wrong on our side."}, status=500)
