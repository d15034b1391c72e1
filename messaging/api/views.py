"""The messaging API (DESIGN §6): one view per operation, each a thin shell around a
service or selector. Domain errors become HTTP in `exceptions.py`."""

import uuid

from django.contrib.auth import authenticate
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging import selectors, services
from messaging.api.serializers import (
    MessageBodyField,
    MessageGroupSerializer,
    MessageSerializer,
    PageInputSerializer,
    error_responses,
    page_output,
)
from messaging.api.throttles import AuthTokenThrottle, MessageSendThrottle
from messaging.errors import NotFound
from messaging.rules import MAX_IDEMPOTENCY_KEY_LENGTH, MAX_OTHERS

GROUP_UUID_PARAMETER = OpenApiParameter(
    "group_uuid", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The conversation."
)


def group_uuid_from_path(value: str) -> uuid.UUID:
    # A malformed uuid in the path names no conversation: 404, like a foreign one.
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise NotFound("No such conversation.") from exc


class AuthTokenApi(APIView):
    # Credentials are the whole request: no session (and so no CSRF) applies here.
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (AuthTokenThrottle,)

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150, help_text="The user's handle.")
        password = serializers.CharField(
            max_length=128, trim_whitespace=False, style={"input_type": "password"}
        )

        class Meta:
            ref_name = "AuthTokenRequest"

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

        class Meta:
            ref_name = "AuthToken"

    @extend_schema(
        operation_id="auth_token_create",
        auth=[],
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 415, 429)},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request=request, **serializer.validated_data)
        if user is None:
            raise exceptions.ValidationError(
                {"non_field_errors": ["Unable to sign in with that handle and password."]}
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response(self.OutputSerializer({"token": token.key}).data)


class FlatListField(serializers.ListField):
    """A list whose item errors read as plain messages ("Item 2: ..."), in the API's one
    error shape (field -> list of strings), rather than DRF's nested {index: [...]}."""

    def run_child_validation(self, data):
        values, errors = [], []
        for index, item in enumerate(data):
            try:
                values.append(self.child.run_validation(item))
            except serializers.ValidationError as exc:
                errors += [f"Item {index + 1}: {message}" for message in _messages(exc.detail)]
        if errors:
            raise serializers.ValidationError(errors)
        return values


def _messages(detail) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _messages(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _messages(value)]
    return [str(detail)]


IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "Retrying with the same key within 24 hours returns the first response"
        f" and sends nothing (1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters)."
    ),
)


class InboxListApi(APIView):
    """GET lists the caller's conversations; POST starts one with 1 to 7 people (the
    same URL, so one view holds both operations)."""

    throttle_classes = (MessageSendThrottle,)

    class InputSerializer(PageInputSerializer):
        pass

    class CreateInputSerializer(serializers.Serializer):
        handles = FlatListField(
            child=serializers.CharField(max_length=64),
            min_length=1,
            max_length=MAX_OTHERS,
            help_text=f"The other members, 1 to {MAX_OTHERS} handles (you are added).",
        )
        message = MessageBodyField()

        class Meta:
            ref_name = "MessageGroupCreate"

    OutputSerializer = page_output(MessageGroupSerializer, "MessageGroupPage")

    def get_throttles(self):
        # Only sending is limited; reading the inbox is not.
        return super().get_throttles() if self.request.method == "POST" else []

    @extend_schema(
        operation_id="message_groups_list",
        parameters=[InputSerializer],
        responses={200: OutputSerializer, **error_responses(400, 401, 503)},
    )
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        page = selectors.inbox_list(user=request.user, **params.validated_data)
        return Response(self.OutputSerializer(page).data)

    @extend_schema(
        operation_id="message_groups_create",
        request=CreateInputSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: MessageSerializer,
            **error_responses(400, 401, 403, 404, 415, 422, 429, 503),
        },
    )
    def post(self, request):
        serializer = self.CreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.group_start(
            sender=request.user,
            handles=serializer.validated_data["handles"],
            body=serializer.validated_data["message"],
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class MessageGroupDetailApi(APIView):
    @extend_schema(
        operation_id="message_groups_retrieve",
        parameters=[GROUP_UUID_PARAMETER],
        responses={200: MessageGroupSerializer, **error_responses(401, 404, 503)},
    )
    def get(self, request, group_uuid: str):
        detail = selectors.conversation_get(
            user=request.user, group_uuid=group_uuid_from_path(group_uuid)
        )
        return Response(MessageGroupSerializer(detail.conversation).data)


class MessageListApi(APIView):
    class InputSerializer(PageInputSerializer):
        pass

    OutputSerializer = page_output(MessageSerializer, "MessagePage")

    @extend_schema(
        operation_id="messages_list",
        parameters=[GROUP_UUID_PARAMETER, InputSerializer],
        responses={200: OutputSerializer, **error_responses(400, 401, 404, 503)},
    )
    def get(self, request, group_uuid: str):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        page = selectors.message_list(
            user=request.user,
            group_uuid=group_uuid_from_path(group_uuid),
            **params.validated_data,
        )
        return Response(self.OutputSerializer(page).data)


class MessageCreateApi(APIView):
    throttle_classes = (MessageSendThrottle,)

    class InputSerializer(serializers.Serializer):
        message = MessageBodyField()
        message_group_uuid = serializers.UUIDField(
            required=False, help_text="Reply in this conversation."
        )
        handle = serializers.CharField(
            required=False,
            max_length=64,
            help_text="Start (or reopen) the conversation with this user.",
        )

        class Meta:
            ref_name = "MessageCreate"

        def validate(self, attrs):
            if ("message_group_uuid" in attrs) == ("handle" in attrs):
                raise serializers.ValidationError(
                    "Give exactly one of message_group_uuid or handle."
                )
            return attrs

    OutputSerializer = MessageSerializer

    @extend_schema(
        operation_id="messages_create",
        request=InputSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: OutputSerializer,
            **error_responses(400, 401, 403, 404, 415, 422, 429, 503),
        },
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        idempotency_key = request.headers.get("Idempotency-Key")
        if "message_group_uuid" in data:
            message = services.message_create(
                sender=request.user,
                group_uuid=data["message_group_uuid"],
                body=data["message"],
                idempotency_key=idempotency_key,
            )
        else:
            message = services.conversation_start(
                sender=request.user,
                handle=data["handle"],
                body=data["message"],
                idempotency_key=idempotency_key,
            )
        return Response(self.OutputSerializer(message).data, status=status.HTTP_201_CREATED)


class ConversationMarkReadApi(APIView):
    @extend_schema(
        operation_id="message_groups_read",
        parameters=[GROUP_UUID_PARAMETER],
        request=None,
        responses={
            204: OpenApiResponse(description="Every message in the conversation is read."),
            **error_responses(401, 403, 404, 503),
        },
    )
    def post(self, request, group_uuid: str):
        services.conversation_mark_read(
            user=request.user, group_uuid=group_uuid_from_path(group_uuid)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserShortApi(APIView):
    class OutputSerializer(serializers.Serializer):
        uuid = serializers.UUIDField()
        handle = serializers.CharField()
        display_name = serializers.CharField()

        class Meta:
            ref_name = "UserShort"

    @extend_schema(
        operation_id="users_short",
        responses={200: OutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request, handle: str):
        user = selectors.user_get_by_handle(handle=handle)
        return Response(self.OutputSerializer(user).data)
