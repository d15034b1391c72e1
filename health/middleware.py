from asgiref.sync import async_to_sync
from django.http import HttpResponseNotAllowed

from health.views import liveness, readiness

PROBES = {"/healthz": liveness, "/readyz": async_to_sync(readiness)}


class HealthProbeMiddleware:
    """Answers the probes before any other middleware runs.

    The load balancer's health checks carry the task's private IP as Host, which is not
    in ALLOWED_HOSTS, and arrive over plain HTTP, which SECURE_SSL_REDIRECT would
    redirect; so the probes must not reach host validation or the security middleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        if probe is None:
            return self.get_response(request)
        if request.method not in {"GET", "HEAD"}:
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return probe(request)
