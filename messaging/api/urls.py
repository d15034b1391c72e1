from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from messaging.api import controls, events, export, message_actions, views

app_name = "api"

urlpatterns = [
    path("auth/token", views.AuthTokenApi.as_view(), name="auth-token"),
    path("message_groups", views.InboxListApi.as_view(), name="message-groups"),
    path(
        "message_groups/<str:group_uuid>",
        views.MessageGroupDetailApi.as_view(),
        name="message-group",
    ),
    path(
        "message_groups/<str:group_uuid>/read",
        views.ConversationMarkReadApi.as_view(),
        name="message-group-read",
    ),
    path("message_groups/<str:group_uuid>/typing", events.TypingApi.as_view(), name="typing"),
    path(
        "message_groups/<str:group_uuid>/mute",
        controls.ConversationMuteApi.as_view(),
        name="message-group-mute",
    ),
    path("events", events.events_stream, name="events"),
    path("messages", views.MessageCreateApi.as_view(), name="message-create"),
    path("messages/<str:group_uuid>", views.MessageListApi.as_view(), name="messages"),
    path("me/export", export.PersonExportApi.as_view(), name="me-export"),
    path(
        "messages/<str:group_uuid>/<str:message_uuid>",
        message_actions.MessageDetailApi.as_view(),
        name="message",
    ),
    path(
        "messages/<str:group_uuid>/<str:message_uuid>/report",
        message_actions.MessageReportApi.as_view(),
        name="message-report",
    ),
    path("users/@<str:handle>/short", views.UserShortApi.as_view(), name="user-short"),
    path("users/@<str:handle>/block", controls.UserBlockApi.as_view(), name="user-block"),
    path("blocks", controls.BlockListApi.as_view(), name="blocks"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
