"""Floors that are floors, served by the same gunicorn as the app:

- `/bench/floor/bare/<name>`: a bare WSGI endpoint (no Django) sending the very DynamoDB
  requests the app sent for endpoint <name> (recorded by the bench, replayed through
  the process's boto3 client) and answering their items as JSON;
- `/bench/floor/django/<name>`: a Django view (the app's whole middleware stack) that
  answers the app's own response body for <name>, held in memory: no I/O at all.

The bench writes both per endpoint to the JSON file named by BENCH_FLOOR_FILE
({name: {"requests": [[operation, params], ...], "body": "..."}}) before it starts the
servers; each worker reads it once. bench/wsgi.py routes the bare prefix here before
Django sees the request.
"""

import functools
import json
import os
from pathlib import Path

from botocore import xform_name
from django.http import Http404, HttpResponse

BARE_PREFIX = "/bench/floor/bare/"


@functools.cache
def _floors() -> dict:
    path = os.environ.get("BENCH_FLOOR_FILE")
    return json.loads(Path(path).read_text()) if path else {}


def django_floor(request, name: str) -> HttpResponse:
    floor = _floors().get(name)
    if floor is None:
        raise Http404(name)
    return HttpResponse(floor["body"], content_type="application/json")


def bare_floor(name: str, start_response) -> list[bytes]:
    from messaging.dynamo.client import get_client

    floor = _floors().get(name)
    if floor is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no such floor"]
    client = get_client()
    items = []
    for operation, params in floor["requests"]:
        response = getattr(client, xform_name(operation))(**params)
        items.extend(response.get("Items", [response.get("Item")]))
    body = json.dumps(items).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
