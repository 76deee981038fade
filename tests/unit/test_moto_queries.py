"""devstack.moto_queries: a Query reading one partition, or walking an index unsorted, answers
exactly what moto's own Query answers: the same items in the same order, the same pages.

Each query below runs twice over the same tables, without and with the patch, in tables with and
without a sort key, on the base table, a global index with and without a sort key (sparse: not
every item carries its key) and a local index, forwards and backwards, filtered, in pages.
"""
from __future__ import annotations

import random
from typing import Any

import boto3
from moto import mock_aws

from devstack.moto_queries import partition_queries

QUERIES: list[dict[str, Any]] = [
    {"TableName": "ranged", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "p1"}}},
    {"TableName": "ranged", "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
     "ExpressionAttributeValues": {":p": {"S": "p2"}, ":a": {"S": "s05"}, ":b": {"S": "s30"}},
     "ScanIndexForward": False},
    {"TableName": "ranged", "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
     "FilterExpression": "n > :n", "ExpressionAttributeValues": {":p": {"S": "p0"}, ":s": {"S": "s1"},
                                                                  ":n": {"N": "20"}}},
    {"TableName": "ranged", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "nobody"}}},
    {"TableName": "ranged", "IndexName": "by-group", "KeyConditionExpression": "grp = :g AND n >= :n",
     "ExpressionAttributeValues": {":g": {"S": "g1"}, ":n": {"N": "10"}}},
    {"TableName": "ranged", "IndexName": "by-group", "KeyConditionExpression": "grp = :g",
     "ExpressionAttributeValues": {":g": {"S": "g0"}}, "ScanIndexForward": False},
    {"TableName": "ranged", "IndexName": "by-colour", "KeyConditionExpression": "colour = :c",
     "ExpressionAttributeValues": {":c": {"S": "red"}}},
    {"TableName": "ranged", "IndexName": "by-n", "KeyConditionExpression": "pk = :p AND n < :n",
     "ExpressionAttributeValues": {":p": {"S": "p3"}, ":n": {"N": "30"}}},
    {"TableName": "flat", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "k7"}}},
    {"TableName": "flat", "IndexName": "flat-by-group", "KeyConditionExpression": "grp = :g",
     "ExpressionAttributeValues": {":g": {"S": "g2"}}},
]


def _fill(dynamodb: Any) -> None:
    rng = random.Random(7)
    dynamodb.create_table(
        TableName="ranged", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": kind} for name, kind in
                              (("pk", "S"), ("sk", "S"), ("grp", "S"), ("n", "N"), ("colour", "S"))],
        GlobalSecondaryIndexes=[
            {"IndexName": "by-group", "Projection": {"ProjectionType": "ALL"},
             "KeySchema": [{"AttributeName": "grp", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}]},
            {"IndexName": "by-colour", "Projection": {"ProjectionType": "KEYS_ONLY"},
             "KeySchema": [{"AttributeName": "colour", "KeyType": "HASH"}]}],
        LocalSecondaryIndexes=[
            {"IndexName": "by-n", "Projection": {"ProjectionType": "ALL"},
             "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}]}])
    dynamodb.create_table(
        TableName="flat", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "grp", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "flat-by-group", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "grp", "KeyType": "HASH"}]}])
    for number in range(300):
        item = {"pk": {"S": f"p{rng.randrange(5)}"}, "sk": {"S": f"s{number:02d}"},
                "n": {"N": str(rng.randrange(50))}, "text": {"S": "x" * rng.randrange(2000)}}
        if rng.random() < 0.7:  # the indexes are sparse
            item["grp"] = {"S": f"g{rng.randrange(3)}"}
        if rng.random() < 0.3:
            item["colour"] = {"S": rng.choice(["red", "blue"])}
        dynamodb.put_item(TableName="ranged", Item=item)
        flat = {"pk": {"S": f"k{number}"}, "text": {"S": "y" * rng.randrange(4000)}}
        if rng.random() < 0.8:
            flat["grp"] = {"S": f"g{rng.randrange(3)}"}
        dynamodb.put_item(TableName="flat", Item=flat)


def _answers(dynamodb: Any) -> list[list[dict]]:
    """Each query's pages (two sizes: by Limit and by moto's 1 MB page), start keys included."""
    answers = []
    for query in QUERIES:
        for limit in ({"Limit": 7}, {}):
            pages, start = [], {}
            while True:
                page = dynamodb.query(**query, **limit, **start)
                page.pop("ResponseMetadata")
                pages.append(page)
                if "LastEvaluatedKey" not in page:
                    break
                start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
            answers.append(pages)
    return answers


def test_a_query_answers_the_same_items_in_the_same_order_and_pages() -> None:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        _fill(dynamodb)
        plain = _answers(dynamodb)
        with partition_queries():
            patched = _answers(dynamodb)
        assert sum(len(page["Items"]) for pages in plain for page in pages) > 500  # the queries find items
        assert patched == plain
