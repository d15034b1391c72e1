"""`GET /api/me/export`: everything the caller has in the messaging table, as one JSON
document streamed a page at a time (docs/api.md, "Export").

The document is built by the same selector `manage.py ddb_export_user` prints, a piece
per conversation head and per page of messages, so a history of any length costs the
server one page of memory. Under ASGI (production) the pieces are pulled through an
async iterator: Django would otherwise read a synchronous one into a list before
sending a byte.
"""

import itertools
from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from messaging import selectors
from messaging.api.serializers import error_responses
from messaging.limits import CacheOutageAllows

EXPORT_DESCRIPTION = """\
Every conversation you are in (hidden ones too) with every message, oldest first, as one
JSON document sent as a download (`Content-Disposition: attachment`). It is streamed a
page at a time: a long history starts arriving at once. Deleted messages appear with
`"deleted": true` and an empty `message`; members whose accounts are gone appear as
"Deleted user". An expensive read, so it is limited per user (`MESSAGING_EXPORT_RATE`);
past the limit, 429 with Retry-After. If DynamoDB fails once the download has started,
the document ends early and does not parse: download it again.
"""

_EXPORT_MEMBER = {
    "type": "object",
    "properties": {
        "uuid": {"type": "string", "format": "uuid"},
        "handle": {"type": "string"},
        "display_name": {"type": "string"},
    },
    "required": ["uuid", "handle", "display_name"],
}

EXPORT_SCHEMA = {
    "type": "object",
    "properties": {
        "user": {
            "type": "object",
            "properties": {
                "uuid": {"type": "string", "format": "uuid"},
                "handle": {"type": "string"},
                "display_name": {"type": "string"},
                "email": {"type": "string", "nullable": True},
                "bio": {"type": "string"},
                "time_zone": {"type": "string"},
                "send_read_receipts": {"type": "boolean"},
                "date_joined": {"type": "string", "format": "date-time"},
            },
            "required": ["uuid", "handle", "display_name"],
        },
        "exported_at": {"type": "string", "format": "date-time"},
        "conversations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "uuid": {"type": "string", "format": "uuid"},
                    "kind": {"type": "string", "enum": ["direct", "group"]},
                    "members": {
                        "type": "array",
                        "items": _EXPORT_MEMBER,
                        "description": "Everyone in it, you first.",
                    },
                    "messages": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/Message"},
                        "description": "Oldest first, as GET /api/messages/<uuid> gives them.",
                    },
                },
                "required": ["uuid", "kind", "members", "messages"],
            },
        },
    },
    "required": ["user", "exported_at", "conversations"],
}


class ExportThrottle(CacheOutageAllows, UserRateThrottle):
    scope = "export"

    def get_rate(self) -> str:
        return settings.MESSAGING_EXPORT_RATE


def _next_or_none(chunks: Iterator[str]) -> str | None:
    return next(chunks, None)


async def _pulled(chunks: Iterator[str]) -> AsyncIterator[str]:
    # thread_sensitive: the selector's SQL runs on the thread that owns the connection.
    pull = sync_to_async(_next_or_none, thread_sensitive=True)
    while (chunk := await pull(chunks)) is not None:
        yield chunk


class PersonExportApi(APIView):
    throttle_classes = (ExportThrottle,)

    @extend_schema(
        operation_id="me_export",
        description=EXPORT_DESCRIPTION,
        responses={
            (200, "application/json"): OpenApiResponse(
                response=EXPORT_SCHEMA, description="Your conversations and messages."
            ),
            **error_responses(401, 429, 503),
        },
    )
    def get(self, request):
        chunks = selectors.person_export(user=request.user)
        # The head and the first conversation are read here, inside the view and its
        # deadline, so DynamoDB being down at the start is a 503, not a broken download.
        chunks = itertools.chain(list(itertools.islice(chunks, 2)), chunks)
        content = _pulled(chunks) if isinstance(request._request, ASGIRequest) else chunks
        response = StreamingHttpResponse(content, content_type="application/json")
        response["Content-Disposition"] = (
            f'attachment; filename="cruddur-export-{request.user.handle}.json"'
        )
        return response
