import logging
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.deprecation import MiddlewareMixin

from messaging.dynamo.client import deadline
from messaging.errors import Invalid, NotFound, StoreUnavailable

logger = logging.getLogger(__name__)


class DynamoDeadlineMiddleware:
    """Every request gets its answer within DYNAMODB_REQUEST_DEADLINE seconds: DynamoDB
    calls past it are not attempted, and the request answers 503 instead (DESIGN §6).
    Sync and async alike, so the event streams stay off Django's synchronous thread."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self._acall(request)
        with deadline(settings.DYNAMODB_REQUEST_DEADLINE):
            return self.get_response(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        with deadline(settings.DYNAMODB_REQUEST_DEADLINE):
            return await self.get_response(request)


class MessagingErrorsMiddleware(MiddlewareMixin):
    """Turns domain errors raised by pages (and the admin's read-only views) into the
    site's own 400, 404 and 503 pages. The API maps the same errors in its own
    exception handler, which runs before this. MiddlewareMixin makes it async-capable,
    so under ASGI the event streams skip the synchronous-middleware thread."""

    def process_exception(self, request, exception):
        if isinstance(exception, StoreUnavailable):
            # The reason names the endpoint and the error code, never request data.
            logger.warning("messages unavailable: %s", exception)
            # nav_unread is given so the page does not ask DynamoDB again; a draft that
            # was not sent comes back in the page, so nothing typed is lost.
            context = {"nav_unread": None, "draft": request.POST.get("message", "")}
            response = render(request, "503.html", context, status=503)
            response["Retry-After"] = "5"
            return response
        if isinstance(exception, NotFound):
            return render(request, "404.html", {"reason": str(exception)}, status=404)
        if isinstance(exception, Invalid):
            return render(request, "400.html", {"reason": exception.message}, status=400)
        return None
