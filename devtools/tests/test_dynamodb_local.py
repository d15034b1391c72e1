from pathlib import Path
from urllib.parse import urlparse

import boto3
import pytest

from devtools import dynamodb_local
from messaging.dynamo import schema

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


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's socket table")
def test_without_java_the_engine_falls_back_to_moto_server(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    port = dynamodb_local.free_port()
    process = dynamodb_local.start(port=port)
    try:
        assert "Java not found: using moto_server instead" in capsys.readouterr().err
        assert listening_addresses(port) <= LOOPBACK
        client = boto3.client(
            "dynamodb",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        client.create_table(**schema.table_definition("fallback-check"))
        assert client.list_tables()["TableNames"] == ["fallback-check"]
    finally:
        dynamodb_local.stop(process)


def test_a_short_lived_engine_runs_the_quick_jit_tier_and_serial_collector(tmp_path):
    try:
        command = dynamodb_local.dynamodb_local_command(port=1, db_path=None, short_lived=True)
    except dynamodb_local.EngineUnavailable as exc:
        pytest.skip(str(exc))
    long_lived = dynamodb_local.dynamodb_local_command(port=1, db_path=None)

    assert set(dynamodb_local.SHORT_LIVED_JVM) <= set(command)
    assert not set(dynamodb_local.SHORT_LIVED_JVM) & set(long_lived)
    assert command.index("-XX:TieredStopAtLevel=1") < command.index("-cp")
