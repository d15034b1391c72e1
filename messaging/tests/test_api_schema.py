"""The OpenAPI schema: it validates, documents every status the API returns, its docs
page needs no CDN, and schemathesis finds no 5xx or schema violation on a live server."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from messaging import services

DOCUMENTED = {
    ("post", "/api/auth/token"): {"200", "400", "415", "429"},
    ("get", "/api/message_groups"): {"200", "400", "401", "503"},
    ("get", "/api/messages/{group_uuid}"): {"200", "400", "401", "404", "503"},
    ("post", "/api/messages"): {
        "201",
        "400",
        "401",
        "403",
        "404",
        "415",
        "422",
        "429",
        "503",
    },
    ("post", "/api/message_groups"): {
        "201",
        "400",
        "401",
        "403",
        "404",
        "415",
        "422",
        "429",
        "503",
    },
    ("get", "/api/message_groups/{group_uuid}"): {"200", "401", "404", "503"},
    ("post", "/api/message_groups/{group_uuid}/read"): {"204", "401", "403", "404", "503"},
    ("get", "/api/users/@{handle}/short"): {"200", "401", "404"},
    ("post", "/api/message_groups/{group_uuid}/typing"): {
        "204",
        "401",
        "403",
        "404",
        "429",
        "503",
    },
    ("get", "/api/events"): {"200", "401", "503"},
}


@pytest.fixture(scope="module")
def schema_document(tmp_path_factory):
    path = tmp_path_factory.mktemp("openapi") / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def test_schema_validates_without_warnings_and_documents_every_status(schema_document):
    operations = {
        (method, path): set(operation["responses"])
        for path, methods in schema_document["paths"].items()
        for method, operation in methods.items()
    }

    assert operations == DOCUMENTED


def test_cognito_bearer_token_is_a_documented_security_scheme(schema_document):
    schemes = schema_document["components"]["securitySchemes"]

    assert schemes["cognitoJWT"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert {"tokenAuth", "cookieAuth"} <= schemes.keys()


@pytest.mark.django_db
def test_schema_and_docs_are_public_and_docs_load_no_remote_assets(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == docs.status_code == 200
    html = docs.content.decode()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assets = re.findall(r"""(?:src|href)=["']/static/([^"']+)["']""", html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    assert all(finders.find(asset) for asset in assets)


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_or_schema_violation(
    live_server, messaging_table, user_factory, settings, tmp_path
):
    settings.MESSAGING_SEND_RATE = "10000/min"
    settings.API_AUTH_TOKEN_RATE = "10000/min"
    settings.MESSAGING_TYPING_RATE = "10000/min"
    alice = user_factory("alice")
    user_factory("bob")
    group_uuid = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
    token = Token.objects.create(user=alice).key
    config = tmp_path / "schemathesis.toml"
    # Half the generated identifiers name the real conversation and users, so success responses
    # are checked against the schema too, not only 404s.
    config.write_text(
        f"""
[dictionaries.groups]
values = ["{group_uuid}"]

[dictionaries.handles]
values = ["bob", "alice"]

[parameters]
"path.group_uuid" = {{ dictionary = "groups", probability = 0.5 }}
"path.handle" = {{ dictionary = "handles", probability = 0.5 }}
"body.message_group_uuid" = {{ dictionary = "groups", probability = 0.5 }}
"body.handle" = {{ dictionary = "handles", probability = 0.5 }}
"""
    )

    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(config),
            "run",
            f"{live_server.url}/api/schema/?format=json",
            "--url",
            live_server.url,
            # A stream that stays open; test_api_events.py tests it on the ASGI server.
            "--exclude-path",
            "/api/events",
            "--header",
            f"Authorization: Token {token}",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,"
            "response_schema_conformance",
            "--phases",
            "coverage,fuzzing",
            "--max-examples",
            "20",
            "--max-time",
            "25",
            "--seed",
            "20261124",
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        # Schemathesis keeps a crash cache in the working directory.
        cwd=tmp_path,
    )

    assert run.returncode == 0, run.stdout[-4000:]
    assert re.search(r"Tested: 9\b", run.stdout), run.stdout[-2000:]
    cases = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert cases and cases.group(1) == cases.group(2), run.stdout[-2000:]
