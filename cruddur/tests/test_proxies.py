"""The client address: REMOTE_ADDR unless a count of trusted proxies vouches for an
X-Forwarded-For entry."""

import pytest
from django.test import RequestFactory

from cruddur.proxies import client_ip


def request_from(remote_addr: str, forwarded_for: str | None = None):
    meta = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **meta)


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings):
    settings.DJANGO_TRUSTED_PROXIES = 0

    assert client_ip(request_from("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


@pytest.mark.parametrize(
    ("trusted", "forwarded_for", "expected"),
    [
        # The load balancer appended the address it saw; anything left of it is the
        # client's own claim.
        (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),
        (2, "6.6.6.6, 198.51.100.7, 10.0.0.5", "198.51.100.7"),
        # Fewer entries than proxies: the request skipped a proxy, so nothing is vouched.
        (2, "198.51.100.7", "10.0.0.2"),
        # Not an address at all.
        (1, "not-an-ip", "10.0.0.2"),
    ],
)
def test_the_entry_added_by_the_outermost_trusted_proxy_is_the_client(
    settings, trusted, forwarded_for, expected
):
    settings.DJANGO_TRUSTED_PROXIES = trusted

    assert client_ip(request_from("10.0.0.2", forwarded_for)) == expected


def test_with_a_trusted_proxy_and_no_header_the_peer_is_the_client(settings):
    settings.DJANGO_TRUSTED_PROXIES = 1

    assert client_ip(request_from("10.0.0.2")) == "10.0.0.2"
