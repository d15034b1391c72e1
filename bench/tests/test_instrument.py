"""The meter counts what goes over the wire: one call, every HTTP attempt of it."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.config import Config

from bench.instrument import Meter


class _FlakyDynamoDB(BaseHTTPRequestHandler):
    """Answers the first request with a 500, the next ones as DynamoDB would."""

    failures_left = 1

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).failures_left -= 1
        failing = type(self).failures_left >= 0
        body = json.dumps({"__type": "InternalServerError"} if failing else {"TableNames": []})
        self.send_response(500 if failing else 200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky_endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FlakyDynamoDB)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


def test_a_retried_call_is_one_call_and_two_attempts(flaky_endpoint):
    client = boto3.client(
        "dynamodb",
        endpoint_url=flaky_endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"mode": "standard", "max_attempts": 3}),
    )
    meter = Meter()
    meter.install(client)
    client.list_tables()
    cost = meter.cost.as_dict()
    assert cost["dynamodb_by_operation"] == {"ListTables": 1}
    assert cost["http_attempts"] == 2
    assert cost["retries"] == 1
