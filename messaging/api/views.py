"""The messaging API (DESIGN §6): one view per operation, each a thin shell around a
service or selector. Domain errors become HTTP in `exceptions.py`."""

import uuid

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.validators import RegexValidator
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.lockout import locked_out_message, retry_after_seconds
from accounts.models import HANDLE_PATTERN
from messaging import selectors, services
from messaging.api.serializers import (
    UUID_PATTERN,
    MessageBodyField,
    MessageGroupSerializer,
    MessageSerializer,
    PageInputSerializer,
    StrictCharField,
    StrictUUIDField,
    error_responses,
    page_output,
)
from messaging.api.tokens import ExpiringTokenAuthentication, token_issue
from messaging.errors import NotFound
from messaging.limits import MessageSendThrottle
from messaging.rules import MAX_IDEMPOTENCY_KEY_LENGTH, MAX_MESSAGE_LENGTH, MAX_OTHERS

# A handle as clients write it: accounts' handle rule, with an optional leading @.
HANDLE_REFERENCE_PATTERN = "^@?" + HANDLE_PATTERN.removeprefix("^")

# A message the server keeps: no control characters but tab and new lines (rules.py) and
# something left once trimmed. The class is str.isspace()'s whitespace spelled out,
# since the regex engines that read the schema disagree on what \s means.
_WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
MESSAGE_PATTERN = rf"^[^{_CONTROL}]*[^{_CONTROL}{_WHITESPACE}][^{_CONTROL}]*$"
# What services.idempotency_key_clean accepts: printable (str.isprintable) characters of
# Latin-1, the charset header values arrive in.
IDEMPOTENCY_KEY_PATTERN = r"^[\x20-\x7e\xa1-\xac\xae-\xff]+$"

GROUP_UUID_PARAMETER = OpenApiParameter(
    "group_uuid", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The conversation."
)


def group_uuid_from_path(value: str) -> uuid.UUID:
    # A malformed uuid in the path names no conversation: 404, like a foreign one. Only
    # the schema's spelling counts, so one conversation has one URL.
    if not UUID_PATTERN.fullmatch(value):
        raise NotFound("No such conversation.")
    return uuid.UUID(value)


class SignInLockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "sign_in_locked_out"

    def __init__(self, *, wait: int, detail: str):
        super().__init__(detail)
        # DRF's exception handler sends this as Retry-After.
        self.wait = wait


class AuthTokenApi(APIView):
    """POST signs in (credentials are the whole request: no session, so no CSRF);
    DELETE signs out the token that authenticates it."""

    class InputSerializer(serializers.Serializer):
        username = StrictCharField(
            min_length=1, max_length=150, help_text="The user's handle (any case)."
        )
        password = StrictCharField(
            min_length=1, max_length=128, trim_whitespace=False, style={"input_type": "password"}
        )

        class Meta:
            ref_name = "AuthTokenRequest"

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

        class Meta:
            ref_name = "AuthToken"

    def _signing_out(self) -> bool:
        # Schema generation builds the view without a request (each method's security is
        # declared in extend_schema below).
        request = getattr(self, "request", None)
        return request is not None and request.method == "DELETE"

    def get_authenticators(self):
        return [ExpiringTokenAuthentication()] if self._signing_out() else []

    def get_permissions(self):
        return [IsAuthenticated()] if self._signing_out() else [AllowAny()]

    @extend_schema(
        operation_id="auth_token_create",
        auth=[],
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 413, 414, 415, 429)},
        description=(
            "Failed sign-ins are counted per account and per client address; past the limit"
            " both are refused with 429 and Retry-After, even with the right password."
        ),
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request=request, **serializer.validated_data)
        # django-axes flags the request when the account or the address is locked out.
        if getattr(request, "axes_locked_out", False):
            raise SignInLockedOut(wait=retry_after_seconds(), detail=locked_out_message())
        if user is None:
            raise exceptions.ValidationError(
                {"non_field_errors": ["Unable to sign in with that handle and password."]}
            )
        token = token_issue(user=user)
        return Response(self.OutputSerializer({"token": token.key}).data)

    @extend_schema(
        operation_id="auth_token_destroy",
        auth=[{"tokenAuth": []}],  # type: ignore[list-item]
        request=None,
        responses={
            204: OpenApiResponse(description="The token no longer signs anything in."),
            **error_responses(401, 414),
        },
    )
    def delete(self, request):
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


def _message_field() -> MessageBodyField:
    return MessageBodyField(
        min_length=1,
        max_length=MAX_MESSAGE_LENGTH,
        validators=[
            RegexValidator(
                MESSAGE_PATTERN,
                message="Messages hold text: no control characters but new lines and tabs.",
            )
        ],
        error_messages={
            "blank": "Write a message first.",
            "min_length": "Write a message first.",
            "max_length": f"Messages are at most {MAX_MESSAGE_LENGTH} characters.",
        },
    )


def _group_uuid_field(**options) -> StrictUUIDField:
    return StrictUUIDField(help_text="Reply in this conversation.", **options)


