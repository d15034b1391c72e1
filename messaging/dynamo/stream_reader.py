"""Reading the table's DynamoDB stream: DescribeTable, DescribeStream, GetShardIterator and
GetRecords, with their errors translated. The poller in `messaging.stream.poller` drives it.

Part of the gateway because it calls boto3; imports nothing from Django.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from messaging.dynamo.client import endpoint_description, get_client, get_streams_client
from messaging.dynamo.errors import (
    IteratorExpired,
    StoreUnavailable,
    StreamMissing,
    TrimmedData,
    translate,
)

TRIM_HORIZON = "TRIM_HORIZON"
LATEST = "LATEST"
# DynamoDB Streams returns at most 1000 records per GetRecords.
MAX_BATCH_SIZE = 1000


@dataclass(frozen=True)
class Shard:
    shard_id: str
    parent_shard_id: str | None


class StreamReader:
    """DescribeTable / DescribeStream / GetShardIterator / GetRecords for one table."""

    def __init__(self, table_name: str, *, client: Any = None, streams_client: Any = None):
        self.table_name = table_name
        self._client = client
        self._streams_client = streams_client

    @property
    def client(self) -> Any:
        return self._client or get_client()

    @property
    def streams(self) -> Any:
        return self._streams_client or get_streams_client()

    def _call(self, method: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
        try:
            return dict(method(**kwargs))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ExpiredIteratorException" or (
                code == "ValidationException" and "ShardIterator" in str(exc)
            ):
                raise IteratorExpired(code) from exc
            if code == "TrimmedDataAccessException":
                raise TrimmedData(code) from exc
            if code == "LimitExceededException":
                raise StoreUnavailable(f"DynamoDB Streams throttled the worker ({code})") from exc
            translated = translate(
                exc, table_name=self.table_name, endpoint=endpoint_description()
            )
            raise translated from exc
        except BotoCoreError as exc:
            raise translate(
                exc, table_name=self.table_name, endpoint=endpoint_description()
            ) from exc

    def stream_arn(self) -> str:
        table = self._call(self.client.describe_table, TableName=self.table_name)["Table"]
        arn = table.get("LatestStreamArn")
        if not arn or not table.get("StreamSpecification", {}).get("StreamEnabled"):
            raise StreamMissing(f"table {self.table_name} has no stream enabled")
        return str(arn)

    def shards(self, stream_arn: str) -> list[Shard]:
        """Every shard the stream still holds, oldest first (DescribeStream, paged)."""
        shards: list[Shard] = []
        request = {"StreamArn": stream_arn}
        while True:
            description = self._call(self.streams.describe_stream, **request)["StreamDescription"]
            shards.extend(
                Shard(shard_id=shard["ShardId"], parent_shard_id=shard.get("ParentShardId"))
                for shard in description.get("Shards", [])
            )
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            request["ExclusiveStartShardId"] = last

    def iterator(
        self, stream_arn: str, shard_id: str, *, after: str | None, start: str = TRIM_HORIZON
    ) -> str | None:
        """An iterator just after the checkpoint `after`, or at `start` without one."""
        request = {"StreamArn": stream_arn, "ShardId": shard_id}
        if after is not None:
            request.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=after)
        else:
            request["ShardIteratorType"] = start
        return self._call(self.streams.get_shard_iterator, **request).get("ShardIterator")

    def read(self, iterator: str, *, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """One GetRecords: the records and the next iterator (None once a closed shard
        is exhausted)."""
        response = self._call(self.streams.get_records, ShardIterator=iterator, Limit=limit)
        return response.get("Records", []), response.get("NextShardIterator")
