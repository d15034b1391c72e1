"""/healthz (the process answers) and /readyz (it can serve: every dependency answers)."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from django.http import HttpRequest, JsonResponse
from health_check.views import HealthCheckView

from health.checks import readiness_checks

# Long-lived, never shut down: a check stuck past its deadline finishes in the background
# instead of holding the response until its client times out (an event loop's own
# executor is joined when the loop closes).
_CHECK_THREADS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="readyz")


def liveness(request: HttpRequest) -> JsonResponse:
    # No dependency is touched: a DynamoDB or Redis outage must not make the container
    # look dead and get every task replaced at once.
    return JsonResponse({"status": "ok"})


class ReadinessView(HealthCheckView):
    """Runs every check concurrently; each has its own deadline (HEALTH_CHECK_TIMEOUT,
    django-health-check adds one second for the check's own client timeout to report)."""

    async def get(self, request, *args, **kwargs):
        checks = readiness_checks()
        results = await asyncio.gather(
            *(check.get_result(_CHECK_THREADS) for check in checks.values())
        )
        report = {name: _result(result) for name, result in zip(checks, results, strict=True)}
        ready = all(entry["status"] == "ok" for entry in report.values())
        return JsonResponse(
            {"status": "ok" if ready else "unavailable", "checks": report},
            status=200 if ready else 503,
        )


def _result(result) -> dict:
    entry = {"status": "ok", "ms": round(result.time_taken * 1000, 1)}
    if result.error:
        # The body is public (the load balancer serves it); the cause goes to the log
        # (django-health-check logs each failure with its exception).
        timed_out = "Timed out" in str(result.error)
        entry["status"] = "timeout" if timed_out else "unavailable"
    return entry


readiness = ReadinessView.as_view()
