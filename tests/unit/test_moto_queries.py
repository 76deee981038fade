"""devstack.moto_queries: a Query read off a sorted partition, or walking an index unsorted, answers
exactly what moto's own Query answers: the same items in the same order, the same pages.

Each query below runs without and with the patch over the same tables, in tables with and without a
sort key (a string one and a number one, whose order is not the text's), with every key condition
forwards and backwards, on the base table, a global index with and without a sort key (sparse: not
every item carries its key) and a local index, filtered, in pages of a Limit and of moto's 1 MB.
Then, with the partitions' order built, items are added, replaced and deleted, by single writes and
by transactions that commit or are cancelled, and every query must still answer as moto does.
"""
from __future__ import annotations

import random
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
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
    *({"TableName": "numbered", "KeyConditionExpression": f"pk = :p AND {condition}",
       "ExpressionAttributeValues": {":p": {"S": "t1"}, ":a": {"N": "9"}, ":b": {"N": "110"}},
       "ScanIndexForward": forward}
      for condition in ("seq = :a", "seq < :b", "seq <= :b", "seq > :a", "seq >= :a", "seq BETWEEN :a AND :b")
      for forward in (True, False)),
    {"TableName": "numbered", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "t0"}},
     "ScanIndexForward": False},
    {"TableName": "numbered", "KeyConditionExpression": "pk = :p AND seq BETWEEN :a AND :b",
     "ExpressionAttributeValues": {":p": {"S": "t0"}, ":a": {"N": "500"}, ":b": {"N": "600"}}},  # an empty range
    {"TableName": "ranged", "KeyConditionExpression": "pk = :p AND sk > :s", "ScanIndexForward": False,
     "ExpressionAttributeValues": {":p": {"S": "p4"}, ":s": {"S": "s2"}}},
    {"TableName": "ranged", "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)", "ScanIndexForward": False,
     "ExpressionAttributeValues": {":p": {"S": "p1"}, ":s": {"S": "s2"}}},
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
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "grp", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "flat-by-group", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "grp", "KeyType": "HASH"}]}])
    dynamodb.create_table(
        TableName="numbered", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "seq", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "seq", "AttributeType": "N"}])
    for seq in rng.sample(range(1, 200), 150):  # written out of order
        dynamodb.put_item(TableName="numbered", Item={"pk": {"S": f"t{seq % 2}"}, "seq": {"N": str(seq)},
                                                      "text": {"S": "z" * rng.randrange(30000)}})
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


def _rewrite(dynamodb: Any) -> None:
    """Adds keys before, between and after those there, replaces some and deletes others."""
    def numbered(seq: int, text: str = "new") -> dict:
        return {"pk": {"S": f"t{seq % 2}"}, "seq": {"N": str(seq)}, "text": {"S": text}}

    for seq in (0, 5, 100, 150, 201, 1000):
        dynamodb.put_item(TableName="numbered", Item=numbered(seq))
    for seq in range(1, 200, 7):
        dynamodb.delete_item(TableName="numbered", Key={"pk": {"S": f"t{seq % 2}"}, "seq": {"N": str(seq)}})
    for seq in range(2, 200, 11):
        dynamodb.put_item(TableName="numbered", Item=numbered(seq, "replaced"))
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": "numbered", "Item": numbered(60)}},
        {"Delete": {"TableName": "numbered", "Key": {"pk": {"S": "t1"}, "seq": {"N": "201"}}}}])
    with pytest.raises(ClientError):  # cancelled: its put and its delete are both undone
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "numbered", "Item": numbered(62)}},
            {"Delete": {"TableName": "numbered", "Key": {"pk": {"S": "t0"}, "seq": {"N": "100"}}}},
            {"ConditionCheck": {"TableName": "numbered", "Key": {"pk": {"S": "t1"}, "seq": {"N": "5"}},
                                "ConditionExpression": "attribute_not_exists(seq)"}}])
    for number in range(0, 300, 13):
        dynamodb.delete_item(TableName="ranged", Key={"pk": {"S": f"p{number % 5}"}, "sk": {"S": f"s{number:02d}"}})
    dynamodb.put_item(TableName="ranged", Item={"pk": {"S": "p1"}, "sk": {"S": "s25x"}, "n": {"N": "1"}})


def test_a_query_answers_the_same_items_in_the_same_order_and_pages() -> None:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        _fill(dynamodb)
        plain = _answers(dynamodb)
        with partition_queries():
            patched = _answers(dynamodb)
            _rewrite(dynamodb)  # with each partition's order built by the queries above
            patched_after = _answers(dynamodb)
        plain_after = _answers(dynamodb)
        assert sum(len(page["Items"]) for pages in plain for page in pages) > 500  # the queries find items
        assert sum(len(pages) > 1 for pages in plain) > 20  # and many answers take several pages
        assert patched == plain
        assert plain_after != plain  # the writes changed what the queries find
        assert patched_after == plain_after
