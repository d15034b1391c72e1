"""Changing one message: edit, delete, report (DESIGN §6). Thin shells around
`services.message_changes` and `services.reports`."""

import uuid

from django.core.validators import RegexValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging import services
from messaging.api.serializers import (
    UUID_PATTERN,
    ErrorDetailSerializer,
    MessageSerializer,
    StrictCharField,
    UtcDateTimeField,
    error_responses,
)
from messaging.api.views import (
    GROUP_UUID_PARAMETER,
    MESSAGE_PATTERN,
    _message_field,
    group_uuid_from_path,
)
from messaging.errors import NotFound
from messaging.limits import MessageSendThrottle
from messaging.rules import MAX_REPORT_REASON_LENGTH

MESSAGE_UUID_PARAMETER = OpenApiParameter(
    "message_uuid", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The message."
)


def message_uuid_from_path(value: str) -> uuid.UUID:
    if not UUID_PATTERN.fullmatch(value):
        raise NotFound("No such message.")
    return uuid.UUID(value)


def _forbidden(description: str) -> OpenApiResponse:
    return OpenApiResponse(
        response=ErrorDetailSerializer,
        description=f"{description} (or session authentication without a CSRF token).",
    )


class WholeBodySerializer(serializers.Serializer):
    """A PATCH body with required fields: drf-spectacular documents every PATCH body as
    partial (each field optional), which an edit's body is not."""

    @property
    def partial(self) -> bool:
        return False

    @partial.setter
    def partial(self, value: bool) -> None:
        pass


class MessageDetailApi(APIView):
    """PATCH edits one of the caller's messages; DELETE deletes it."""

    throttle_classes = (MessageSendThrottle,)

    class InputSerializer(WholeBodySerializer):
        message = _message_field()

        class Meta:
            ref_name = "MessageEdit"

    def get_throttles(self):
        # An edit writes new text, so it counts against the send limit; deleting is free.
        return super().get_throttles() if self.request.method == "PATCH" else []

    @extend_schema(
        operation_id="messages_partial_update",
        parameters=[GROUP_UUID_PARAMETER, MESSAGE_UUID_PARAMETER],
        request=InputSerializer,
        responses={
            200: MessageSerializer,
            **error_responses(400, 401, 404, 413, 414, 415, 429, 503),
            403: _forbidden(
                "Not the caller's message, deleted, or older than MESSAGING_EDIT_WINDOW"
            ),
        },
        description=(
            "The sender only, within MESSAGING_EDIT_WINDOW (default 15 minutes) of sending:"
            " the message shows `edited_at`, and the inbox preview follows when it is the"
            " conversation's last message."
        ),
    )
    def patch(self, request, group_uuid: str, message_uuid: str):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.message_edit(
            user=request.user,
            group_uuid=group_uuid_from_path(group_uuid),
            message_uuid=message_uuid_from_path(message_uuid),
            body=serializer.validated_data["message"],
        )
        return Response(MessageSerializer(message).data)

    @extend_schema(
        operation_id="messages_destroy",
        parameters=[GROUP_UUID_PARAMETER, MESSAGE_UUID_PARAMETER],
        request=None,
        responses={
            204: OpenApiResponse(
                description=(
                    "Deleted (or already deleted): the body is gone from the table and every"
                    " preview; the message stays in place with `deleted` true."
                )
            ),
            **error_responses(401, 404, 414, 503),
            403: _forbidden("Not the caller's message"),
        },
    )
    def delete(self, request, group_uuid: str, message_uuid: str):
        services.message_delete(
            user=request.user,
            group_uuid=group_uuid_from_path(group_uuid),
            message_uuid=message_uuid_from_path(message_uuid),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageReportApi(APIView):
    throttle_classes = (MessageSendThrottle,)

    class InputSerializer(serializers.Serializer):
        reason = StrictCharField(
            min_length=1,
            max_length=MAX_REPORT_REASON_LENGTH,
            # The same text rule as a message's (rules.report_reason_clean).
            validators=[
                RegexValidator(
                    MESSAGE_PATTERN,
                    message="A reason holds text: no control characters but new lines and tabs.",
                )
            ],
            help_text=f"What is wrong with the message (1 to {MAX_REPORT_REASON_LENGTH}).",
        )

        class Meta:
            ref_name = "MessageReportCreate"

    class OutputSerializer(serializers.Serializer):
        message_group_uuid = serializers.UUIDField(source="group_uuid")
        message_uuid = serializers.UUIDField()
        reason = serializers.CharField()
        status = serializers.ChoiceField(choices=["open", "resolved"])
        created_at = UtcDateTimeField()

        class Meta:
            ref_name = "MessageReport"

    @extend_schema(
        operation_id="messages_report",
        parameters=[GROUP_UUID_PARAMETER, MESSAGE_UUID_PARAMETER],
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            **error_responses(400, 401, 404, 409, 413, 414, 415, 429, 503),
            403: _forbidden("The caller's own message, or a deleted one"),
        },
        description=(
            "Report another member's message to staff. The report keeps the text as it is"
            " now, whatever the sender does later. Once per message: a second report is 409."
        ),
    )
    def post(self, request, group_uuid: str, message_uuid: str):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = services.message_report(
            reporter=request.user,
            group_uuid=group_uuid_from_path(group_uuid),
            message_uuid=message_uuid_from_path(message_uuid),
            reason=serializer.validated_data["reason"],
        )
        return Response(self.OutputSerializer(report).data, status=status.HTTP_201_CREATED)
