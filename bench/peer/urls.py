from django.urls import include, path

from bench.peer import views

urlpatterns = [
    path("pages/conversation/<int:thread_id>/", views.ConversationPage.as_view()),
    path("messages/", include("postman.urls", namespace="postman")),
]
