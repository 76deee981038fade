"""AWS::SQS::Queue: created with its attributes (the redrive policy as JSON text)."""

from __future__ import annotations

import json
from typing import Any

from .context import Context, ResourceType, required_name, unless_missing
from .intrinsics import Resource

_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds", "SqsManagedSseEnabled", "KmsMasterKeyId", "RedrivePolicy",
)


def _provision_queue(ctx: Context, logical_id: str, props: dict[str, Any]) -> Resource:
    sqs = ctx.client("sqs")
    name = required_name(props, "QueueName", logical_id)
    found = unless_missing(lambda: sqs.get_queue_url(QueueName=name), "AWS.SimpleQueueService.NonExistentQueue",
                           "QueueDoesNotExist")
    created = found is None
    if found is None:
        # The API takes every attribute as a string; a redrive policy as JSON text.
        attributes = {key: json.dumps(props[key]) if isinstance(props[key], dict) else
                      str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
                      for key in _QUEUE_ATTRIBUTES if key in props}
        found = sqs.create_queue(QueueName=name, Attributes=attributes)
    url = found["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # CloudFormation's Ref of a queue is its URL.
    return ctx.reported(created, f"queue {name}", Resource(url, {"Arn": arn, "QueueName": name, "QueueUrl": url}))


RESOURCE_TYPES = {
    "AWS::SQS::Queue": ResourceType(frozenset({"QueueName", *_QUEUE_ATTRIBUTES}), _provision_queue),
}
