from pathlib import Path
from urllib.parse import urlparse

import pytest

LOOPBACK = {
    "0100007F",  # 127.0.0.1
    "0000000000000000FFFF00000100007F",  # ::ffff:127.0.0.1
    "00000000000000000000000001000000",  # ::1
}
LISTEN = "0A"


def listening_addresses(port: int) -> set[str]:
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if fields[3] == LISTEN and int(port_hex, 16) == port:
                addresses.add(address)
    return addresses


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's socket table")
def test_dynamodb_local_listens_on_loopback_only(dynamodb_endpoint):
    port = urlparse(dynamodb_endpoint).port
    addresses = listening_addresses(port)
    assert addresses
    assert addresses <= LOOPBACK
