"""Error reporting to Sentry, on only when SENTRY_DSN is set (settings.py calls `init`).

No personal data leaves: send_default_pii is off (no user, no IP, no cookies), request
bodies are never attached, frame locals (which hold message bodies and tokens) are not
collected, and `scrub` strips whatever request data remains but the method and path.
"""

from typing import Any

import sentry_sdk
from sentry_sdk.types import Event

# Headers that say nothing about the user and help to group errors.
KEPT_HEADERS = {"content-type", "accept", "x-request-id"}


def scrub(event: Event, hint: dict[str, Any]) -> Event:
    request = event.get("request")
    if isinstance(request, dict):
        for field in ("data", "cookies", "query_string", "env"):
            request.pop(field, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: value for name, value in headers.items() if name.lower() in KEPT_HEADERS
            }
        url = request.get("url")
        if isinstance(url, str):
            request["url"] = url.split("?", 1)[0]
    event.pop("user", None)
    return event


def init(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub,
        before_send_transaction=scrub,
    )
