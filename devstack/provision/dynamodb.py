"""AWS::DynamoDB::Table: created with its keys, indexes, SSE and streams, then TTL and PITR."""

from __future__ import annotations

from typing import Any

from .context import Context, ResourceType, required_name, unless_missing
from .intrinsics import Resource

_TABLE_PASSTHROUGH = (
    "TableName", "BillingMode", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes", "ProvisionedThroughput", "DeletionProtectionEnabled", "TableClass",
)


def _create_table_arguments(props: dict[str, Any]) -> dict[str, Any]:
    arguments = {key: props[key] for key in _TABLE_PASSTHROUGH if key in props}
    if "SSESpecification" in props:  # CFN says SSEEnabled where the API says Enabled
        sse = dict(props["SSESpecification"])
        arguments["SSESpecification"] = {"Enabled": sse.pop("SSEEnabled"), **sse}
    if "StreamSpecification" in props:  # in CFN, declaring a view type is what enables the stream
        arguments["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    return arguments


def _provision_table(ctx: Context, logical_id: str, props: dict[str, Any]) -> Resource:
    dynamodb = ctx.client("dynamodb")
    name = required_name(props, "TableName", logical_id)
    description = unless_missing(lambda: dynamodb.describe_table(TableName=name), "ResourceNotFoundException")
    created = description is None
    if description is None:
        dynamodb.create_table(**_create_table_arguments(props))
        # The waiter describes before it sleeps: moto's tables are ACTIVE at once and cost no delay.
        dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        ttl = props.get("TimeToLiveSpecification", {})
        if ttl.get("Enabled"):
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        pitr = props.get("PointInTimeRecoverySpecification", {})
        if pitr.get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=pitr)
        description = dynamodb.describe_table(TableName=name)
    table = description["Table"]
    attributes = {"Arn": table["TableArn"]}
    if "LatestStreamArn" in table:
        attributes["StreamArn"] = table["LatestStreamArn"]
    return ctx.reported(created, f"table {name}", Resource(name, attributes))


RESOURCE_TYPES = {
    "AWS::DynamoDB::Table": ResourceType(
        frozenset(_TABLE_PASSTHROUGH) | {
            "SSESpecification", "StreamSpecification", "TimeToLiveSpecification",
            "PointInTimeRecoverySpecification",
        },
        _provision_table,
    ),
}
