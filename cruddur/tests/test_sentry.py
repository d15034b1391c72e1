"""Sentry: off without SENTRY_DSN; with it, a failing request reaches the DSN's server
(a local one here) with no body, token, cookie, query string or user in the event."""

import gzip
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import sentry_sdk
from django.conf import settings

from devtools import dynamodb_local

ROOT = Path(__file__).resolve().parents[2]
SECRET_BODY = '{"message": "the-launch-code-is-7781-zebra"}'
SECRET_TOKEN = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
SECRET_COOKIE = "sessionid=q8z1secretsession"


def test_sentry_is_off_without_a_dsn():
    assert settings.SENTRY_DSN == ""
    assert not sentry_sdk.get_client().is_active()


class SentryStub:
    """Collects what the SDK sends to /api/<project>/envelope/."""

    def __init__(self):
        self.envelopes: list[bytes] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                data = self.rfile.read(int(self.headers["Content-Length"]))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    data = gzip.decompress(data)
                elif encoding == "deflate":
                    data = zlib.decompress(data)
                elif encoding == "br":
                    raise AssertionError("brotli envelopes: install nothing that enables them")
                stub.envelopes.append(data)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((dynamodb_local.HOST, 0), Handler)
        self.dsn = f"http://publickey@{dynamodb_local.HOST}:{self.httpd.server_port}/1"


SERVER_PROCESS = f"""
import django, sentry_sdk
django.setup()
from django.core.management import call_command
# Its own database: the request's middleware reads the session like any request does.
call_command("migrate", verbosity=0)
from django.test import Client
from django.test.utils import override_settings
with override_settings(ROOT_URLCONF="cruddur.tests.raising_urls"):
    response = Client(raise_request_exception=False).post(
        "/boom?token={SECRET_TOKEN}",
        data={SECRET_BODY!r},
        content_type="application/json",
        HTTP_AUTHORIZATION="Token {SECRET_TOKEN}",
        HTTP_COOKIE="{SECRET_COOKIE}",
    )
assert response.status_code == 500, response.status_code
sentry_sdk.flush(timeout=5)
"""


def test_with_a_dsn_a_failing_request_reaches_sentry_without_personal_data(tmp_path):
    stub = SentryStub()
    thread = threading.Thread(target=stub.httpd.serve_forever, daemon=True)
    thread.start()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cruddur.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'sentry.sqlite3'}",
        "SENTRY_DSN": stub.dsn,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "sentry-test-secret-key-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    }
    try:
        completed = subprocess.run(
            [sys.executable, "-c", SERVER_PROCESS],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        stub.httpd.shutdown()
        thread.join()

    assert completed.returncode == 0, completed.stderr
    sent = b"".join(stub.envelopes).decode()
    assert "RuntimeError" in sent
    assert "the view failed" in sent
    assert "/boom" in sent
    for secret in ("launch-code", SECRET_TOKEN, "q8z1secretsession"):
        assert secret not in sent
    assert "Authorization" not in sent
