import os

from devtools import engines


def test_local_dynamodb_environ_restores_what_it_replaced(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "someone-real")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "real-key")
    with engines.local_dynamodb_environ("http://127.0.0.1:1") as env:
        assert os.environ["AWS_ACCESS_KEY_ID"] == "local"
        assert os.environ["AWS_ENDPOINT_URL_DYNAMODBSTREAMS"] == env["AWS_ENDPOINT_URL_DYNAMODB"]
        assert "AWS_PROFILE" not in os.environ
    assert os.environ["AWS_PROFILE"] == "someone-real"
    assert os.environ["AWS_ACCESS_KEY_ID"] == "real-key"


def test_env_command_prints_one_assignment_per_variable(capsys):
    engines.main(["env", "http://127.0.0.1:8001"])
    lines = capsys.readouterr().out.splitlines()
    assert "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8001" in lines
    assert len(lines) == len(engines.local_dynamodb_env("x"))


def test_redis_prefix_clear_removes_only_that_prefix():
    import redis

    client = redis.Redis.from_url(engines.test_redis_url())
    client.set("engines-test-a:1", "x")
    client.set("engines-test-b:1", "x")
    try:
        assert engines.redis_prefix_clear(prefix="engines-test-a") == 1
        assert client.get("engines-test-b:1") == b"x"
    finally:
        client.delete("engines-test-a:1", "engines-test-b:1")
