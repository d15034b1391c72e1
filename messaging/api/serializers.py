"""Serializers the API's views share: the two resources, pages of them, and errors.

Each view nests its own InputSerializer / OutputSerializer; these are what several views
return, so the schema names them once.
"""

import re

from django.conf import settings
from django.core.validators import RegexValidator
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.utils import html

from messaging import rules
from messaging.presenters import api_timestamp


class StrictCharField(serializers.CharField):
    """A string, and only a string: DRF's CharField turns `12345` into "12345", so a
    client's type mistake would be stored instead of refused."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class MessageBodyField(StrictCharField):
    """A message body: text only, with newlines counted once whether the client sent
    CRLF or LF (what the page's counter shows is what the limit counts)."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = rules.normalize_newlines(data)
        return super().to_internal_value(data)


# The one spelling of a uuid the schema's `format: uuid` names (RFC 9562's hex-and-dash);
# uuid.UUID() also reads braces, "urn:uuid:" and bare hex.
UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


class StrictUUIDField(serializers.UUIDField):
    """A uuid written as a hex-and-dash string: DRF's UUIDField also reads an integer (and
    the other spellings above) as a uuid."""

    default_error_messages = {"invalid": "Must be a valid UUID string."}

    def to_internal_value(self, data):
        if not isinstance(data, str) or not UUID_PATTERN.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An integer written as digits: DRF's IntegerField also reads " 5", "5.0" and 5.0."""

    def get_value(self, dictionary):
        # DRF reads a query string's "page_size=" as no page_size at all; it is a value,
        # and not an integer.
        if html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not (
            isinstance(data, int) or (isinstance(data, str) and re.fullmatch(r"-?[0-9]+", data))
        ):
            self.fail("invalid")
        return super().to_internal_value(data)


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
        allow_null=True,
        help_text="The other person's handle; null for a group or a deleted account.",
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


# What messaging/cursors.py emits (django.core.signing.dumps): "." when compressed, then
# the base64url payload, timestamp and signature joined by ":". Only the signature makes
# one valid.
# (The empty cursor is the first page: allow_blank states it in the schema beside this.)
CURSOR_PATTERN = r"^\.?[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$"


class PageInputSerializer(serializers.Serializer):
    cursor = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2048,
        # A cursor of spaces is not the first page's empty one.
        trim_whitespace=False,
        validators=[
            RegexValidator(
                CURSOR_PATTERN,
                message="This cursor is not valid. Start again from the first page.",
            )
        ],
        help_text=(
            "The `next` value of the previous page, unchanged (signed: an edited cursor is a"
            " 400). Omit it for the first page."
        ),
    )

    def to_internal_value(self, data):
        # A query string may repeat a parameter; DRF would silently read the last one.
        if hasattr(data, "getlist"):
            repeated = [str(name) for name in self.fields if len(data.getlist(name)) > 1]
            if repeated:
                raise serializers.ValidationError(
                    {name: ["Give this parameter once."] for name in repeated}
                )
        return super().to_internal_value(data)

    def get_fields(self):
        # Built per use so the limit comes from settings at call time.
        fields = super().get_fields()
        fields["page_size"] = StrictIntegerField(
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
    403: (
        "Session authentication without a valid CSRF token; sending, a block between you"
        ' and a member ("You can\'t message @x.").'
    ),
    404: "No such user or conversation, or not one the caller belongs to.",
    413: "The body is over the upload limit (DATA_UPLOAD_MAX_MEMORY_SIZE).",
    414: "The URL (path and query) is longer than the server accepts.",
    409: "The caller already did this once (a second report of the same message).",
    415: "The body is not JSON.",
    422: "This Idempotency-Key was already used for a different message.",
    429: "Too many requests (or, signing in, too many failures); see Retry-After.",
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
