"""The OpenAPI schema: it validates, documents every status the API returns, its docs
page needs no CDN, and schemathesis finds no 5xx or schema violation on a live server."""

import os
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
    ("post", "/api/auth/token"): {"200", "400", "413", "414", "415", "429"},
    ("delete", "/api/auth/token"): {"204", "401", "414"},
    ("get", "/api/message_groups"): {"200", "400", "401", "414", "503"},
    ("get", "/api/messages/{group_uuid}"): {"200", "400", "401", "404", "414", "503"},
    ("post", "/api/messages"): {
        "201",
        "400",
        "401",
        "403",
        "404",
        "413",
        "414",
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
    ("post", "/api/message_groups/{group_uuid}/read"): {
        "204",
        "401",
        "403",
        "404",
        "414",
        "503",
    },
    ("get", "/api/users/@{handle}/short"): {"200", "401", "404", "414"},
    ("post", "/api/message_groups/{group_uuid}/typing"): {
        "204",
        "401",
        "403",
        "404",
        "429",
        "503",
    },
    ("get", "/api/events"): {"200", "401", "503"},
    ("post", "/api/users/@{handle}/block"): {"204", "400", "401", "403", "404", "414", "503"},
    ("delete", "/api/users/@{handle}/block"): {"204", "400", "401", "403", "404", "414", "503"},
    ("get", "/api/blocks"): {"200", "401", "414", "503"},
    ("post", "/api/message_groups/{group_uuid}/mute"): {"204", "401", "403", "404", "414", "503"},
    ("delete", "/api/message_groups/{group_uuid}/mute"): {
        "204",
        "401",
        "403",
        "404",
        "414",
        "503",
    },
    ("delete", "/api/message_groups/{group_uuid}"): {"204", "401", "403", "404", "414", "503"},
    ("get", "/api/me/export"): {"200", "401", "429", "503"},
    ("patch", "/api/messages/{group_uuid}/{message_uuid}"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "413",
        "414",
        "415",
        "429",
        "503",
    },
    ("delete", "/api/messages/{group_uuid}/{message_uuid}"): {
        "204",
        "401",
        "403",
        "404",
        "414",
        "503",
    },
    ("post", "/api/messages/{group_uuid}/{message_uuid}/report"): {
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "414",
        "415",
        "429",
        "503",
    },
}

# The suite runs a small schemathesis pass; `make schemathesis` runs the full one (every
# check, every phase, 300 examples) through the same test.
SCHEMATHESIS_EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))
SCHEMATHESIS_MAX_TIME = int(os.environ.get("SCHEMATHESIS_MAX_TIME", "20"))
SCHEMATHESIS_PHASES = os.environ.get("SCHEMATHESIS_PHASES", "coverage,fuzzing,stateful")


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
    settings.MESSAGING_TYPING_RATE = "10000/min"
    settings.MESSAGING_EXPORT_RATE = "10000/min"
    alice = user_factory("alice")
    bob = user_factory("bob")
    group_uuid = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
    # One message of each: alice's own (edit, delete) and bob's (report).
    own = services.message_create(sender=alice, group_uuid=group_uuid, body="mine")
    theirs = services.message_create(sender=bob, group_uuid=group_uuid, body="theirs")
    token = Token.objects.create(user=alice).key
    config = tmp_path / "schemathesis.toml"
    # Half the generated identifiers name the real conversation and users, so success responses
    # are checked against the schema too, not only 404s.
    config.write_text(
        f"""
[dictionaries.groups]
values = ["{group_uuid}"]

# Not "alice": messaging oneself is a 400 that no schema can state (test_api.py has it).
[dictionaries.handles]
values = ["bob"]

[dictionaries.messages]
values = ["{own.uuid}", "{theirs.uuid}"]

[parameters]
"path.group_uuid" = {{ dictionary = "groups", probability = 0.5 }}
"path.message_uuid" = {{ dictionary = "messages", probability = 0.5 }}
"path.handle" = {{ dictionary = "handles", probability = 0.5 }}
"body.message_group_uuid" = {{ dictionary = "groups", probability = 0.5 }}
"body.handle" = {{ dictionary = "handles", probability = 0.5 }}

# Schema-valid yet refused, by rules no schema can state: a wrong password, and a cursor
# of the right shape whose signature does not check out.
[[operations]]
include-operation-id = "auth_token_create"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "429"]

# A reused Idempotency-Key depends on what was sent before.
[[operations]]
include-operation-id = "messages_create"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "422", "429"]

# Editing or deleting someone else's message, or a deleted one, and reporting one's own
# message or one already reported, depend on which message and what came before.
[[operations]]
include-operation-id-regex = "^messages_(partial_update|destroy|report)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "403", "404", "409", "429"]

[[operations]]
include-operation-id-regex = "^(message_groups|messages)_list$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "404"]
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
            "all",
            "--phases",
            SCHEMATHESIS_PHASES,
            # Signing out would end the token every other request uses; its own tests
            # are in test_api_tokens.py.
            "--exclude-operation-id",
            "auth_token_destroy",
            "--max-examples",
            str(SCHEMATHESIS_EXAMPLES),
            "--max-time",
            str(SCHEMATHESIS_MAX_TIME),
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
        timeout=SCHEMATHESIS_MAX_TIME * 4 + 60,
        # Schemathesis keeps a crash cache in the working directory.
        cwd=tmp_path,
    )

    report = run.stdout
    failures = report[report.find("= FAILURES =") :] if "= FAILURES =" in report else report
    print(report[report.find("SUMMARY") :])
    assert run.returncode == 0, failures[:20000]
    assert re.search(r"Tested: 19\b", run.stdout), run.stdout[-2000:]
    cases = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert cases and cases.group(1) == cases.group(2), run.stdout[-2000:]
