"""devstack.moto_serialization: moto's responses carry the same attribute values, written directly.

Every kind of attribute value, nested in maps and lists, comes back from every operation that
returns items, byte for byte as moto's own serializer writes it (binary values in base64 once).
"""
from __future__ import annotations

from typing import Any

import boto3
from moto import mock_aws

from devstack.moto_serialization import plain_attribute_values

EVERY_KIND = {
    "pk": {"S": "p1"}, "sk": {"N": "10"}, "text": {"S": "héllo ✓"}, "empty": {"S": ""}, "number": {"N": "-12.5e3"},
    "blob": {"B": b"\x00\xffbinary"}, "strings": {"SS": ["a", "b"]}, "numbers": {"NS": ["1", "2.5"]},
    "blobs": {"BS": [b"\x01", b"\x02\x03"]}, "yes": {"BOOL": True}, "no": {"BOOL": False}, "nothing": {"NULL": True},
    "map": {"M": {"inner": {"B": b"\x07"}, "list": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"B": b"\x08"}}}]}}},
    "list": {"L": [{"B": b"\x09"}, {"BS": [b"\x0a"]}, {"NULL": True}, {"BOOL": False}, {"L": []}, {"M": {}}]},
}


def _responses(dynamodb: Any) -> list[dict]:
    key = {"pk": {"S": "p1"}, "sk": {"N": "10"}}
    answers = [
        dynamodb.put_item(TableName="t", Item=EVERY_KIND, ReturnValues="ALL_OLD"),
        dynamodb.get_item(TableName="t", Key=key),
        dynamodb.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p1"}},
                       Limit=1, ReturnConsumedCapacity="TOTAL"),
        dynamodb.scan(TableName="t"),
        dynamodb.batch_get_item(RequestItems={"t": {"Keys": [key]}}),
        dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": key}}]),
        dynamodb.update_item(TableName="t", Key=key, UpdateExpression="SET extra = :b",
                             ExpressionAttributeValues={":b": {"B": b"\x10"}}, ReturnValues="ALL_NEW"),
        dynamodb.delete_item(TableName="t", Key=key, ReturnValues="ALL_OLD"),
    ]
    for answer in answers:
        answer.pop("ResponseMetadata")
    return answers


def _table(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName="t", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"}])
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "p1"}, "sk": {"N": "10"}, "old": {"B": b"\x11"}})


def test_every_attribute_value_comes_back_as_moto_writes_it() -> None:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        _table(dynamodb)
        plain = _responses(dynamodb)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        _table(dynamodb)
        with plain_attribute_values():
            written = _responses(dynamodb)
    assert plain[1]["Item"]["blob"] == {"B": b"\x00\xffbinary"}  # decoded once by botocore: encoded once
    assert plain[1]["Item"]["map"]["M"]["list"]["L"][2]["M"]["deep"] == {"B": b"\x08"}
    assert written == plain
