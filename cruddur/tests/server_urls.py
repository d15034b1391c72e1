"""A slow request and an endless event stream, to watch a SIGTERM drain the server."""

import asyncio
import os
import time
from pathlib import Path

from django.http import HttpResponse, StreamingHttpResponse
from django.urls import include, path


def slow(request):
    # Tells the test the request is in flight, then takes its time.
    Path(os.environ["CRUDDUR_TEST_STARTED_FILE"]).touch()
    time.sleep(float(request.GET.get("seconds", "2")))
    return HttpResponse("finished")


async def stream(request):
    async def ticks():
        while True:
            yield b"data: tick\n\n"
            await asyncio.sleep(0.2)

    return StreamingHttpResponse(ticks(), content_type="text/event-stream")


urlpatterns = [
    path("test/slow", slow),
    path("test/stream", stream),
    path("", include("cruddur.urls")),
]
