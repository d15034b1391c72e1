import logging

from django.shortcuts import render
from django.utils.deprecation import MiddlewareMixin

from messaging.errors import Invalid, NotFound, StoreUnavailable

logger = logging.getLogger(__name__)


class MessagingErrorsMiddleware(MiddlewareMixin):
    """Turns domain errors raised by pages (and the admin's read-only views) into the
    site's own 400, 404 and 503 pages. The API maps the same errors in its own
    exception handler, which runs before this. MiddlewareMixin makes it async-capable,
    so under ASGI the event streams skip the synchronous-middleware thread."""

    def process_exception(self, request, exception):
        if isinstance(exception, StoreUnavailable):
            # The reason names the endpoint and the error code, never request data.
            logger.warning("messages unavailable: %s", exception)
            # nav_unread is given so the page does not ask DynamoDB again.
            return render(request, "503.html", {"nav_unread": None}, status=503)
        if isinstance(exception, NotFound):
            return render(request, "404.html", {"reason": str(exception)}, status=404)
        if isinstance(exception, Invalid):
            return render(request, "400.html", {"reason": exception.message}, status=400)
        return None
