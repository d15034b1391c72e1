"""The send limit: one per user, MESSAGING_SEND_RATE, on every path that sends (the API's
POST /api/messages and the page forms), counted in Django's default cache (Redis in
production) so every worker and both paths share one history per user."""

import math

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from messaging.cache import outage_report


class CacheOutageAllows(SimpleRateThrottle):
    """A cache outage lifts the limit rather than failing the request (DESIGN §5)."""

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as exc:
            outage_report(exc, f"{self.scope} throttle (not enforced)")
            return True


class MessageSendThrottle(CacheOutageAllows, UserRateThrottle):
    """DRF's sliding-window throttle, keyed on the user: the API uses it as a throttle
    class, the pages through `send_wait` below, so both count against one history."""

    scope = "message_send"

    def get_rate(self) -> str:
        # DRF copies DEFAULT_THROTTLE_RATES once, at import; the setting is read per
        # request instead, like every MESSAGING_* setting.
        return settings.MESSAGING_SEND_RATE


def send_wait(request) -> int | None:
    """None when the signed-in user may send now (and counts this send), else the whole
    seconds to wait."""
    throttle = MessageSendThrottle()
    if throttle.allow_request(request, None):
        return None
    return max(1, math.ceil(throttle.wait() or 1))


def send_limited_message(wait: int) -> str:
    return f"You're sending messages too fast. Wait {wait} seconds, then send again."
