from django.urls import path

from messaging import views

app_name = "messaging"

urlpatterns = [
    path("messages", views.inbox, name="inbox"),
    path("messages/", views.inbox_slash),
    path("messages/new", views.conversation_pick, name="conversation_pick"),
    path("messages/new/<str:handle>", views.conversation_new, name="conversation_new"),
    path("messages/<uuid:group_uuid>", views.conversation, name="conversation"),
    path("messages/<uuid:group_uuid>/mute", views.conversation_mute, name="conversation_mute"),
    path("messages/<uuid:group_uuid>/hide", views.conversation_hide, name="conversation_hide"),
    path("people/<str:handle>/block", views.person_block, name="person_block"),
]
