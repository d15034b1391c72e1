"""Password guessing (django-axes, accounts/lockout.py): failed sign-ins are limited per
account and per client address on the login page and the API token endpoint alike; the
address comes from the trusted proxy count, never from a raw header; successful sign-ins
are never limited."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

PASSWORD = "correct-horse-battery"
LOGIN = "/accounts/login/"
TOKEN = "/api/auth/token"


@pytest.fixture(autouse=True)
def lockout_policy(settings):
    settings.AXES_FAILURE_LIMIT = 5


def api_sign_in(client, handle: str, password: str, **headers):
    return client.post(
        TOKEN, {"username": handle, "password": password}, format="json", headers=headers
    )


def page_sign_in(client, handle: str, password: str, **headers):
    return client.post(LOGIN, {"username": handle, "password": password}, headers=headers)


def test_api_refuses_the_right_password_after_the_limit_even_from_new_forwarded_addresses(
    user_factory,
):
    user_factory("victim")
    client = APIClient()
    # A fresh X-Forwarded-For per guess: without trusted proxies it is not the address.
    failures = [
        api_sign_in(client, "victim", f"guess{n}", x_forwarded_for=f"10.0.{n}.1").status_code
        for n in range(5)
    ]
    right = api_sign_in(client, "victim", PASSWORD, x_forwarded_for="10.9.9.9")

    assert failures == [400, 400, 400, 400, 429]
    assert right.status_code == 429
    assert right["Content-Type"] == "application/json"
    assert "Too many failed sign-ins" in right.json()["detail"]
    assert int(right["Retry-After"]) == 900
    assert "token" not in right.json()


def test_login_page_refuses_the_right_password_after_the_limit_with_a_form_error(user_factory):
    user_factory("victim")
    client = Client()
    for n in range(5):
        page_sign_in(client, "victim", f"guess{n}")

    right = page_sign_in(client, "victim", PASSWORD)

    assert right.status_code == 429
    assert int(right["Retry-After"]) == 900
    assert "Too many failed sign-ins" in right.content.decode()
    assert 'name="username"' in right.content.decode()
    assert client.get("/messages").status_code == 302


def test_one_count_covers_the_page_and_the_api(user_factory):
    user_factory("victim")
    for n in range(3):
        page_sign_in(Client(), "victim", f"page{n}")
    for n in range(2):
        api_sign_in(APIClient(), "victim", f"api{n}")

    assert api_sign_in(APIClient(), "victim", PASSWORD).status_code == 429
    assert page_sign_in(Client(), "victim", PASSWORD).status_code == 429


def test_the_account_count_ignores_the_case_of_the_handle(user_factory):
    user_factory("victim")
    for handle in ("victim", "Victim", "VICTIM", "vIctim", "victiM"):
        api_sign_in(APIClient(), handle, "wrong", REMOTE_ADDR="192.0.2.1")

    assert api_sign_in(APIClient(), "victim", PASSWORD).status_code == 429


def test_failures_from_one_address_lock_that_address_for_every_account(user_factory):
    user_factory("bystander")
    client = APIClient(REMOTE_ADDR="198.51.100.66")
    for n in range(5):
        api_sign_in(client, f"nobody{n}", "guess")

    assert api_sign_in(client, "bystander", PASSWORD).status_code == 429
    assert (
        api_sign_in(APIClient(REMOTE_ADDR="198.51.100.67"), "bystander", PASSWORD).status_code
        == 200
    )


def test_with_a_trusted_proxy_the_forwarded_client_is_the_address_counted(settings, user_factory):
    settings.DJANGO_TRUSTED_PROXIES = 1
    user_factory("bystander")
    proxy = APIClient(REMOTE_ADDR="10.0.0.2")
    for n in range(5):
        api_sign_in(proxy, f"nobody{n}", "guess", x_forwarded_for="203.0.113.66")

    locked = api_sign_in(proxy, "bystander", PASSWORD, x_forwarded_for="203.0.113.66")
    other_client = api_sign_in(proxy, "bystander", PASSWORD, x_forwarded_for="203.0.113.67")
    # A client prepending its own entry does not escape: only the proxy's entry counts.
    spoofed = api_sign_in(proxy, "bystander", PASSWORD, x_forwarded_for="1.2.3.4, 203.0.113.66")

    assert locked.status_code == 429
    assert other_client.status_code == 200
    assert spoofed.status_code == 429


def test_thirty_people_behind_one_address_all_sign_in_within_a_minute(user_factory):
    people = [user_factory(f"student{n}") for n in range(30)]
    nat = "192.0.2.10"

    api = [api_sign_in(APIClient(REMOTE_ADDR=nat), p.handle, PASSWORD) for p in people[:15]]
    pages = [page_sign_in(Client(REMOTE_ADDR=nat), p.handle, PASSWORD) for p in people[15:]]

    assert [response.status_code for response in api] == [200] * 15
    assert all(response.json()["token"] for response in api)
    assert [(r.status_code, r["Location"]) for r in pages] == [(302, "/messages")] * 15


def test_a_few_typos_in_the_class_do_not_lock_the_others_out(user_factory):
    people = [user_factory(f"student{n}") for n in range(30)]
    nat = "192.0.2.10"
    for person in people[:4]:
        api_sign_in(APIClient(REMOTE_ADDR=nat), person.handle, "typo")

    statuses = {
        api_sign_in(APIClient(REMOTE_ADDR=nat), p.handle, PASSWORD).status_code for p in people
    }

    assert statuses == {200}


def test_the_lockout_ends_after_the_cool_off(user_factory, settings):
    from axes.models import AccessAttempt
    from django.utils import timezone

    user_factory("victim")
    for n in range(5):
        api_sign_in(APIClient(), "victim", f"guess{n}")
    assert api_sign_in(APIClient(), "victim", PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME)

    assert api_sign_in(APIClient(), "victim", PASSWORD).status_code == 200
