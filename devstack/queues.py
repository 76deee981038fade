"""Feeds the app's @app.on_sqs_message handlers locally, as Lambda's SQS event source mapping does.

Short polls (the embedded AWS answers one request at a time, so a long poll would hold it), one
batch at a time per queue; a message is deleted only after its handler returned, so a failing one
comes back after the visibility timeout, as on AWS.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from chalice import Chalice
from chalice.app import SQSEventConfig

from .background import BackgroundLoop

Log = Callable[[str], None]
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Consumer:
    name: str
    queue: str
    batch_size: int
    handler: Callable[[dict[str, Any], Any], Any]


def chalice_consumers(app: Chalice, module: ModuleType) -> list[Consumer]:
    return [Consumer(source.name, source.queue, source.batch_size,
                     getattr(module, source.handler_string.rpartition(".")[2]))
            for source in app.event_sources if isinstance(source, SQSEventConfig)]


def consumer_named(app: Chalice, module: ModuleType, name: str) -> Consumer:
    """The app's consumer whose handler is `name` (audit_export, attachment_uploads)."""
    [consumer] = [c for c in chalice_consumers(app, module) if c.name == name]
    return consumer


def deliver_once(consumer: Consumer, sqs: Any, batches: int | None = None) -> int:
    """Hand what is waiting on the consumer's queue to its handler, one invocation per batch (at most
    `batches` of them when given: what a handler queues itself waits for the next call); how many
    messages it took."""
    url = sqs.get_queue_url(QueueName=consumer.queue)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    delivered = invocations = 0
    while batches is None or invocations < batches:
        invocations += 1
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=consumer.batch_size,
                                       WaitTimeSeconds=0, AttributeNames=["All"]).get("Messages", [])
        if not messages:
            return delivered
        consumer.handler({"Records": [_record(message, arn, sqs.meta.region_name) for message in messages]}, None)
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)])
        delivered += len(messages)
    return delivered


def _record(message: dict[str, Any], arn: str, region: str) -> dict[str, Any]:
    return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"], "attributes": message.get("Attributes", {}), "messageAttributes": {},
            "md5OfBody": message["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": arn,
            "awsRegion": region}


class QueueWorker(BackgroundLoop):
    def __init__(self, consumers: list[Consumer], sqs: Any, log: Log = print) -> None:
        super().__init__("queues", POLL_SECONDS, self._poll)
        self._consumers, self._sqs, self._log = consumers, sqs, log

    def _poll(self) -> None:
        for consumer in self._consumers:
            try:
                taken = deliver_once(consumer, self._sqs)
            except Exception as exc:  # one failing consumer must not stop the others
                self._log(f"queue {consumer.queue} failed: {type(exc).__name__}: {exc}")
                continue
            if taken:
                self._log(f"queue {consumer.queue} -> {consumer.name}: {taken} message(s)")
