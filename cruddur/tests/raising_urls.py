"""A URLconf with one failing view, for the Sentry test's server process."""

import json

from django.urls import include, path


def boom(request):
    json.loads(request.body)
    raise RuntimeError("the view failed")


# The site's own URLs too: the 500 page links to them.
urlpatterns = [path("boom", boom), path("", include("cruddur.urls"))]
