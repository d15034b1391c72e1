import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from messaging.dynamo.client import deadline
from messaging.errors import Invalid, NotFound, StoreUnavailable

logger = logging.getLogger(__name__)


class DynamoDeadlineMiddleware:
    """Every request gets its answer within DYNAMODB_REQUEST_DEADLINE seconds: DynamoDB
    calls past it are not attempted, and the request answers 503 instead (DESIGN §6)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with deadline(settings.DYNAMODB_REQUEST_DEADLINE):
            return self.get_response(request)


class MessagingErrorsMiddleware:
    """Turns domain errors raised by pages (and the admin's read-only views) into the
    site's own 400, 404 and 503 pages. The API maps the same errors in its own
    exception handler, which runs before this."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

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
