"""chalicelib/storage/base.py: every table's model and every transaction use one pynamodb connection, so a
fresh container builds one botocore session and DynamoDB client for them, not one per table it touches."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.storage.base import shared_connection
from chalicelib.storage.helpers import transaction
from chalicelib.storage.limits import RateLimitModel
from chalicelib.storage.reports import ReportCounterModel
from chalicelib.storage.tables import ALL_MODELS


def _limit(bucket: str, hits: int) -> RateLimitModel:
    return RateLimitModel(bucket=bucket, hits=hits, expires_at=datetime.now(UTC) + timedelta(minutes=1))


def test_every_table_and_every_transaction_share_one_connection_and_client(aws):
    shared = shared_connection()
    assert {id(model._get_connection().connection) for model in ALL_MODELS} == {id(shared)}
    with transaction() as tx:
        tx.save(_limit("b1", 1))
        tx.save(ReportCounterModel(tenant_id="t1", bucket="2026-11-23T10"))
    assert tx._connection is shared
    _limit("b2", 2).save()
    # Reads and writes of two tables, singly and in a transaction, through the one client.
    assert [RateLimitModel.get(b).hits for b in ("b1", "b2")] == [1, 2]
    assert ReportCounterModel.get("t1", "2026-11-23T10").bucket == "2026-11-23T10"
    assert {id(model._get_connection().connection.client) for model in ALL_MODELS} == {id(shared.client)}
