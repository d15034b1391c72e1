"""People's controls (DESIGN §6): block someone, mute or hide a conversation. One view
per resource, each a thin shell around `services.controls`."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging import selectors, services
from messaging.api.serializers import error_responses
from messaging.api.views import GROUP_UUID_PARAMETER, UserShortApi, group_uuid_from_path


class UserBlockApi(APIView):
    """POST blocks @handle, DELETE lifts the caller's block."""

    @extend_schema(
        operation_id="users_block",
        request=None,
        responses={
            204: OpenApiResponse(
                description=(
                    "Blocked (again, if already): neither of you can message the other or"
                    " start a conversation holding both; existing group conversations carry"
                    " on."
                )
            ),
            **error_responses(400, 401, 403, 404, 414, 503),
        },
    )
    def post(self, request, handle: str):
        services.user_block(user=request.user, handle=handle)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="users_unblock",
        request=None,
        responses={
            204: OpenApiResponse(
                description="Your block is lifted (a block the other person made stays)."
            ),
            **error_responses(400, 401, 403, 404, 414, 503),
        },
    )
    def delete(self, request, handle: str):
        services.user_unblock(user=request.user, handle=handle)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BlockListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        results = UserShortApi.OutputSerializer(many=True)

        class Meta:
            ref_name = "BlockList"

    @extend_schema(
        operation_id="blocks_list",
        responses={200: OutputSerializer, **error_responses(401, 414, 503)},
    )
    def get(self, request):
        people = selectors.blocks_list(user=request.user)
        return Response(self.OutputSerializer({"results": people}).data)


class ConversationMuteApi(APIView):
    """POST mutes the conversation for the caller, DELETE unmutes it."""

    @extend_schema(
        operation_id="message_groups_mute",
        parameters=[GROUP_UUID_PARAMETER],
        request=None,
        responses={
            204: OpenApiResponse(
                description=(
                    "Muted: messages still arrive and count on the conversation, but add"
                    " nothing to the unread badge."
                )
            ),
            **error_responses(401, 403, 404, 414, 503),
        },
    )
    def post(self, request, group_uuid: str):
        services.conversation_mute(
            user=request.user, group_uuid=group_uuid_from_path(group_uuid), muted=True
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="message_groups_unmute",
        parameters=[GROUP_UUID_PARAMETER],
        request=None,
        responses={
            204: OpenApiResponse(description="Not muted (any more)."),
            **error_responses(401, 403, 404, 414, 503),
        },
    )
    def delete(self, request, group_uuid: str):
        services.conversation_mute(
            user=request.user, group_uuid=group_uuid_from_path(group_uuid), muted=False
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
