"""tests/aws_state.py: each test starts from the template's resources with no data in them, provisioned
afresh only when a test changed the resources; tests/helpers.all_items reads what a Scan would."""
from __future__ import annotations

import boto3

from devstack.harness import MovableClock
from tests.helpers import all_items, in_process_aws

TENANTS = "switchboard-test-tenants"
QUEUE = "switchboard-test-audit-exports"


def _leave_data_everywhere() -> None:
    boto3.client("dynamodb").put_item(TableName=TENANTS, Item={"tenant_id": {"S": "t_left"}, "blob": {"B": b"\x00"}})
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"], MessageBody="left")
    bucket = boto3.client("s3").list_buckets()["Buckets"][0]["Name"]
    boto3.client("s3").put_object(Bucket=bucket, Key="left", Body=b"left")


def _data_left() -> dict[str, int]:
    sqs = boto3.client("sqs")
    queue = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    waiting = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
    bucket = boto3.client("s3").list_buckets()["Buckets"][0]["Name"]
    return {"items": sum(len(rows) for rows in all_items().values()),
            "messages": int(waiting["Attributes"]["ApproximateNumberOfMessages"]),
            "objects": boto3.client("s3").list_objects_v2(Bucket=bucket).get("KeyCount", 0)}


def test_the_next_test_finds_the_resources_without_the_data(boto_session):
    from tests.aws_state import PROVISIONED

    with in_process_aws(MovableClock(), boto_session):
        _leave_data_everywhere()
        assert _data_left() == {"items": 1, "messages": 1, "objects": 1}
    provisions = PROVISIONED.provisions
    with in_process_aws(MovableClock(), boto_session):
        assert _data_left() == {"items": 0, "messages": 0, "objects": 0}
        assert TENANTS in boto3.client("dynamodb").list_tables()["TableNames"]
    assert PROVISIONED.provisions == provisions  # emptied, not provisioned again


def test_a_test_that_changes_a_resource_leaves_the_next_a_fresh_one(boto_session):
    from tests.aws_state import PROVISIONED

    with in_process_aws(MovableClock(), boto_session):
        sqs = boto3.client("sqs")
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"])
    provisions = PROVISIONED.provisions
    with in_process_aws(MovableClock(), boto_session):
        assert boto3.client("sqs").get_queue_url(QueueName=QUEUE)["QueueUrl"]
    assert PROVISIONED.provisions == provisions + 1


def test_all_items_is_what_a_scan_through_boto3_returns(boto_session):
    with in_process_aws(MovableClock(), boto_session):
        ddb = boto3.client("dynamodb")
        ddb.put_item(TableName=TENANTS, Item={
            "tenant_id": {"S": "t_1"}, "n": {"N": "1.50"}, "blob": {"B": b"\x00\xffsealed"},
            "blobs": {"BS": [b"\x01", b"\x02"]}, "nested": {"M": {"list": {"L": [{"B": b"\x03"}, {"S": "s"}]}}},
            "names": {"SS": ["a", "b"]}, "flag": {"BOOL": True}, "none": {"NULL": True}})
        ddb.put_item(TableName=TENANTS, Item={"tenant_id": {"S": "t_2"}})
        scanned = {table: ddb.scan(TableName=table)["Items"] for table in ddb.list_tables()["TableNames"]}
        assert all_items() == scanned
