"""Serializers the API's views share: the two resources, pages of them, and errors.

Each view nests its own InputSerializer / OutputSerializer; these are what several views
return, so the schema names them once.
"""

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from messaging import rules
from messaging.presenters import api_timestamp


class MessageBodyField(serializers.CharField):
    """A message body: text only (12345 is a 400, not the text "12345"), newlines
    counted once whether the client sent CRLF or LF, at most MAX_MESSAGE_LENGTH."""

    default_error_messages = {
        "invalid": "Message must be text.",
        "blank": "Write a message first.",
        "max_length": f"Messages are at most {rules.MAX_MESSAGE_LENGTH} characters.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", rules.MAX_MESSAGE_LENGTH)
        kwargs.setdefault("min_length", 1)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(rules.normalize_newlines(data))


class UtcDateTimeField(serializers.DateTimeField):
    """Fixed-width UTC with microseconds and `Z`, so clients can sort timestamps as
    strings."""

    def to_representation(self, value):
        return api_timestamp(value)


class MessageSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    message_group_uuid = serializers.UUIDField(source="group_uuid")
    handle = serializers.CharField(source="sender.handle")
    display_name = serializers.CharField(source="sender.display_name")
    message = serializers.CharField(
        source="body", allow_blank=True, help_text="Empty when the message was deleted."
    )
    created_at = UtcDateTimeField()
    edited_at = UtcDateTimeField(allow_null=True, help_text="When it was last edited, or null.")
    deleted = serializers.BooleanField()

    class Meta:
        ref_name = "Message"


class MemberSerializer(serializers.Serializer):
    uuid = serializers.UUIDField(source="person.uuid")
    handle = serializers.CharField(source="person.handle")
    display_name = serializers.CharField(source="person.display_name")
    last_read_at = UtcDateTimeField(
        allow_null=True,
        help_text=(
            "When they last read the conversation: null when they do not share read"
            " receipts, have not read it, or in the inbox list (read the group itself)."
        ),
    )

    class Meta:
        ref_name = "Member"


class MessageGroupSerializer(serializers.Serializer):
    """A row of the caller's inbox: the other members and the last message."""

    uuid = serializers.UUIDField(source="group_uuid")
    handle = serializers.CharField(
        allow_null=True, help_text="The other person's handle; null for a group."
    )
    display_name = serializers.CharField(
        source="title", help_text="The other person's name, or the members' names for a group."
    )
    message = serializers.CharField(source="last_message", allow_blank=True)
    created_at = UtcDateTimeField(source="last_message_at")
    unread_count = serializers.IntegerField(min_value=0)
    kind = serializers.ChoiceField(choices=["direct", "group"])
    members = MemberSerializer(many=True, source="member_states", help_text="The others.")
    muted = serializers.BooleanField()

    class Meta:
        ref_name = "MessageGroup"


class PageInputSerializer(serializers.Serializer):
    cursor = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2048,
        help_text="The `next` value of the previous page. Omit it for the first page.",
    )

    def get_fields(self):
        # Built per use so the limit comes from settings at call time.
        fields = super().get_fields()
        fields["page_size"] = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=settings.MESSAGING_MAX_PAGE_SIZE,
            help_text=f"Items per page (default {settings.MESSAGING_PAGE_SIZE}).",
        )
        return fields


def page_output(
    item_serializer: type[serializers.Serializer], name: str
) -> type[serializers.Serializer]:
    """`{"results": [item], "next": cursor | null}`."""

    class PageSerializer(serializers.Serializer):
        results = item_serializer(many=True, source="items")
        next = serializers.CharField(
            source="next_cursor",
            allow_null=True,
            help_text="Opaque cursor for the next (older) page, or null on the last page.",
        )

        class Meta:
            ref_name = name

    return PageSerializer


class ErrorDetailSerializer(serializers.Serializer):
    detail = serializers.CharField()

    class Meta:
        ref_name = "ErrorDetail"


# DRF field errors: {"field": ["message", ...]} (or "non_field_errors"); a body that is
# not JSON gets {"detail": "..."} instead.
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
    },
}

ERROR_DESCRIPTIONS = {
    400: "Invalid input: field errors, a bad cursor or page_size.",
    401: "Missing, invalid or expired credentials.",
    403: "Session authentication without a valid CSRF token.",
    404: "No such user or conversation, or not one the caller belongs to.",
    415: "The body is not JSON.",
    422: "This Idempotency-Key was already used for a different message.",
    429: "Too many requests; see Retry-After.",
    503: "DynamoDB is unreachable or throttling; see Retry-After.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    return {
        code: OpenApiResponse(
            response=FIELD_ERRORS_SCHEMA if code == 400 else ErrorDetailSerializer,
            description=ERROR_DESCRIPTIONS[code],
        )
        for code in codes
    }
