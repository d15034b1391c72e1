import json
import uuid
from typing import Any

from django.core.management.base import CommandError

from messaging.dynamo import Page, schema
from messaging.dynamo.items import preview, printable, unread_display
from messaging.errors import NotFound
from messaging.management.base import DynamoCommand
from messaging.selectors import people_by_uuid, user_get_by_handle
from messaging.store import messaging_table


class Command(DynamoCommand):
    help = (
        "Run one of the table's access patterns and show the exact DynamoDB request, the"
        " consumed capacity and the rows. Patterns: list-conversations <handle> (a member's"
        " inbox, newest first, on the inbox index, then the navigation badge on the unread"
        " index); get-conversation <group_uuid> (newest messages of a group, shown in time"
        " order)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="pattern", required=True)
        inbox = sub.add_parser("list-conversations", help="a member's inbox, newest first")
        inbox.add_argument("handle")
        inbox.add_argument("--limit", type=int, default=20)
        messages = sub.add_parser("get-conversation", help="a group's newest messages")
        messages.add_argument("group_uuid")
        messages.add_argument("--limit", type=int, default=20)

    def handle(self, *args, pattern, limit, **options):
        if not 1 <= limit <= 1000:
            raise CommandError("--limit must be between 1 and 1000")
        table = messaging_table()
        if pattern == "list-conversations":
            try:
                user = user_get_by_handle(handle=options["handle"])
            except NotFound as exc:
                raise CommandError(str(exc)) from exc
            page = table.inbox_page(user_uuid=user.uuid, position=None, limit=limit)
            self._request(page)
            for row in page.items:
                handles = ",".join(f"@{printable(member.handle)}" for member in row.members)
                self.stdout.write(
                    f"  {row.last_message_at:%Y-%m-%d %H:%M:%S}  {row.kind:<6} {handles:<24}"
                    f" unread {unread_display(row.unread_count):<3} {row.group_uuid}"
                    f"  {preview(row.last_message_body)}"
                )
            self._footer(page)
            count = len(table.unread_conversations(user_uuid=user.uuid))
            self.stdout.write(
                f"navigation badge (Query on {schema.UNREAD_INDEX}, keys only):"
                f" {unread_display(count)} unread conversation(s)"
            )
        else:
            try:
                group_uuid = uuid.UUID(options["group_uuid"])
            except ValueError as exc:
                raise CommandError(f"not a group uuid: {options['group_uuid']!r}") from exc
            messages = table.message_page(group_uuid=group_uuid, position=None, limit=limit)
            self._request(messages)
            people = people_by_uuid(uuids={message.sender_uuid for message in messages.items})
            for message in messages.items:
                sender = people.get(message.sender_uuid)
                handle = printable(sender.handle) if sender else str(message.sender_uuid)[:8]
                text = "(deleted)" if message.deleted else preview(message.body)
                self.stdout.write(
                    f"  {message.created_at:%Y-%m-%d %H:%M:%S}  #{message.seq or '-':<5}"
                    f" @{handle:<16} {text}"
                )
            self._footer(messages)

    def _footer(self, page: Page[Any]) -> None:
        more = "more pages follow" if page.next_position else "no more pages"
        self.stdout.write(f"{len(page.items)} row(s); {more}")

    def _request(self, page: Page[Any]) -> None:
        self.stdout.write("request:")
        self.stdout.write(json.dumps(page.request, indent=2))
        self.stdout.write(f"consumed capacity: {page.consumed_capacity} RCU")
