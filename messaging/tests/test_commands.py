import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from devtools.dynamodb_local import free_port
from messaging import selectors
from messaging.dynamo.admin import TableAdmin
from messaging.dynamo.client import reset_clients

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


class Terminal(io.StringIO):
    """Typed answers on stdin, as from a person at a terminal."""

    def isatty(self) -> bool:
        return True


def run(*args, stdin: str | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", Terminal(stdin + "\n"))
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def fresh_table_name(dynamodb_endpoint, settings):
    name = f"test-cmd-{datetime.now(UTC):%H%M%S%f}"
    settings.MESSAGING_TABLE = name
    yield name
    TableAdmin(name).drop()


def test_schema_load_creates_then_reports_existing_table(fresh_table_name):
    assert f"created table {fresh_table_name}" in run("ddb_schema_load")
    assert "already exists" in run("ddb_schema_load")
    description = TableAdmin(fresh_table_name).describe()
    assert description["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    assert sorted(i["IndexName"] for i in description["GlobalSecondaryIndexes"]) == [
        "inbox-by-activity",
        "message-by-uuid",
        "unread-by-member",
    ]


def test_list_tables_marks_the_messaging_table(messaging_table):
    output = run("ddb_list_tables")
    assert f"{messaging_table.name}  <- MESSAGING_TABLE" in output


def test_drop_asks_first_and_keeps_the_table_on_no(fresh_table_name, monkeypatch):
    run("ddb_schema_load")
    with pytest.raises(CommandError, match="aborted"):
        run("ddb_drop", stdin="n", monkeypatch=monkeypatch)
    assert fresh_table_name in TableAdmin(fresh_table_name).list_tables()

    assert "deleted table" in run("ddb_drop", "--yes")
    assert fresh_table_name not in TableAdmin(fresh_table_name).list_tables()


def test_drop_deletes_on_yes_typed_at_the_terminal(fresh_table_name, monkeypatch):
    run("ddb_schema_load")

    assert "deleted table" in run("ddb_drop", stdin="y", monkeypatch=monkeypatch)
    assert fresh_table_name not in TableAdmin(fresh_table_name).list_tables()


def test_drop_of_a_missing_table_says_so_without_asking(fresh_table_name, monkeypatch):
    def no_questions(prompt=""):
        raise AssertionError(f"asked {prompt!r}")

    monkeypatch.setattr("builtins.input", no_questions)

    assert "does not exist" in run("ddb_drop")


def test_drop_without_a_terminal_needs_yes_and_keeps_the_table(fresh_table_name):
    run("ddb_schema_load")
    result = subprocess.run(
        [sys.executable, "manage.py", "ddb_drop"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "MESSAGING_TABLE": fresh_table_name},
    )

    assert result.returncode == 1
    assert "pass --yes" in result.stderr
    assert "Traceback" not in result.stderr
    assert fresh_table_name in TableAdmin(fresh_table_name).list_tables()


def test_missing_table_gives_one_actionable_line(fresh_table_name):
    with pytest.raises(CommandError) as error:
        run("ddb_scan")
    message = str(error.value)
    assert f"table {fresh_table_name} not found at http://127.0.0.1:" in message
    assert "run: python manage.py ddb_schema_load" in message
    assert "\n" not in message


def test_unreachable_endpoint_gives_one_actionable_line(dynamodb_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("DYNAMODB_CONNECT_TIMEOUT", "0.5")
    reset_clients()
    try:
        with pytest.raises(CommandError, match=r"cannot reach DynamoDB at http://127\.0\.0\.1:"):
            run("ddb_list_tables")
    finally:
        monkeypatch.undo()
        reset_clients()


def test_seed_creates_demo_data_in_the_past_and_adds_nothing_twice(messaging_table, table_admin):
    first = run("ddb_seed")
    second = run("ddb_seed")

    assert "conversations created: 4" in first
    assert "conversations created: 0, already there: 4; messages written: 0" in second
    assert set(User.objects.values_list("handle", flat=True)) == {"andrewbrown", "bayko", "londo"}
    items = list(table_admin.scan())
    messages = [i for i in items if i["pk"]["S"].startswith("MSG#")]
    assert len(messages) == 142
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert all(m["created_at"]["S"] < now for m in messages)

    andrew = User.objects.get(handle="andrewbrown")
    inbox = selectors.inbox_list(user=andrew).items
    assert [[p.handle for p in c.members] for c in inbox] == [
        ["bayko"],
        ["londo"],
        ["londo", "bayko"],
    ]
    assert [c.kind for c in inbox] == ["direct", "direct", "group"]
    group = inbox[0].group_uuid
    walked, cursor = 0, None
    while True:
        page = selectors.message_list(user=andrew, group_uuid=group, cursor=cursor)
        walked += len(page.items)
        if not (cursor := page.next_cursor):
            break
    assert walked == 120
    years = {m["created_at"]["S"][:4] for m in messages if m["pk"]["S"] == f"MSG#{group}"}
    assert len(years) == 2


def test_seed_password_sets_demo_logins(messaging_table):
    run("ddb_seed", "--password", "demo-pass-123")
    assert User.objects.get(handle="bayko").check_password("demo-pass-123")


def test_bulk_seed_between_unknown_handles_is_an_error_naming_them(messaging_table, alice):
    with pytest.raises(CommandError, match=r"@nobody_a.*@nobody_b"):
        run("ddb_seed", "--messages", "5", "--between", "nobody_a", "nobody_b")
    with pytest.raises(CommandError, match="@alcie") as error:
        run("ddb_seed", "--messages", "5", "--between", "alice", "alcie")

    assert "@alice" not in str(error.value)
    assert not User.objects.filter(handle__in=["nobody_a", "nobody_b", "alcie"]).exists()
    assert list(TableAdmin(messaging_table.name).scan()) == []


def test_bulk_seed_between_existing_users_any_case(messaging_table, alice, bob):
    output = run("ddb_seed", "--messages", "5", "--between", "Alice", "BOB")

    assert "users created: 0" in output
    assert "messages written: 5" in output


def test_bulk_seed_uses_batch_writes(messaging_table, dynamodb_requests):
    output = run("ddb_seed", "--messages", "60", "--between", "big_a", "big_b", "--create-users")

    assert "messages written: 60 in 4 write requests" in output
    assert dynamodb_requests.calls["BatchWriteItem"] == 3
    assert dynamodb_requests.calls["PutItem"] == 0
    big_a = User.objects.get(handle="big_a")
    (conversation,) = selectors.inbox_list(user=big_a).items
    assert (
        len(
            selectors.message_list(
                user=big_a, group_uuid=conversation.group_uuid, page_size=100
            ).items
        )
        == 60
    )


def test_bulk_seed_baseline_writes_one_put_per_message(messaging_table, dynamodb_requests):
    run("ddb_seed", "--messages", "7", "--one-put-per-message", "--create-users")
    assert dynamodb_requests.calls["PutItem"] == 7
    assert dynamodb_requests.calls["BatchWriteItem"] == 0


def test_scan_prints_readable_rows_and_honours_limit(messaging_table):
    run("ddb_seed")
    limited = run("ddb_scan", "--limit", "5").splitlines()
    everything = run("ddb_scan").splitlines()

    assert limited[-1] == f"5 item(s) in {messaging_table.name} (limited)"
    assert len(limited) == 6
    # 142 messages, 4 conversation items, 9 inbox rows (three pairs and a group of three).
    assert everything[-1] == f"155 item(s) in {messaging_table.name}"
    assert any(line.startswith("inbox row") and "with @bayko" in line for line in everything)


def test_patterns_show_request_capacity_and_rows_newest_first(messaging_table):
    run("ddb_seed")
    output = run("ddb_patterns", "list-conversations", "andrewbrown")

    assert '"IndexName": "inbox-by-activity"' in output
    assert "consumed capacity:" in output
    rows = [line for line in output.splitlines() if line.startswith("  20")]
    assert [row.split()[3] for row in rows] == ["@bayko", "@londo", "@londo,@bayko"]
    assert "navigation badge (Query on unread-by-member, keys only): 1 unread" in output

    group = rows[0].split()[6]
    conversation = run("ddb_patterns", "get-conversation", group, "--limit", "3")
    assert '"ScanIndexForward": false' in conversation
    assert "3 row(s); more pages follow" in conversation


def test_patterns_reject_unknown_handle_and_bad_uuid(messaging_table):
    with pytest.raises(CommandError, match="No user @ghost"):
        run("ddb_patterns", "list-conversations", "ghost")
    with pytest.raises(CommandError, match="not a group uuid"):
        run("ddb_patterns", "get-conversation", "not-a-uuid")


def test_scan_and_patterns_print_control_characters_escaped(messaging_table, alice, bob):
    from messaging import services

    sent = services.conversation_start(sender=alice, handle="bob", body="plain")
    # A body written by something that skipped the input rules (v1 allowed these).
    messaging_table.client.update_item(
        TableName=messaging_table.name,
        Key={"pk": {"S": f"GRP#{bob.uuid}"}, "sk": {"S": f"GRP#{sent.group_uuid}"}},
        UpdateExpression="SET last_message_body = :body",
        ExpressionAttributeValues={":body": {"S": "evil \x1b[2J\x08 text"}},
    )

    scanned = run("ddb_scan")
    listed = run("ddb_patterns", "list-conversations", "bob")

    for output in (scanned, listed):
        assert "\x1b" not in output and "\x08" not in output
        assert "evil \\x1b[2J\\x08 text" in output
