"""The client's address, as far as the configured proxies vouch for it.

`X-Forwarded-For` is written by whoever sends the request, so only the entries added by
our own proxies mean anything: with DJANGO_TRUSTED_PROXIES = N, the client is the N-th
address from the right (each proxy appends the address it received from). With N = 0,
or a header shorter than N (the request skipped a proxy), it is REMOTE_ADDR.
"""

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    remote_addr = request.META.get("REMOTE_ADDR", "")
    trusted = settings.DJANGO_TRUSTED_PROXIES
    if trusted <= 0:
        return remote_addr
    forwarded = [
        entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    ]
    if len(forwarded) < trusted:
        return remote_addr
    candidate = forwarded[-trusted]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr
