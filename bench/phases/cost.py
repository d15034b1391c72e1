"""Section 1: what each operation costs through the whole Django stack, in process."""

import uuid

from django.test import Client
from django.test.utils import override_settings

from bench.instrument import Meter
from bench.seed import Person


def auth(person: Person) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {person.token}"}


def api_rows(response) -> int:
    return len(response.json()["results"])


def page_rows(response) -> int:
    """Rows a page rendered (one list item each): its messages on a conversation page
    (the inbox listed beside them is not what is measured), else its inbox rows."""
    messages = response.content.count(b'<li class="message')
    return messages or response.content.count(b'<li class="inbox__item')


def measured(client_call, *, meter: Meter, expect: int, label: str, rows=None) -> dict:
    """Run `client_call` once to warm (imports, connections, the cache entry for a hit),
    then once measured; `rows(response)` counts what the page showed."""
    client_call()
    with meter.measure() as cost:
        response = client_call()
    if response.status_code != expect:
        raise RuntimeError(f"{label} answered {response.status_code}")
    return {**cost.as_dict(), **({"rows": rows(response)} if rows else {})}


def request_cost(
    *, meter: Meter, alice: Person, bob: Person, group: uuid.UUID, strangers: list[Person]
) -> list[dict]:
    """Each API operation (token auth, DRF, selectors/services, gateway), once warm."""
    client = Client()
    rows = []

    def run(operation: str, variant: str, call, expect: int) -> None:
        cost = measured(call, meter=meter, expect=expect, label=f"{operation} ({variant})")
        rows.append({"operation": operation, "variant": variant, **cost})

    for path, name in (
        ("/api/message_groups", "inbox"),
        (f"/api/messages/{group}", "conversation"),
    ):
        with override_settings(MESSAGING_CACHE_TTL=0):
            run(name, "cache disabled", lambda path=path: client.get(path, **auth(alice)), 200)
        run(name, "cache hit", lambda path=path: client.get(path, **auth(alice)), 200)

    def post(payload: dict):
        return client.post(
            "/api/messages", payload, content_type="application/json", **auth(alice)
        )

    reply = {"message": "cost of a reply", "message_group_uuid": str(group)}
    run("send", "stream fan-out", lambda: post(reply), 201)
    with override_settings(MESSAGING_FANOUT="inline"):
        run("send", "inline fan-out", lambda: post(reply), 201)
    # `run` sends twice (warm, then measured), and each must meet a pair never seen.
    new_pairs = iter(strangers)
    start = {"message": "cost of a start"}
    run("start", "new pair", lambda: post({**start, "handle": next(new_pairs).handle}), 201)
    run("start", "existing pair", lambda: post({**start, "handle": bob.handle}), 201)
    return rows
