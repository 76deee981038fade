"""devstack.moto_transactions: a cancelled TransactWriteItems still undoes everything it applied.

moto applies a transaction's operations in order and rolls back when a later one fails; with the
item-level backup the rollback must put back each item it changed and remove each item it created,
in tables with and without a sort key.
"""
from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from devstack.moto_transactions import item_level_transactions

SHAPES = {"hash only": [("pk", "HASH")], "hash and range": [("pk", "HASH"), ("sk", "RANGE")]}


def key(shape: str, name: str) -> dict:
    return {"pk": {"S": name}, **({"sk": {"S": "1"}} if shape == "hash and range" else {})}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_cancelled_transaction_puts_back_what_it_changed_and_removes_what_it_created(shape: str) -> None:
    with mock_aws(), item_level_transactions():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": n, "KeyType": k} for n, k in SHAPES[shape]],
                              AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"}
                                                    for n, _ in SHAPES[shape]])
        dynamodb.put_item(TableName="t", Item={**key(shape, "kept"), "n": {"N": "1"}})
        dynamodb.put_item(TableName="t", Item={**key(shape, "guard"), "n": {"N": "1"}})

        with pytest.raises(ClientError) as refused:
            dynamodb.transact_write_items(TransactItems=[
                {"Update": {"TableName": "t", "Key": key(shape, "kept"), "UpdateExpression": "SET n = :two",
                            "ExpressionAttributeValues": {":two": {"N": "2"}}}},
                {"Put": {"TableName": "t", "Item": {**key(shape, "created"), "n": {"N": "1"}}}},
                {"ConditionCheck": {"TableName": "t", "Key": key(shape, "guard"), "ConditionExpression": "n = :two",
                                    "ExpressionAttributeValues": {":two": {"N": "2"}}}},
            ])

        assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
        assert dynamodb.get_item(TableName="t", Key=key(shape, "kept"))["Item"]["n"] == {"N": "1"}
        assert "Item" not in dynamodb.get_item(TableName="t", Key=key(shape, "created"))


def test_a_transaction_that_holds_is_applied() -> None:
    with mock_aws(), item_level_transactions():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}}}},
        ])

        assert {item["pk"]["S"] for item in dynamodb.scan(TableName="t")["Items"]} == {"a", "b"}
