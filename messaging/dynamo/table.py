"""The request path's access patterns: what pages, the API and the stream consumer call.

Each method names its access pattern, the index it uses and what it costs. Methods take
and return the records in `records.py`; requests are composed from `items.py`, the only
module that spells an attribute. Operators' calls (table lifecycle, scans, migration)
are in `admin.py`, seeding loads in `bulk.py`.

How a message moves (DESIGN §4):
- the conversation item is the head of the conversation's sequence: every message takes
  the next `seq` in the same transaction that moves the head, conditioned on the head
  being where the sender last saw it, so two senders can never take one number;
- a member's unread count is `last_seq - read_seq` on their row: two numbers, so a row
  stays the same size at any backlog, and a stream record replayed, duplicated or
  delivered out of order cannot count twice (rows only move forward, and the count
  depends on where they are, not on how many updates arrived).
"""

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar, cast

from botocore.exceptions import BotoCoreError, ClientError

from messaging.dynamo import items, keys, schema
from messaging.dynamo.client import endpoint_description, get_client
from messaging.dynamo.errors import (
    Blocked,
    ConversationExists,
    IdempotentReplay,
    MessageChangeRefused,
    MessageMissing,
    NotAMember,
    StoreUnavailable,
    translate,
)
from messaging.dynamo.items import s
from messaging.dynamo.records import (
    UNREAD_CAP,
    Conversation,
    IdempotencyRecord,
    IdempotencyRequest,
    InboxRow,
    Member,
    MemberRead,
    Membership,
    Message,
    Page,
    Position,
)
from messaging.dynamo.transact import Cancelled, Transaction, pause_before_retry, query_page

P = ParamSpec("P")
R = TypeVar("R")

# A send that loses the race for the next sequence number retries after the winner;
# every lost race means another message committed, so this only bounds pathological
# contention where no request deadline applies (the request path has one).
SEND_ATTEMPTS = 200
UPGRADE_ATTEMPTS = 10
# A block loops only while the pair's conversation appears (or goes) between its tries.
BLOCK_ATTEMPTS = 10
# An edit or deletion that lost a race with another change of the same message re-reads
# it from the cancellation and tries again; each loss means the other change committed.
CHANGE_ATTEMPTS = 10
# The newest messages of a conversation read when the uuid index does not list a message
# yet (it is eventually consistent on AWS, so a message sent a moment ago may be absent).
RECENT_MESSAGES = 25


def gateway_errors(method: Callable[P, R]) -> Callable[P, R]:
    """botocore's errors become the gateway's own (StoreUnavailable, TableMissing)."""

    @wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            name = getattr(args[0], "name", "?")
            translated = translate(exc, table_name=name, endpoint=endpoint_description())
            if translated is exc:
                raise
            raise translated from exc

    return wrapper


class TableAccess:
    """A table name and the process's client (or one given, for tests): what each of the
    gateway's three callers' classes starts from."""

    def __init__(self, name: str, client: Any = None):
        self.name = name
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or get_client()


