"""Operators' calls: the table's lifecycle, its indexes, whole-table scans and the v1 to
v2 migration. Never on a request path (a Scan reads the whole table), so the web tier's
role in deploy/ is not granted these actions.
"""

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from messaging.dynamo import items, keys, schema
from messaging.dynamo.table import MessagingTable, TableAccess, gateway_errors

# Index builds on AWS take minutes on a large table; DynamoDB Local's are instant.
INDEX_WAIT_SECONDS = 1800


@dataclass
class MigrationReport:
    indexes_added: list[str] = field(default_factory=list)
    conversations_found: int = 0
    conversations_converted: int = 0
    v1_index_dropped: bool = False
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would" if self.dry_run else "did"
        converted = self.conversations_found if self.dry_run else self.conversations_converted
        dropped = f"{verb} drop" if self.v1_index_dropped else "kept"
        return [
            f"indexes: {verb} add {', '.join(self.indexes_added) or 'none'}",
            f"v1 conversations: {self.conversations_found} found, {verb} convert {converted}",
            f"v1 index {schema.V1_INBOX_INDEX}: {dropped}",
        ]


class TableAdmin(TableAccess):
    """Lifecycle and bulk reads of the messaging table (commands and tests only)."""

    @gateway_errors
    def create(self, *, definition: dict[str, Any] | None = None) -> bool:
        """Create the table and wait until it is active. False if it already existed."""
        try:
            self.client.create_table(**(definition or schema.table_definition(self.name)))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceInUseException":
                return False
            raise
        self.client.get_waiter("table_exists").wait(
            TableName=self.name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        try:
            self.client.update_time_to_live(TableName=self.name, **schema.ttl_specification())
        except ClientError as exc:
            # Some local engines lack TTL; production has it, and expiry is only cleanup.
            if exc.response["Error"]["Code"] not in {"UnknownOperationException"}:
                raise
        return True

    @gateway_errors
    def drop(self) -> bool:
        try:
            self.client.delete_table(TableName=self.name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return False
            raise
        return True

    @gateway_errors
    def exists(self) -> bool:
        try:
            self.client.describe_table(TableName=self.name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return False
            raise
        return True

    @gateway_errors
    def describe(self) -> dict[str, Any]:
        return dict(self.client.describe_table(TableName=self.name)["Table"])

    @gateway_errors
    def list_tables(self) -> list[str]:
        names: list[str] = []
        for page in self.client.get_paginator("list_tables").paginate():
            names.extend(page["TableNames"])
        return names

    def index_names(self) -> set[str]:
        return {index["IndexName"] for index in self.describe().get("GlobalSecondaryIndexes", [])}

    @gateway_errors
    def indexes_ensure(self, *, dry_run: bool = False) -> list[str]:
        """Add every index of `schema.table_definition` the table lacks (one UpdateTable
        each, as DynamoDB allows), waiting for each to become ACTIVE. Returns their names."""
        present = self.index_names()
        missing = [
            index
            for index in schema.global_secondary_indexes()
            if index["IndexName"] not in present
        ]
        if dry_run:
            return [index["IndexName"] for index in missing]
        for index in missing:
            self.client.update_table(
                TableName=self.name,
                AttributeDefinitions=schema.attribute_definitions(),
                GlobalSecondaryIndexUpdates=[{"Create": index}],
            )
            self._wait_for_indexes()
        return [index["IndexName"] for index in missing]

    @gateway_errors
    def index_drop(self, name: str) -> None:
        self.client.update_table(
            TableName=self.name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": name}}]
        )
        self._wait_for_indexes()

    def _wait_for_indexes(self) -> None:
        deadline = time.monotonic() + INDEX_WAIT_SECONDS
        while time.monotonic() < deadline:
            table = self.describe()
            busy = [
                index
                for index in table.get("GlobalSecondaryIndexes", [])
                if index.get("IndexStatus") not in (None, "ACTIVE")
            ]
            if table.get("TableStatus") == "ACTIVE" and not busy:
                return
            time.sleep(1)
        raise TimeoutError(f"indexes of {self.name} still building after {INDEX_WAIT_SECONDS}s")

    def scan(
        self, *, page_size: int = 100, filter_expression: str | None = None
    ) -> Iterator[items.Item]:
        """Every item of the table (or those passing the filter), page by page."""
        start_key = None
        while True:
            page = self._scan_page(
                start_key=start_key, page_size=page_size, filter_expression=filter_expression
            )
            yield from page["Items"]
            start_key = page.get("LastEvaluatedKey")
            if not start_key:
                return

    def scan_summaries(self) -> Iterator[dict[str, str]]:
        """One readable, terminal-safe line's fields per item (ddb_scan)."""
        for item in self.scan():
            yield items.item_summary(item)

    @gateway_errors
    def _scan_page(
        self, *, start_key: dict[str, Any] | None, page_size: int, filter_expression: str | None
    ) -> dict[str, Any]:
        request: dict[str, Any] = {"TableName": self.name, "Limit": page_size}
        if filter_expression:
            request["FilterExpression"] = filter_expression
        if start_key:
            request["ExclusiveStartKey"] = start_key
        return dict(self.client.scan(**request))

    def v1_pairs(self) -> Iterator[tuple[uuid.UUID, uuid.UUID]]:
        """(user, group) of one row of every pair still in v1's shape."""
        seen: set[uuid.UUID] = set()
        for item in self.scan(filter_expression=f"attribute_exists({items.V1_OTHER_UUID})"):
            group_uuid = uuid.UUID(item[items.GROUP_UUID]["S"])
            if group_uuid in seen:
                continue
            seen.add(group_uuid)
            yield keys.uuid_after_prefix(item[items.PK]["S"], keys.INBOX_PREFIX), group_uuid

    def migrate(
        self, *, dry_run: bool = False, progress: Callable[[str], None] = lambda _: None
    ) -> MigrationReport:
        """Upgrade a v1 table to v2 in place (`ddb_migrate`).

        1. add the v2 indexes (the v2 app reads through them);
        2. convert every v1 pair: one transaction per pair, conditioned on its rows being
           unchanged, so it is safe beside a serving app and a rerun (after a kill, or
           twice) converts only what is left;
        3. drop v1's index once no v1 row is left.
        Messages and idempotency records keep their v1 shape: the reader takes both.
        """
        report = MigrationReport(dry_run=dry_run)
        report.indexes_added = self.indexes_ensure(dry_run=dry_run)
        table = MessagingTable(self.name, client=self._client)
        for user_uuid, group_uuid in self.v1_pairs():
            report.conversations_found += 1
            if not dry_run and table.v1_pair_upgrade(user_uuid=user_uuid, group_uuid=group_uuid):
                report.conversations_converted += 1
                if report.conversations_converted % 100 == 0:
                    progress(f"converted {report.conversations_converted} conversations")
        # A dry run converts nothing, but a real run would leave no v1 row behind.
        if schema.V1_INBOX_INDEX in self.index_names() and (
            dry_run or not any(True for _ in self.v1_pairs())
        ):
            report.v1_index_dropped = True
            if not dry_run:
                self.index_drop(schema.V1_INBOX_INDEX)
        return report
