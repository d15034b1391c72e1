"""The WSGI entry the bench's gunicorns serve: the bare floor outside Django, everything
else to the app (with bench/urls.py adding the Django floor)."""

from django.core.wsgi import get_wsgi_application

from bench import floors

_django = get_wsgi_application()


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.startswith(floors.BARE_PREFIX):
        return floors.bare_floor(path.removeprefix(floors.BARE_PREFIX), start_response)
    return _django(environ, start_response)
