from django.urls import include, path

from bench import floors

urlpatterns = [
    path("bench/floor/django/<str:name>", floors.django_floor),
    path("", include("cruddur.urls")),
]
