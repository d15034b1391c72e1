"""Live events over HTTP: `GET /api/events` (Server-Sent Events) and
`POST /api/message_groups/<uuid>/typing`.

The stream is a plain async Django view rather than DRF (whose views are synchronous):
under an ASGI server an open stream is a parked coroutine and one Redis pub/sub socket,
and no Postgres connection, so one process holds thousands. It authenticates once, the
way the rest of the API does (token, Cognito bearer, or the session cookie). A heartbeat
only checks the clock (a token's or a Cognito JWT's expiry); a logout, a deleted token or
a password change reaches the user's streams as a `credentials_changed` notice on their
channel (messaging/events/credentials.py), and only then does each stream ask Postgres
about its own credentials, so it ends at once.
"""

import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections, connections
from django.http import JsonResponse, StreamingHttpResponse
from django.utils.crypto import constant_time_compare
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
from messaging.api.tokens import token_expired
from messaging.api.views import GROUP_UUID_PARAMETER, group_uuid_from_path
from messaging.events import CREDENTIALS_CHANGED
from messaging.events.subscribe import Subscription
from messaging.events.web import target as events_target
from messaging.limits import CacheOutageAllows

logger = logging.getLogger("messaging.events")

T = TypeVar("T")

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


# A stream lasts hours. Its request's own thread (where the ORM's async calls run) would
# keep its Postgres connection all that time, one per open stream past the server's
# max_connections (100 by default). Credential reads instead run on this pool, which
# bounds the Postgres connections that every stream of the process shares.
_database = ThreadPoolExecutor(max_workers=2, thread_name_prefix="events-db")
# Besides each `credentials_changed` notice, every stream re-reads its credentials this
# often: a notice lost to a Redis blip, or a session that expired, ends it by then.
RECHECK_SECONDS = 300.0


async def _read(query: Callable[[], T]) -> T:
    def run() -> T:
        # As Django does around each request: drop a connection past CONN_MAX_AGE or
        # broken (Postgres restarted) before using it, and after.
        close_old_connections()
        try:
            return query()
        finally:
            close_old_connections()

    return await sync_to_async(run, thread_sensitive=False, executor=_database)()


@dataclass(frozen=True)
class Credentials:
    """Who the stream is for, until when (`expires_at`, Unix time), and how to ask
    Postgres whether the credential still signs them in (None: nothing to revoke here)."""

    user: Any
    still_valid: Callable[[], bool] | None = None
    expires_at: float | None = None

    def expired(self) -> bool:
        return self.expires_at is not None and time.time() >= self.expires_at

    async def revoked(self) -> bool:
        if self.expired():
            return True
        return self.still_valid is not None and not await _read(self.still_valid)


async def _token_user(key: str) -> Credentials:
    token = await _read(
        lambda: Token.objects.select_related("user").filter(key=key, user__is_active=True).first()
    )
    if token is None:
        raise exceptions.AuthenticationFailed("Invalid token.")
    if token_expired(token):
        raise exceptions.AuthenticationFailed("Token expired.")
    return Credentials(
        user=token.user,
        still_valid=Token.objects.filter(key=key, user__is_active=True).exists,
        expires_at=token.created.timestamp() + settings.API_TOKEN_LIFETIME,
    )


async def _cognito_user(request) -> Credentials | None:
    found = await sync_to_async(CognitoJWTAuthentication().authenticate)(request)
    if found is None:
        return None
    user, claims = found
    return Credentials(user=user, expires_at=claims["exp"])


async def _session_user(request) -> Credentials | None:
    # Loaded already (the time zone middleware reads it for every request): no query.
    user = await request.auser()
    if not user.is_authenticated:
        return None
    session_key = request.session.session_key
    auth_hash = await request.session.aget(HASH_SESSION_KEY)
    store_class = type(request.session)

    def still_valid() -> bool:
        # A fresh load: logout deletes the session; a password change elsewhere leaves
        # this session's hash stale, which Django's own check would refuse next request.
        data = store_class(session_key).load()
        if data.get(SESSION_KEY) != str(user.pk) or data.get(HASH_SESSION_KEY) != auth_hash:
            return False
        current = type(user).objects.filter(pk=user.pk, is_active=True).first()
        return current is not None and constant_time_compare(
            auth_hash, current.get_session_auth_hash()
        )

    return Credentials(user=user, still_valid=still_valid)


async def _authenticate(request) -> Credentials | None:
    """The request's credentials, or None; AuthenticationFailed for bad ones."""
    parts = get_authorization_header(request).split()
    if parts and parts[0].lower() == b"token":
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        return await _token_user(parts[1].decode("latin-1"))
    if parts and parts[0].lower() == b"bearer":
        return await _cognito_user(request)
    return await _session_user(request)


async def _frames(subscription: Subscription, credentials: Credentials) -> AsyncIterator[str]:
    heartbeat = settings.MESSAGING_EVENTS_HEARTBEAT
    try:
        yield f"retry: {settings.MESSAGING_EVENTS_RETRY_MS}\n: connected\n\n"
        beat_at = time.monotonic() + heartbeat
        recheck_at = time.monotonic() + RECHECK_SECONDS
        while True:
            event = await subscription.next(timeout=max(0.0, beat_at - time.monotonic()))
            if event is not None and event.name != CREDENTIALS_CHANGED:
                yield event.sse()
            elif event is not None or time.monotonic() >= recheck_at:
                recheck_at = time.monotonic() + RECHECK_SECONDS
                if await credentials.revoked():
                    break
            if time.monotonic() < beat_at:
                continue
            if credentials.expired():
                break
            yield ": heartbeat\n\n"
            beat_at = time.monotonic() + heartbeat
        yield ": signed out\n\n"
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
    # Whatever this request's thread read (the session, the user) is in memory now; its
    # connection would otherwise stay open, idle, for as long as the stream does.
    await sync_to_async(connections.close_all)()
    target = events_target()
    if not target.redis_url:
        return _problem(
            503, "Live events are not available here; poll the API.", **{"Retry-After": "60"}
        )
    subscription = Subscription(target=target, user_uuid=found.user.uuid)
    try:
        await subscription.__aenter__()
    except Exception as exc:
        _unavailable(exc)
        return _problem(503, "Live events are unavailable; poll the API.", **{"Retry-After": "10"})
    response = StreamingHttpResponse(
        _frames(subscription, found), content_type="text/event-stream"
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