class MessagingTable(TableAccess):
    """The messaging table at the process's DynamoDB endpoint."""

    # --- reads -------------------------------------------------------------------

    @gateway_errors
    def status(self) -> str:
        """Access pattern: readiness. DescribeTable: proves the endpoint, the credentials
        and the table at once, and costs no capacity."""
        return str(self.client.describe_table(TableName=self.name)["Table"]["TableStatus"])

    @gateway_errors
    def inbox_page(
        self, *, user_uuid: uuid.UUID, position: dict[str, Any] | None, limit: int
    ) -> Page[InboxRow]:
        """Access pattern: a member's conversations, newest first.

        Query on the sparse index `inbox-by-activity` (pk = GRP#<user>), descending, which
        projects only what the page renders. No filter on dates: every conversation shows,
        whatever its year. Rows still in v1's shape (before `ddb_migrate`) lack the
        projected members, so they are read whole with one BatchGetItem.
        """
        request: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": schema.INBOX_INDEX,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": s(keys.inbox_pk(user_uuid))},
            "ScanIndexForward": False,
        }
        if position is not None:
            request["ExclusiveStartKey"] = self._inbox_start_key(user_uuid, position)
        page = query_page(
            self.client,
            request,
            limit=limit,
            parse=lambda item: item,
            position_of=lambda item: {
                "last_message_sk": item[items.LAST_MESSAGE_SK]["S"],
                "group_uuid": item[items.GROUP_UUID]["S"],
            },
        )
        whole = self._v1_rows_whole([item for item in page.items if items.MEMBERS not in item])
        return Page(
            items=[
                items.inbox_row_from_item(whole.get(item[items.SK]["S"], item))
                for item in page.items
            ],
            next_position=page.next_position,
            request=page.request,
            consumed_capacity=page.consumed_capacity,
        )

    def _v1_rows_whole(self, projected: list[items.Item]) -> dict[str, items.Item]:
        if not projected:
            return {}
        response = self.client.batch_get_item(
            RequestItems={
                self.name: {
                    "Keys": [
                        {items.PK: item[items.PK], items.SK: item[items.SK]} for item in projected
                    ],
                    "ConsistentRead": True,
                }
            }
        )
        return {item[items.SK]["S"]: item for item in response["Responses"].get(self.name, [])}

    def _inbox_start_key(self, user_uuid: uuid.UUID, position: dict[str, Any]) -> dict[str, Any]:
        # The partition comes from the caller, never from the position, so a forged
        # position cannot reach another user's inbox.
        last_message_sk = position.get("last_message_sk") if isinstance(position, dict) else None
        group = position.get("group_uuid") if isinstance(position, dict) else None
        keys.parse_message_sk(last_message_sk)
        try:
            group_uuid = uuid.UUID(str(group))
        except ValueError as exc:
            raise keys.MalformedKey(f"not a group uuid: {group!r}") from exc
        return {
            **items.inbox_key(user_uuid, group_uuid),
            items.LAST_MESSAGE_SK: s(last_message_sk),
        }

    @gateway_errors
    def unread_conversations(self, *, user_uuid: uuid.UUID) -> frozenset[uuid.UUID]:
        """Access pattern: which of a member's conversations have unread messages, up to
        UNREAD_CAP + 1 of them (the navigation badge shows "99+" beyond).

        Query on the sparse index `unread-by-member` (unread_member = <user>), keeping
        rows whose `last_seq` is past `read_seq` and that are not muted. It reads only
        rows flagged since their member last caught up, at most UNREAD_CAP + 1 a page,
        so it costs the same whatever the inbox's length. Keys only come back, so the
        caller can leave out a conversation it has just read (the index lags its table).
        """
        request: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": schema.UNREAD_INDEX,
            "KeyConditionExpression": f"{items.UNREAD_MEMBER} = :member",
            "FilterExpression": (
                f"{items.LAST_SEQ} > {items.READ_SEQ} AND attribute_not_exists({items.MUTED})"
            ),
            "ProjectionExpression": items.SK,
            "ExpressionAttributeValues": {":member": s(user_uuid)},
            "Limit": UNREAD_CAP + 1,
        }
        found: set[uuid.UUID] = set()
        # A flag can outlive its unread messages (a read racing a send); the filter drops
        # those, and a few pages bound what such leftovers can cost.
        for _ in range(3):
            response = self.client.query(**request)
            found |= {
                keys.uuid_after_prefix(item[items.SK]["S"], keys.INBOX_PREFIX)
                for item in response["Items"]
            }
            if len(found) > UNREAD_CAP or "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return frozenset(sorted(found)[: UNREAD_CAP + 1])

    @gateway_errors
    def membership_get(self, *, user_uuid: uuid.UUID, group_uuid: uuid.UUID) -> Membership | None:
        """Access pattern: the caller's own row and the conversation item, one strongly
        consistent BatchGetItem (DESIGN invariant 5: a member who just started a
        conversation can open it at once; a non-member gets None, like a missing one).
        """
        response = self.client.batch_get_item(
            RequestItems={
                self.name: {
                    "Keys": [
                        items.inbox_key(user_uuid, group_uuid),
                        items.conversation_key(group_uuid),
                    ],
                    "ConsistentRead": True,
                }
            }
        )
        found = {item[items.PK]["S"]: item for item in response["Responses"].get(self.name, [])}
        row_item = found.get(keys.inbox_pk(user_uuid))
        if row_item is None:
            return None
        row = items.inbox_row_from_item(row_item)
        conversation_item = found.get(keys.conversation_pk(group_uuid))
        if conversation_item is None:
            return Membership(row=row, conversation=_unstored_conversation(row, user_uuid))
        return Membership(row=row, conversation=items.conversation_from_item(conversation_item))

    @gateway_errors
    def message_page(
        self, *, group_uuid: uuid.UUID, position: dict[str, Any] | None, limit: int
    ) -> Page[Message]:
        """Access pattern: a conversation's newest messages, then older pages.

        Query on the table (pk = MSG#<group>), descending; the page is returned in time
        order. Whoever calls this has already checked membership.
        """
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": s(keys.message_pk(group_uuid))},
            "ScanIndexForward": False,
        }
        if position is not None:
            sk = position.get("sk") if isinstance(position, dict) else None
            keys.parse_message_sk(sk)
            request["ExclusiveStartKey"] = items.message_key(group_uuid, str(sk))
        page = query_page(
            self.client,
            request,
            limit=limit,
            parse=items.message_from_item,
            position_of=lambda message: {"sk": message.sk},
        )
        page.items.reverse()
        return page

    # --- writes ------------------------------------------------------------------

    @gateway_errors
    def conversation_create(
        self,
        *,
        members: tuple[Member, ...],
        sender_uuid: uuid.UUID,
        body: str,
        idempotency: IdempotencyRequest | None = None,
    ) -> Message:
        """Access pattern: start a conversation. One TransactWriteItems puts the
        conversation item, every member's row and the first message, all insert-only
        (DESIGN invariant 3), so concurrent starts by several members land as one.

        Raises ConversationExists when the set of people already has its conversation
        (the sender's row and the conversation come back with the cancellation when
        both exist, so reopening costs no extra read), and Blocked when one member has
        blocked another: a ConditionCheck on every member's blocks item (a missing item
        passes) is part of the same transaction (DESIGN invariant 7).
        """
        group_uuid = keys.group_uuid_for_members(member.uuid for member in members)
        now = datetime.now(UTC)
        message = Message(
            uuid=uuid.uuid4(),
            group_uuid=group_uuid,
            sender_uuid=sender_uuid,
            member_uuids=frozenset(member.uuid for member in members),
            body=body,
            created_at=now,
            seq=1,
        )
        conversation = Conversation(
            group_uuid=group_uuid,
            kind=items.kind_for(len(members)),
            members=members,
            last_seq=1,
            last_message_sk=message.sk,
            version=1,
            reads={sender_uuid: MemberRead(position=message.position, at=now)},
        )
        transaction = Transaction(self.name)
        transaction.put(
            "conversation",
            items.conversation_item(conversation, created_at=now),
            condition=items.INSERT_ONLY,
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        transaction.put("message", items.message_item(message), condition=items.INSERT_ONLY)
        for member in members:
            transaction.put(
                _row_part(member.uuid),
                items.inbox_item(
                    owner=member, members=members, message=message, read=member.uuid == sender_uuid
                ),
                condition=items.INSERT_ONLY,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        for member in members:
            condition, values = items.not_blocking(
                other.uuid for other in members if other.uuid != member.uuid
            )
            transaction.check(
                _blocks_part(member.uuid),
                Key=items.blocks_key(member.uuid),
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        self._add_idempotency(transaction, sender_uuid, idempotency, message)
        cancelled = transaction.run(self.client)
        if cancelled is None:
            return message
        self._raise_replay(cancelled)
        if cancelled.failed("conversation") or cancelled.failed(_row_part(sender_uuid)):
            row_item = cancelled.old_item(_row_part(sender_uuid))
            conversation_item = cancelled.old_item("conversation")
            membership = None
            if row_item is not None and conversation_item is not None:
                membership = Membership(
                    row=items.inbox_row_from_item(row_item),
                    conversation=items.conversation_from_item(conversation_item),
                )
            raise ConversationExists(membership)
        pairs = frozenset(
            frozenset((member.uuid, other))
            for member in members
            for other in items.blocked_from_item(cancelled.old_item(_blocks_part(member.uuid)))
            & message.member_uuids
        )
        if pairs:
            raise Blocked(pairs)
        raise StoreUnavailable(f"conversation start was cancelled: {cancelled.describe()}")

    @gateway_errors
    def message_send(
        self,
        *,
        membership: Membership,
        body: str,
        fanout_inline: bool,
        idempotency: IdempotencyRequest | None = None,
    ) -> Message:
        """Access pattern: a message in an existing conversation.

        One TransactWriteItems: the message (insert-only, the next `seq`, stamped after
        the newest message even across clock skew) and the conversation head (moved only
        if it is still where this sender saw it). Inline fan-out adds every member's row
        to the same transaction; stream fan-out leaves the rows to the consumer. A lost
        race re-reads the head from the cancellation and tries again after the winner.

        In a pair, the head moves only while nobody has blocked anybody (DESIGN invariant
        7): a block that commits before the send, even after this sender read the head,
        fails the transaction, and its ALL_OLD shows the block. Raises Blocked.
        """
        if not membership.conversation.stored:
            membership = self._upgrade_v1_pair(membership.row)
        sender_uuid = membership.row.user_uuid
        conversation = membership.conversation
        members = set(conversation.member_uuids)
        for attempt in range(SEND_ATTEMPTS):
            if conversation.kind == "direct" and conversation.blocked_by:
                raise Blocked(frozenset({conversation.member_uuids}))
            message = _next_message(conversation, sender_uuid=sender_uuid, body=body)
            transaction = Transaction(self.name)
            transaction.put("message", items.message_item(message), condition=items.INSERT_ONLY)
            transaction.update("conversation", **_head_advance(message, conversation))
            if fanout_inline:
                for member in sorted(members):
                    transaction.update(_row_part(member), **row_advance(message, owner=member))
            self._add_idempotency(transaction, sender_uuid, idempotency, message)
            cancelled = transaction.run(self.client)
            if cancelled is None:
                return message
            self._raise_replay(cancelled)
            head = cancelled.old_item("conversation")
            if head is not None:
                conversation = items.conversation_from_item(head)
            elif fanout_inline and cancelled.failed(_row_part(sender_uuid)):
                raise NotAMember()
            elif fanout_inline and cancelled.failed_parts():
                # A member's row is gone (a deleted account): deliver to the others.
                members -= {_member_of_part(name) for name in cancelled.failed_parts()}
            else:
                raise StoreUnavailable(f"message write was cancelled: {cancelled.describe()}")
            if not pause_before_retry(attempt):
                break
        raise StoreUnavailable("The conversation is busy; please send again.")

    @gateway_errors
    def conversation_mark_read(
        self, *, membership: Membership, through: Position | None = None
    ) -> MemberRead | None:
        """Access pattern: a member read a conversation up to its newest message (or up to
        `through`, a message shown to them that the stream has not moved their row to
        yet). One TransactWriteItems of two conditional updates: the reader's row and
        their read position on the conversation item ("Seen"). Both move only forward.
        Returns the read position written, or None when there was nothing to mark.
        """
        if not membership.conversation.stored:
            membership = self._upgrade_v1_pair(membership.row)
        row = membership.row
        position = max(row.position, through) if through is not None else row.position
        seq = max(row.position.seq or 0, (through.seq if through else None) or 0)
        already = row.read.position
        if row.unread_count == 0 and already is not None and already >= position:
            return None
        now = datetime.now(UTC)
        for caught_up in (True, False):
            transaction = Transaction(self.name)
            transaction.update(
                "row", **_row_read(row, seq=seq, sk=position.sk, at=now, caught_up=caught_up)
            )
            transaction.update(
                "conversation",
                Key=items.conversation_key(row.group_uuid),
                UpdateExpression="SET #reads.#member = :read",
                ConditionExpression=(
                    f"{items.EXISTS} AND (attribute_not_exists(#reads.#member.#seq)"
                    " OR #reads.#member.#seq < :seq)"
                ),
                ExpressionAttributeNames={
                    "#reads": items.READS,
                    "#member": str(row.user_uuid),
                    "#seq": "seq",
                },
                ExpressionAttributeValues={
                    ":read": items.read_value(
                        MemberRead(position=Position(sk=position.sk, seq=seq), at=now)
                    ),
                    ":seq": items.n(seq),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            cancelled = transaction.run(self.client)
            if cancelled is None:
                return MemberRead(position=Position(sk=position.sk, seq=seq), at=now)
            if not cancelled.failed("row"):
                if cancelled.failed("conversation"):
                    # Another tab already moved the read position this far.
                    return None
                raise StoreUnavailable(f"mark-read was cancelled: {cancelled.describe()}")
            old = cancelled.old_item("row")
            if old is None:
                raise NotAMember()
            if (items.inbox_row_from_item(old).position.seq or 0) <= seq:
                # Read as far already (another tab): nothing to do.
                return None
            # A message arrived since the page was read: mark up to where the reader got,
            # and leave the row flagged unread.
        return None

    @gateway_errors
    def inbox_rows_advance(self, *, message: Message) -> int:
        """Access pattern: stream fan-out of one new message to every member's row.

        One conditional UpdateItem per member, each forward-only, so the consumer may see
        a record twice, late, out of order, or after the inline path applied it. A row
        whose member already read past the message (on the conversation page, before the
        stream caught up) takes the preview without being flagged unread. Returns how many
        rows changed.
        """
        return sum(self._row_advance(message, member) for member in sorted(message.member_uuids))

    @gateway_errors
    def inbox_row_read_own(self, *, message: Message) -> bool:
        """Access pattern: stream fan-out, the sender's row reads up to their own message
        (one conditional UpdateItem, forward only): what `inbox_rows_advance` gives the
        sender, for a message whose rows a later one of the same batch already carried
        forward. That later message stays unread, so the row is never caught up and the
        badge flag stays. Returns whether the row changed."""
        return self._read_up_to(message, message.sender_uuid, forms=(False,))

    def _row_advance(self, message: Message, member: uuid.UUID) -> bool:
        try:
            self.client.update_item(
                TableName=self.name,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **row_advance(message, owner=member),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old = cast(items.Item | None, exc.response.get("Item"))
            return old is not None and self._advance_late(message, member, old)
        return True

    def _advance_late(self, message: Message, member: uuid.UUID, old: items.Item) -> bool:
        """The row was not where `row_advance` needs it: it is past this message already
        (a reordered or replayed record), or its member read past it first."""
        row = items.inbox_row_from_item(old)
        if row.v1:
            return False
        seq = message.seq or 0
        if (row.position.seq or 0) >= seq:
            # A later message got here first. The sender has still read up to their own
            # message; read positions only move forward, so this is order-independent.
            return member == message.sender_uuid and self._read_up_to(message, member)
        return self._try_update(
            Key=items.inbox_key(member, message.group_uuid),
            UpdateExpression=(
                f"SET {items.PREVIEW_SET}, {items.LAST_SEQ} = :seq REMOVE {items.HIDDEN_SK}"
            ),
            ConditionExpression=f"{items.EXISTS} AND {items.LAST_SEQ} < :seq",
            ExpressionAttributeValues={
                **items.preview_values(message),
                ":seq": items.n(message.seq or 0),
            },
        )

    def _read_up_to(
        self, message: Message, member: uuid.UUID, forms: tuple[bool, ...] = (True, False)
    ) -> bool:
        """`member`'s read position moved up to `message`: each form in turn, caught up
        (the row shows nothing newer, so it leaves the badge) or not, until one applies."""
        values = {
            ":seq": items.n(message.seq or 0),
            ":sk": s(message.sk),
            ":at": s(keys.format_timestamp(message.created_at)),
        }
        for caught_up in forms:
            update = f"SET {items.READ_SEQ} = :seq, {items.READ_SK} = :sk, {items.READ_AT} = :at"
            condition = f"{items.EXISTS} AND {items.READ_SEQ} < :seq"
            if caught_up:
                update += f" REMOVE {items.UNREAD_MEMBER}"
                condition += f" AND {items.LAST_SEQ} <= :seq"
            if self._try_update(
                Key=items.inbox_key(member, message.group_uuid),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            ):
                return True
        return False

    # --- people's controls: block, mute, hide ------------------------------------

    @gateway_errors
    def blocks_get(self, *, user_uuid: uuid.UUID) -> frozenset[uuid.UUID]:
        """Access pattern: whom a user has blocked. GetItem on BLOCKS#<user>, strongly
        consistent (a person who just blocked someone sees it at once)."""
        response = self.client.get_item(
            TableName=self.name, Key=items.blocks_key(user_uuid), ConsistentRead=True
        )
        return items.blocked_from_item(response.get("Item"))

    @gateway_errors
    def block_set(self, *, user_uuid: uuid.UUID, other_uuid: uuid.UUID, blocked: bool) -> None:
        """Access pattern: block (or unblock) someone. One TransactWriteItems: the
        blocker's blocks item (what a new conversation checks), and the pair's
        conversation item (`blocked_by`, what a send's head condition checks) when it
        exists, else a ConditionCheck that it still does not. Either way the block and
        the pair's state commit together, so no send slips between them; a conversation
        that appears (or goes) between the two shapes means one more try. Idempotent:
        sets gain or lose the uuid whatever they held."""
        group_uuid = keys.group_uuid_for_members((user_uuid, other_uuid))
        action = "ADD" if blocked else "DELETE"
        for _ in range(BLOCK_ATTEMPTS):
            for exists in (True, False):
                transaction = Transaction(self.name)
                transaction.update(
                    "blocks",
                    Key=items.blocks_key(user_uuid),
                    UpdateExpression=(
                        f"SET {items.USER_UUID} = :user {action} {items.BLOCKED} :other"
                    ),
                    ExpressionAttributeValues={
                        ":user": s(user_uuid),
                        ":other": items.uuid_set_value([other_uuid]),
                    },
                )
                if exists:
                    transaction.update(
                        "conversation",
                        Key=items.conversation_key(group_uuid),
                        UpdateExpression=f"{action} {items.BLOCKED_BY} :user",
                        ConditionExpression=items.EXISTS,
                        ExpressionAttributeValues={":user": items.uuid_set_value([user_uuid])},
                    )
                else:
                    transaction.check(
                        "conversation",
                        Key=items.conversation_key(group_uuid),
                        ConditionExpression=f"attribute_not_exists({items.PK})",
                    )
                cancelled = transaction.run(self.client)
                if cancelled is None:
                    return
                if not cancelled.failed("conversation"):
                    raise StoreUnavailable(f"block was cancelled: {cancelled.describe()}")
        raise StoreUnavailable("block kept racing the conversation's creation")

    @gateway_errors
    def conversation_mute_set(self, *, membership: Membership, muted: bool) -> None:
        """Access pattern: mute (or unmute) a conversation for one member. One
        conditional UpdateItem of their own row: `muted` is set or removed (the badge's
        query keeps only rows without it, and the inbox index projects it)."""
        if not membership.conversation.stored:
            membership = self._upgrade_v1_pair(membership.row)
        row = membership.row
        request: dict[str, Any] = {
            "Key": items.inbox_key(row.user_uuid, row.group_uuid),
            "ConditionExpression": items.EXISTS,
        }
        if muted:
            request["UpdateExpression"] = f"SET {items.MUTED} = :true"
            request["ExpressionAttributeValues"] = {":true": {"BOOL": True}}
        else:
            request["UpdateExpression"] = f"REMOVE {items.MUTED}"
        if not self._try_update(**request):
            raise NotAMember()

    @gateway_errors
    def conversation_hide(self, *, membership: Membership) -> bool:
        """Access pattern: hide a conversation from one member's inbox until its next
        message. One conditional UpdateItem of their own row: `last_message_sk` moves to
        `hidden_message_sk`, so the row leaves the sparse inbox index, and the row reads
        up to its last message and leaves the unread index (nothing in the badge).

        Forward-safe: conditioned on the row's `last_seq` being the one the membership
        read saw, so a message that reached the row since is never hidden (the row stays
        in the inbox, as it would reappear with that message anyway); `row_advance`
        brings a hidden row back with the next message. The conversation item's read
        position ("Seen") is not moved: hiding is not reading. Returns False when the row
        is not hidden by this call (already hidden, or a newer message arrived).
        """
        if not membership.conversation.stored:
            membership = self._upgrade_v1_pair(membership.row)
        row = membership.row
        seen = row.position.seq or 0
        hide = f"SET {items.HIDDEN_SK} = :sk REMOVE {items.LAST_MESSAGE_SK}, {items.UNREAD_MEMBER}"
        read = (
            f"SET {items.HIDDEN_SK} = :sk, {items.READ_SEQ} = :seen, {items.READ_SK} = :sk,"
            f" {items.READ_AT} = :now REMOVE {items.LAST_MESSAGE_SK}, {items.UNREAD_MEMBER}"
        )
        shown = f"{items.EXISTS} AND {items.LAST_MESSAGE_SK} = :sk AND {items.LAST_SEQ} = :seen"
        values = {":seen": items.n(seen), ":sk": s(row.position.sk)}
        # Read positions only move forward: a reader ahead of the stream (read_seq past
        # the row's last_seq) keeps theirs.
        if self._try_update(
            Key=items.inbox_key(row.user_uuid, row.group_uuid),
            UpdateExpression=read,
            ConditionExpression=f"{shown} AND {items.READ_SEQ} <= :seen",
            ExpressionAttributeValues={
                **values,
                ":now": s(keys.format_timestamp(datetime.now(UTC))),
            },
        ):
            return True
        try:
            self.client.update_item(
                TableName=self.name,
                Key=items.inbox_key(row.user_uuid, row.group_uuid),
                UpdateExpression=hide,
                ConditionExpression=f"{shown} AND {items.READ_SEQ} > :seen",
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            if "Item" not in exc.response:
                raise NotAMember() from exc
            return False
        return True

    # --- edits and deletions ----------------------------------------------------

    @gateway_errors
    def message_find(self, *, group_uuid: uuid.UUID, message_uuid: uuid.UUID) -> Message | None:
        """Access pattern: one message of a conversation by its uuid (the API's URLs name
        no time). Query on `message-by-uuid` (KEYS_ONLY) for its key, then a strongly
        consistent GetItem of the item itself: 0.5 + 0.5 RCU. The index is eventually
        consistent, so when it lists no such message in this conversation, the newest
        RECENT_MESSAGES are read strongly consistent instead (a message sent a moment
        ago). A key in another conversation is not this one's: None, like a missing one.
        Whoever calls this has already checked membership.
        """
        pk = keys.message_pk(group_uuid)
        for key in self._message_copies(message_uuid):
            if key[items.PK]["S"] != pk:
                continue
            response = self.client.get_item(TableName=self.name, Key=key, ConsistentRead=True)
            if "Item" in response:
                return items.message_from_item(response["Item"])
        response = self.client.query(
            TableName=self.name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": s(pk)},
            ScanIndexForward=False,
            ConsistentRead=True,
            Limit=RECENT_MESSAGES,
        )
        for item in response["Items"]:
            if item.get(items.MESSAGE_UUID, {}).get("S") == str(message_uuid):
                return items.message_from_item(item)
        return None

    def _message_copies(self, message_uuid: uuid.UUID) -> list[items.Item]:
        """Keys of every item carrying this message: the message, and the idempotency
        record of its send when it had a key."""
        response = self.client.query(
            TableName=self.name,
            IndexName=schema.MESSAGE_INDEX,
            KeyConditionExpression=f"{items.MESSAGE_UUID} = :message_uuid",
            ExpressionAttributeValues={":message_uuid": s(message_uuid)},
        )
        return [{items.PK: item[items.PK], items.SK: item[items.SK]} for item in response["Items"]]

    @gateway_errors
    def message_edit(
        self, *, membership: Membership, message: Message, body: str, window: timedelta
    ) -> Message:
        """Access pattern: the sender edits a message within `window` of sending it.

        One TransactWriteItems: the message, conditioned on the caller being its sender,
        it not being deleted, its version being the one read, and its `created_at` being
        no older than now - `window` (the table checks the window, whatever the caller
        did), plus the conversation's version (which keys cached message pages). Raises
        MessageChangeRefused or MessageMissing; returns the message as edited.
        """
        for _ in range(CHANGE_ATTEMPTS):
            now = datetime.now(UTC)
            earliest = now - window
            # Never an edit of a deletion: the condition refuses one that happened since.
            changed = replace(
                message, body=body, edited_at=now, deleted=False, version=message.version + 1
            )
            transaction = Transaction(self.name)
            transaction.update(
                "message",
                Key=items.message_key(message.group_uuid, message.sk),
                UpdateExpression=items.MESSAGE_EDIT_SET,
                ConditionExpression=items.MESSAGE_EDITABLE,
                ExpressionAttributeValues={
                    **items.message_change_values(message, changed),
                    ":sender": s(membership.row.user_uuid),
                    ":earliest": s(keys.format_timestamp(earliest)),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            _conversation_touch(transaction, membership)
            cancelled = transaction.run(self.client)
            if cancelled is None:
                return changed
            message = _change_refused(cancelled, membership, earliest=earliest)
        raise StoreUnavailable("The message kept changing; please try again.")

    @gateway_errors
    def message_delete(self, *, membership: Membership, message: Message) -> Message:
        """Access pattern: the sender deletes a message, at any time.

        One TransactWriteItems: the message (REMOVE the body, set `deleted`, conditioned
        like an edit less the window), the conversation's version, and the idempotency
        record of its send, if any, which keeps a copy of the body (found through
        `message-by-uuid`: 1 Query). Returns the message as deleted.
        """
        copies = [
            key
            for key in self._message_copies(message.uuid)
            if key[items.PK]["S"] == keys.idempotency_pk(message.sender_uuid)
        ]
        for _ in range(CHANGE_ATTEMPTS):
            changed = replace(message, body="", deleted=True, version=message.version + 1)
            transaction = Transaction(self.name)
            transaction.update(
                "message",
                Key=items.message_key(message.group_uuid, message.sk),
                UpdateExpression=items.MESSAGE_DELETE_UPDATE,
                ConditionExpression=items.MESSAGE_CHANGEABLE,
                ExpressionAttributeValues={
                    **items.message_change_values(message, changed),
                    ":sender": s(membership.row.user_uuid),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            _conversation_touch(transaction, membership)
            for index, key in enumerate(copies):
                transaction.update(
                    f"copy:{index}",
                    Key=key,
                    UpdateExpression=items.IDEMPOTENCY_SCRUB,
                    # An expired record the TTL sweeper already took is not made again.
                    ConditionExpression=items.EXISTS,
                    ExpressionAttributeValues={":deleted": {"BOOL": True}},
                )
            cancelled = transaction.run(self.client)
            if cancelled is None:
                return changed
            gone = {index for index in range(len(copies)) if cancelled.failed(f"copy:{index}")}
            if gone and not cancelled.failed("message"):
                copies = [key for index, key in enumerate(copies) if index not in gone]
                continue
            message = _change_refused(cancelled, membership, earliest=None)
        raise StoreUnavailable("The message kept changing; please try again.")

    @gateway_errors
    def inbox_previews_follow(self, *, message: Message) -> int:
        """Access pattern: every member's inbox preview follows an edit or deletion of
        the message it shows (inline, after the change; the stream consumer, for a
        MODIFY record).

        One conditional UpdateItem per member (`last_message_uuid` is this message and
        its version is older), so a replayed or reordered change never undoes a later
        one and a row showing another message is left alone. Nothing is counted unread.
        A row that has not taken the message in at all yet (a MODIFY record handled
        before its INSERT) takes it as the INSERT would have, once: the INSERT then
        finds the row already there. Returns how many rows changed.
        """
        return sum(
            self._preview_follow(message, member) for member in sorted(message.member_uuids)
        )

    def _preview_follow(self, message: Message, member: uuid.UUID) -> bool:
        update, values = items.preview_change(message)
        # Twice at most: the INSERT may move the row between the two requests here (the
        # consumer applies a batch in parallel), and then the preview follows after all.
        for _ in range(2):
            try:
                self.client.update_item(
                    TableName=self.name,
                    Key=items.inbox_key(member, message.group_uuid),
                    UpdateExpression=update,
                    ConditionExpression=items.PREVIEW_FOLLOWS,
                    ExpressionAttributeValues=values,
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return True
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                old = cast(items.Item | None, exc.response.get("Item"))
            if old is None:
                return False
            row = items.inbox_row_from_item(old)
            if row.v1 or (row.position.seq or 0) >= (message.seq or 0):
                return False
            if self._row_advance(message, member):
                return True
        return False

    # --- v1 pairs ----------------------------------------------------------------

    @gateway_errors
    def v1_pair_upgrade(self, *, user_uuid: uuid.UUID, group_uuid: uuid.UUID) -> bool:
        """Convert one v1 pair (both rows, plus a new conversation item) to v2, in one
        transaction; False if it was already converted. `ddb_migrate` runs this for every
        pair; the request path runs it on the first write to a pair not yet migrated."""
        membership = self.membership_get(user_uuid=user_uuid, group_uuid=group_uuid)
        if membership is None or membership.conversation.stored:
            return False
        self._upgrade_v1_pair(membership.row)
        return True

    def _upgrade_v1_pair(self, row: InboxRow) -> Membership:
        for _ in range(UPGRADE_ATTEMPTS):
            other = row.members[0]
            raw = self._rows_raw(row.group_uuid, (row.user_uuid, other.uuid))
            own, theirs = raw.get(row.user_uuid), raw.get(other.uuid)
            if own is None:
                raise NotAMember()
            if items.MEMBERS in own:
                membership = self.membership_get(
                    user_uuid=row.user_uuid, group_uuid=row.group_uuid
                )
                if membership is None or not membership.conversation.stored:
                    raise StoreUnavailable("conversation upgrade left no conversation item")
                return membership
            blocked = self._blocked_sets((row.user_uuid, other.uuid))
            transaction = _v1_upgrade(self.name, row.group_uuid, own, theirs, blocked)
            cancelled = transaction.run(self.client)
            if cancelled is None:
                membership = self.membership_get(
                    user_uuid=row.user_uuid, group_uuid=row.group_uuid
                )
                if membership is None:
                    raise NotAMember()
                return membership
            # Someone else converted it, a v1 writer moved a row or one of the pair blocked
            # or unblocked the other meanwhile: look again.
        raise StoreUnavailable("conversation upgrade kept racing other writes")

    def _blocked_sets(
        self, user_uuids: tuple[uuid.UUID, ...]
    ) -> dict[uuid.UUID, frozenset[uuid.UUID]]:
        response = self.client.batch_get_item(
            RequestItems={
                self.name: {
                    "Keys": [items.blocks_key(user) for user in user_uuids],
                    "ConsistentRead": True,
                }
            }
        )
        found = {item[items.PK]["S"]: item for item in response["Responses"].get(self.name, [])}
        return {
            user: items.blocked_from_item(found.get(keys.blocks_pk(user))) for user in user_uuids
        }

    def _rows_raw(
        self, group_uuid: uuid.UUID, user_uuids: tuple[uuid.UUID, ...]
    ) -> dict[uuid.UUID, items.Item]:
        response = self.client.batch_get_item(
            RequestItems={
                self.name: {
                    "Keys": [items.inbox_key(user, group_uuid) for user in user_uuids],
                    "ConsistentRead": True,
                }
            }
        )
        return {
            keys.uuid_after_prefix(item[items.PK]["S"], keys.INBOX_PREFIX): item
            for item in response["Responses"].get(self.name, [])
        }

    # --- helpers -----------------------------------------------------------------

    def _add_idempotency(
        self,
        transaction: Transaction,
        user_uuid: uuid.UUID,
        idempotency: IdempotencyRequest | None,
        message: Message,
    ) -> None:
        if idempotency is None:
            return
        record = IdempotencyRecord(
            user_uuid=user_uuid,
            key=idempotency.key,
            request_hash=idempotency.request_hash,
            message=message,
            expires_at=idempotency.expires_at,
        )
        transaction.put(
            "idempotency",
            items.idempotency_item(record),
            condition=items.IDEMPOTENCY_FREE,
            ExpressionAttributeValues={":now": items.n(int(datetime.now(UTC).timestamp()))},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    def _raise_replay(self, cancelled: Cancelled) -> None:
        old = cancelled.old_item("idempotency")
        if old is not None:
            raise IdempotentReplay(items.idempotency_from_item(old))

    def _try_update(self, **request: Any) -> bool:
        try:
            self.client.update_item(TableName=self.name, **request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _conversation_touch(transaction: Transaction, membership: Membership) -> None:
    """Move the conversation's version with a change to one of its messages: cached
    message pages are keyed by it, so none from before the change is served after it."""
    if not membership.conversation.stored:
        # A v1 pair not yet migrated has no conversation item; its pages are invalidated.
        return
    transaction.update(
        "conversation",
        Key=items.conversation_key(membership.row.group_uuid),
        UpdateExpression=f"SET {items.VERSION} = {items.VERSION} + :one",
        ConditionExpression=items.EXISTS,
        ExpressionAttributeValues={":one": items.n(1)},
    )


def _change_refused(
    cancelled: Cancelled, membership: Membership, *, earliest: datetime | None
) -> Message:
    """Why a change's condition failed: raises when the change may not happen; returns
    the message as it is now when another change of it won a race (try again)."""
    if not cancelled.failed("message"):
        raise StoreUnavailable(f"message change was cancelled: {cancelled.describe()}")
    old = cancelled.old_item("message")
    if old is None:
        raise MessageMissing()
    current = items.message_from_item(old)
    if current.sender_uuid != membership.row.user_uuid:
        raise MessageChangeRefused("sender")
    if current.deleted:
        raise MessageChangeRefused("deleted")
    if earliest is not None and current.created_at < earliest:
        raise MessageChangeRefused("window")
    return current


def _row_part(user_uuid: uuid.UUID) -> str:
    return f"row:{user_uuid}"


def _blocks_part(user_uuid: uuid.UUID) -> str:
    return f"blocks:{user_uuid}"


def _member_of_part(name: str) -> uuid.UUID:
    return uuid.UUID(name.removeprefix("row:"))


def _unstored_conversation(row: InboxRow, user_uuid: uuid.UUID) -> Conversation:
    """A v1 pair seen through one row, until its first write converts it."""
    me = Member(uuid=user_uuid, handle="", display_name="")
    return Conversation(
        group_uuid=row.group_uuid,
        kind="direct",
        members=(me, *row.members),
        last_seq=0,
        last_message_sk=row.position.sk,
        version=0,
        reads={user_uuid: row.read},
        stored=False,
    )


def _next_message(conversation: Conversation, *, sender_uuid: uuid.UUID, body: str) -> Message:
    created_at = datetime.now(UTC)
    if conversation.last_message_sk:
        # Never stamp a message before one already in the conversation (clock skew
        # between servers, or a concurrent send that committed first).
        latest, _ = keys.parse_message_sk(conversation.last_message_sk)
        created_at = max(created_at, latest + timedelta(microseconds=1))
    return Message(
        uuid=uuid.uuid4(),
        group_uuid=conversation.group_uuid,
        sender_uuid=sender_uuid,
        member_uuids=conversation.member_uuids,
        body=body,
        created_at=created_at,
        seq=conversation.last_seq + 1,
    )


def _head_advance(message: Message, conversation: Conversation) -> dict[str, Any]:
    condition = f"{items.EXISTS} AND {items.LAST_SEQ} = :previous"
    if conversation.kind == "direct":
        # A block lives on the pair's head, so checking it costs the send nothing extra.
        condition += f" AND attribute_not_exists({items.BLOCKED_BY})"
    return {
        "Key": items.conversation_key(message.group_uuid),
        "UpdateExpression": (
            f"SET {items.LAST_SEQ} = :seq, {items.LAST_MESSAGE_SK} = :sk,"
            f" {items.VERSION} = {items.VERSION} + :one"
        ),
        "ConditionExpression": condition,
        "ExpressionAttributeValues": {
            ":seq": items.n(message.seq or 0),
            ":sk": s(message.sk),
            ":one": items.n(1),
            ":previous": items.n(conversation.last_seq),
        },
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def row_advance(message: Message, *, owner: uuid.UUID) -> dict[str, Any]:
    """Move `owner`'s row to `message`, forward only (DESIGN invariant 4).

    The sender has read their own message, so their row reads up to it; everyone else's
    is flagged unread. A hidden row comes back into the inbox with the new message.
    """
    values = {**items.preview_values(message), ":seq": items.n(message.seq or 0)}
    condition = (
        f"{items.EXISTS} AND {items.LAST_SEQ} < :seq"
        f" AND (attribute_not_exists({items.READ_SEQ}) OR {items.READ_SEQ} < :seq)"
    )
    if owner == message.sender_uuid:
        update = (
            f"SET {items.PREVIEW_SET}, {items.LAST_SEQ} = :seq, {items.READ_SEQ} = :seq,"
            f" {items.READ_SK} = :sk, {items.READ_AT} = :at"
            f" REMOVE {items.UNREAD_MEMBER}, {items.HIDDEN_SK}"
        )
    else:
        update = (
            f"SET {items.PREVIEW_SET}, {items.LAST_SEQ} = :seq, {items.UNREAD_MEMBER} = :member"
            f" REMOVE {items.HIDDEN_SK}"
        )
        values[":member"] = s(owner)
    return {
        "Key": items.inbox_key(owner, message.group_uuid),
        "UpdateExpression": update,
        "ConditionExpression": condition,
        "ExpressionAttributeValues": values,
    }


def _row_read(
    row: InboxRow, *, seq: int, sk: str, at: datetime, caught_up: bool
) -> dict[str, Any]:
    update = f"SET {items.READ_SEQ} = :seq, {items.READ_SK} = :sk, {items.READ_AT} = :at"
    condition = f"{items.EXISTS} AND {items.READ_SEQ} < :seq"
    if caught_up:
        # Only a reader who got to the end stops counting in the badge.
        update += f" REMOVE {items.UNREAD_MEMBER}"
        condition += f" AND {items.LAST_SEQ} <= :seq"
    return {
        "Key": items.inbox_key(row.user_uuid, row.group_uuid),
        "UpdateExpression": update,
        "ConditionExpression": condition,
        "ExpressionAttributeValues": {
            ":seq": items.n(seq),
            ":sk": s(sk),
            ":at": s(keys.format_timestamp(at)),
        },
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def _v1_upgrade(
    table_name: str,
    group_uuid: uuid.UUID,
    own: items.Item,
    theirs: items.Item | None,
    blocked: dict[uuid.UUID, frozenset[uuid.UUID]],
) -> Transaction:
    """The transaction that turns a v1 pair into v2: a conversation item whose head is
    `base`, and each row reading `base - <its unread count>`, so every count is what the
    unread set said. Each row's update is conditioned on it being unchanged since read.

    A block made while the pair had no conversation item lives only on the blocks item:
    the new head carries it (`blocked_by`), and each member's blocks item is checked to
    be as read, so a block racing the upgrade is never left off the head."""
    rows = [item for item in (own, theirs) if item is not None]
    unread = {
        items.inbox_row_from_item(item).user_uuid: len(items.v1_unread_sks(item)) for item in rows
    }
    base = max(unread.values(), default=0)
    first = items.inbox_row_from_item(own)
    me = Member(
        uuid=first.user_uuid,
        handle=theirs[items.V1_OTHER_HANDLE]["S"] if theirs else "",
        display_name=theirs[items.V1_OTHER_DISPLAY_NAME]["S"] if theirs else "",
    )
    members = (me, first.members[0])
    newest_sk = max(item[items.LAST_MESSAGE_SK]["S"] for item in rows)
    reads = {}
    for item in rows:
        row = items.inbox_row_from_item(item)
        read_sk = item.get(items.V1_LAST_READ_SK, {}).get("S")
        reads[row.user_uuid] = MemberRead(
            position=Position(sk=read_sk, seq=base - unread[row.user_uuid]) if read_sk else None,
            at=row.read.at,
        )
    pairs = ((members[0], members[1]), (members[1], members[0]))
    blockers = {
        member.uuid
        for member, other in pairs
        if other.uuid in blocked.get(member.uuid, frozenset())
    }
    conversation = Conversation(
        group_uuid=group_uuid,
        kind="direct",
        members=members,
        last_seq=base,
        last_message_sk=newest_sk,
        version=1,
        reads=reads,
        blocked_by=frozenset(blockers),
    )
    transaction = Transaction(table_name)
    transaction.put(
        "conversation",
        items.conversation_item(conversation, created_at=datetime.now(UTC)),
        condition=items.INSERT_ONLY,
    )
    for member, other in pairs:
        condition, values = items.not_blocking([other.uuid])
        if member.uuid in blockers:
            condition = f"contains({items.BLOCKED}, :other0)"
        transaction.check(
            _blocks_part(member.uuid),
            Key=items.blocks_key(member.uuid),
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
        )
    for item in rows:
        row = items.inbox_row_from_item(item)
        others = [member for member in members if member.uuid != row.user_uuid]
        values = {
            ":kind": s("direct"),
            ":members": items.members_value(others),
            ":message_uuid": s(row.last_message_uuid),
            ":last_seq": items.n(base),
            ":read_seq": items.n(base - unread[row.user_uuid]),
            ":seen_sk": item[items.LAST_MESSAGE_SK],
        }
        update = (
            f"SET {items.KIND} = :kind, {items.MEMBERS} = :members,"
            f" {items.LAST_MESSAGE_UUID} = :message_uuid, {items.LAST_SEQ} = :last_seq,"
            f" {items.READ_SEQ} = :read_seq"
        )
        read_sk = item.get(items.V1_LAST_READ_SK)
        if read_sk:
            update += f", {items.READ_SK} = :read_sk"
            values[":read_sk"] = read_sk
        if items.V1_LAST_READ_AT in item:
            update += f", {items.READ_AT} = :read_at"
            values[":read_at"] = item[items.V1_LAST_READ_AT]
        if unread[row.user_uuid]:
            update += f", {items.UNREAD_MEMBER} = :member"
            values[":member"] = s(row.user_uuid)
        update += " REMOVE " + ", ".join(items.V1_ROW_ATTRIBUTES)
        transaction.update(
            _row_part(row.user_uuid),
            Key=items.inbox_key(row.user_uuid, group_uuid),
            UpdateExpression=update,
            ConditionExpression=(
                f"{items.EXISTS} AND attribute_not_exists({items.MEMBERS})"
                f" AND {items.LAST_MESSAGE_SK} = :seen_sk"
            ),
            ExpressionAttributeValues=values,
        )
    return transaction
