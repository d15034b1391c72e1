"""Live events over HTTP: `GET /api/events` (Server-Sent Events) and
`POST /api/message_groups/<uuid>/typing`.

The stream is a plain async Django view rather than DRF (whose views are synchronous):
under an ASGI server an open stream is a parked coroutine and one Redis pub/sub socket,
not a thread, so one process holds thousands. It authenticates the way the rest of the
API does (token, Cognito bearer, or the session cookie) and checks those credentials
again at every heartbeat, so a logout or a revoked token ends the stream within one
`MESSAGING_EVENTS_HEARTBEAT`.
"""

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.core.handlers.asgi import ASGIRequest
from django.http import JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.authentication import get_authorization_header
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from messaging import services
from messaging.api.authentication import CognitoJWTAuthentication
from messaging.api.serializers import error_responses
from messaging.api.views import GROUP_UUID_PARAMETER, group_uuid_from_path
from messaging.events.subscribe import Subscription
from messaging.events.web import target as events_target
from messaging.limits import CacheOutageAllows

logger = logging.getLogger("messaging.events")

Check = Callable[[], Awaitable[bool]]

EVENTS_DESCRIPTION = """\
Server-Sent Events for the signed-in user (`text/event-stream`; token, Cognito bearer or
session auth). Each event is an `event:` line naming it and one `data:` line of JSON:

- `message`: a new message in one of your conversations (the message fields, plus
  `sender_uuid`; `handle` and `display_name` may be null when the stream worker sent it).
- `message_updated`: a message was edited or deleted (same shape).
- `inbox`: `{"message_group_uuid", "last_message_at"}`: a conversation changed
  (new message, or you read it elsewhere): re-read `GET /api/message_groups`.
- `read`: `{"message_group_uuid", "member_uuid", "last_read_at"}`: another member
  read up to `last_read_at` (never sent for members who turned read receipts off).
- `typing`: `{"message_group_uuid", "handle", "display_name"}`: someone is typing.

A comment line (`: heartbeat`) comes at least every 15 seconds; the stream starts with a
`retry:` hint and ends when your session or token stops being valid. Events are not
stored: after a reconnect, re-read the first pages of the API to catch up. 503 when live
events are unavailable (no Redis): poll the API instead.

    curl -N http://127.0.0.1:8000/api/events -H "Authorization: Token $TOKEN"
"""


WARNING_INTERVAL = 60.0
_warned_at: float | None = None


def _unavailable(exc: Exception) -> None:
    """Log an outage at most once per WARNING_INTERVAL: thousands of streams fail at
    once when Redis does."""
    global _warned_at
    now = time.monotonic()
    if _warned_at is not None and now - _warned_at < WARNING_INTERVAL:
        return
    _warned_at = now
    logger.warning("live event streams unavailable (%s)", type(exc).__name__)


def _problem(code: int, detail: str, **headers) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=code, headers=headers)


async def _token_user(key: str):
    token = await Token.objects.select_related("user").filter(key=key).afirst()
    if token is None or not token.user.is_active:
        raise exceptions.AuthenticationFailed("Invalid token.")

    async def still_valid() -> bool:
        return await Token.objects.filter(key=key, user__is_active=True).aexists()

    return token.user, still_valid


async def _cognito_user(request):
    found = await sync_to_async(CognitoJWTAuthentication().authenticate)(request)
    if found is None:
        return None
    user, claims = found
    expires = claims["exp"]

    async def still_valid() -> bool:
        return time.time() < expires

    return user, still_valid


async def _session_user(request):
    user = await request.auser()
    if not user.is_authenticated:
        return None
    session_key = request.session.session_key
    auth_hash = await request.session.aget(HASH_SESSION_KEY)
    store_class = type(request.session)

    async def still_valid() -> bool:
        # A fresh load: logout deletes the session, a password change alters its hash.
        data = await store_class(session_key).aload()
        return data.get(SESSION_KEY) == str(user.pk) and data.get(HASH_SESSION_KEY) == auth_hash

    return user, still_valid


async def _authenticate(request):
    """(user, still_valid) or None; AuthenticationFailed for bad credentials."""
    parts = get_authorization_header(request).split()
    if parts and parts[0].lower() == b"token":
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        return await _token_user(parts[1].decode("latin-1"))
    if parts and parts[0].lower() == b"bearer":
        return await _cognito_user(request)
    return await _session_user(request)


