"""Rate limits, kept in Django's default cache (Redis in production) so every worker
counts against the same history."""

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

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
    scope = "message_send"

    def get_rate(self) -> str:
        # DRF copies DEFAULT_THROTTLE_RATES once, at import; the setting is read per
        # request instead, like every MESSAGING_* setting.
        return settings.MESSAGING_SEND_RATE


class AuthTokenThrottle(CacheOutageAllows, AnonRateThrottle):
    """Per client address, so password guessing against /api/auth/token is slow."""

    scope = "auth_token"

    def get_rate(self) -> str:
        return settings.API_AUTH_TOKEN_RATE