def _handle_field(**options) -> StrictCharField:
    return StrictCharField(
        min_length=3,
        max_length=31,
        validators=[
            RegexValidator(
                HANDLE_REFERENCE_PATTERN,
                message="A handle is 3 to 30 letters, digits or underscores (@ optional).",
            )
        ],
        help_text="Start (or reopen) the conversation with this user (@ optional).",
        **options,
    )


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
    {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH,
        "pattern": IDEMPOTENCY_KEY_PATTERN,
    },
    OpenApiParameter.HEADER,
    description=(
        "Retrying with the same key within 24 hours returns the first response"
        f" and sends nothing (1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters)."
    ),
)


def _plain_first_page(request, params: dict) -> bool:
    """The default first page, asked for as plain JSON (not `; indent=`): the body every
    such request gets, so it can be kept rendered."""
    return (
        not params.get("cursor")
        and params.get("page_size", settings.MESSAGING_PAGE_SIZE) == settings.MESSAGING_PAGE_SIZE
        and request.accepted_media_type == JSONRenderer.media_type
    )


class InboxListApi(APIView):
    """GET lists the caller's conversations; POST starts one with 1 to 7 people (the
    same URL, so one view holds both operations)."""

    throttle_classes = (MessageSendThrottle,)

    class InputSerializer(PageInputSerializer):
        pass

    class CreateInputSerializer(serializers.Serializer):
        handles = FlatListField(
            child=_handle_field(),
            min_length=1,
            max_length=MAX_OTHERS,
            help_text=f"The other members, 1 to {MAX_OTHERS} handles (you are added).",
        )
        message = _message_field()

        class Meta:
            ref_name = "MessageGroupCreate"

    OutputSerializer = page_output(MessageGroupSerializer, "MessageGroupPage")

    def get_throttles(self):
        # Only sending is limited; reading the inbox is not.
        return super().get_throttles() if self.request.method == "POST" else []

    @extend_schema(
        operation_id="message_groups_list",
        parameters=[InputSerializer],
        responses={200: OutputSerializer, **error_responses(400, 401, 414, 503)},
    )
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        if _plain_first_page(request, params.validated_data):
            body = selectors.inbox_first_page_rendered(
                user=request.user,
                render=lambda page: JSONRenderer().render(self.OutputSerializer(page).data),
            )
            return HttpResponse(body, content_type=JSONRenderer.media_type)
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

    @extend_schema(
        operation_id="message_groups_hide",
        parameters=[GROUP_UUID_PARAMETER],
        request=None,
        responses={
            204: OpenApiResponse(
                description=(
                    "Hidden from your inbox (and read) until a new message arrives; the"
                    " other members see no change."
                )
            ),
            **error_responses(401, 403, 404, 414, 503),
        },
    )
    def delete(self, request, group_uuid: str):
        services.conversation_hide(user=request.user, group_uuid=group_uuid_from_path(group_uuid))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageListApi(APIView):
    class InputSerializer(PageInputSerializer):
        pass

    OutputSerializer = page_output(MessageSerializer, "MessagePage")

    @extend_schema(
        operation_id="messages_list",
        parameters=[GROUP_UUID_PARAMETER, InputSerializer],
        responses={200: OutputSerializer, **error_responses(400, 401, 404, 414, 503)},
    )
    def get(self, request, group_uuid: str):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        if _plain_first_page(request, params.validated_data):
            body = selectors.messages_first_page_rendered(
                user=request.user,
                group_uuid=group_uuid_from_path(group_uuid),
                render=lambda page: JSONRenderer().render(self.OutputSerializer(page).data),
            )
            return HttpResponse(body, content_type=JSONRenderer.media_type)
        page = selectors.message_list(
            user=request.user,
            group_uuid=group_uuid_from_path(group_uuid),
            **params.validated_data,
        )
        return Response(self.OutputSerializer(page).data)


class ReplyRequestSerializer(serializers.Serializer):
    message = _message_field()
    message_group_uuid = _group_uuid_field()

    class Meta:
        ref_name = "MessageReply"


class ConversationStartRequestSerializer(serializers.Serializer):
    message = _message_field()
    handle = _handle_field()

    class Meta:
        ref_name = "ConversationStart"


class MessageCreateApi(APIView):
    throttle_classes = (MessageSendThrottle,)

    class InputSerializer(serializers.Serializer):
        """Either shape of the request (documented as a oneOf of the two)."""

        message = _message_field()
        message_group_uuid = _group_uuid_field(required=False)
        handle = _handle_field(required=False)

        def validate(self, attrs):
            if ("message_group_uuid" in attrs) == ("handle" in attrs):
                raise serializers.ValidationError(
                    "Give exactly one of message_group_uuid or handle."
                )
            return attrs

    OutputSerializer = MessageSerializer

    @extend_schema(
        operation_id="messages_create",
        request=PolymorphicProxySerializer(
            component_name="MessageCreate",
            serializers=[ReplyRequestSerializer, ConversationStartRequestSerializer],
            resource_type_field_name=None,
        ),
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: OutputSerializer,
            **error_responses(400, 401, 403, 404, 413, 414, 415, 422, 429, 503),
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
            **error_responses(401, 403, 404, 414, 503),
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
        responses={200: OutputSerializer, **error_responses(401, 404, 414)},
    )
    def get(self, request, handle: str):
        user = selectors.user_get_by_handle(handle=handle)
        return Response(self.OutputSerializer(user).data)