async def _frames(subscription: Subscription, still_valid: Check) -> AsyncIterator[str]:
    heartbeat = settings.MESSAGING_EVENTS_HEARTBEAT
    try:
        yield f"retry: {settings.MESSAGING_EVENTS_RETRY_MS}\n: connected\n\n"
        check_at = time.monotonic() + heartbeat
        while True:
            event = await subscription.next(timeout=max(0.0, check_at - time.monotonic()))
            if event is not None:
                yield event.sse()
                if time.monotonic() < check_at:
                    continue
            if not await still_valid():
                yield ": signed out\n\n"
                return
            yield ": heartbeat\n\n"
            check_at = time.monotonic() + heartbeat
    except Exception as exc:
        # Redis went away mid-stream, or the client fell too far behind: end it; the
        # client reconnects and re-syncs.
        _unavailable(exc)
    finally:
        await subscription.close()


# Reading only: CSRF protects writes, and every other method is a 405 here.
@csrf_exempt
async def events_stream(request):
    if not isinstance(request, ASGIRequest):
        # A WSGI worker would hold a thread per stream and never flush it.
        return _problem(
            503, "Live events need the ASGI server; poll the API.", **{"Retry-After": "60"}
        )
    if request.method != "GET":
        return _problem(405, f'Method "{request.method}" not allowed.', Allow="GET")
    try:
        found = await _authenticate(request)
    except exceptions.APIException as exc:
        return _problem(exc.status_code, str(exc.detail), **{"WWW-Authenticate": "Token"})
    if found is None:
        return _problem(
            401,
            "Authentication credentials were not provided.",
            **{"WWW-Authenticate": "Token"},
        )
    user, still_valid = found
    target = events_target()
    if not target.redis_url:
        return _problem(
            503, "Live events are not available here; poll the API.", **{"Retry-After": "60"}
        )
    subscription = Subscription(target=target, user_uuid=user.uuid)
    try:
        await subscription.__aenter__()
    except Exception as exc:
        _unavailable(exc)
        return _problem(503, "Live events are unavailable; poll the API.", **{"Retry-After": "10"})
    response = StreamingHttpResponse(
        _frames(subscription, still_valid), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache, no-transform"
    # Proxies (nginx, some load balancers) must pass each frame on at once.
    response["X-Accel-Buffering"] = "no"
    return response


def events_schema(result, generator, request, public):
    """drf-spectacular postprocessing hook: documents `GET /api/events`, which is not a
    DRF view (DRF views are synchronous) and so is invisible to the generator."""
    errors = {
        str(code): {
            "description": response.description,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ErrorDetail"}}
            },
        }
        for code, response in error_responses(401, 503).items()
    }
    result["paths"]["/api/events"] = {
        "get": {
            "operationId": "events_stream",
            "summary": "Live events for the signed-in user (Server-Sent Events).",
            "description": EVENTS_DESCRIPTION,
            "tags": ["events"],
            "security": [{"tokenAuth": []}, {"cognitoJWT": []}, {"cookieAuth": []}],
            "responses": {
                "200": {
                    "description": "The event stream, open until the client leaves.",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
                **errors,
            },
        }
    }
    return result


class TypingThrottle(CacheOutageAllows, UserRateThrottle):
    scope = "typing"

    def get_rate(self) -> str:
        return settings.MESSAGING_TYPING_RATE


class TypingApi(APIView):
    throttle_classes = (TypingThrottle,)

    @extend_schema(
        operation_id="message_groups_typing",
        parameters=[GROUP_UUID_PARAMETER],
        request=None,
        description="Tell the other members you are typing: a `typing` event on their "
        "streams, never stored. Pages send it at most every few seconds while typing.",
        responses={
            204: OpenApiResponse(description="The others were told."),
            **error_responses(401, 403, 404, 429, 503),
        },
    )
    def post(self, request, group_uuid: str):
        services.typing_announce(user=request.user, group_uuid=group_uuid_from_path(group_uuid))
        return Response(status=status.HTTP_204_NO_CONTENT)
