"""refusal_means on moto: a write its condition refuses is an ApiError, or a refusal the caller reads."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pynamodb.exceptions import UpdateError

from chalicelib.errors import Conflict
from chalicelib.storage.helpers import refusal_means, transaction
from chalicelib.storage.limits import RateLimitModel

LATER = datetime.now(UTC) + timedelta(days=1)


@pytest.fixture
def counter(aws) -> RateLimitModel:
    item = RateLimitModel("bucket#1", hits=1, expires_at=LATER)
    item.save()
    return item


def test_a_write_its_condition_refuses_is_the_error_given(counter: RateLimitModel):
    with pytest.raises(Conflict), refusal_means(Conflict("taken")):
        counter.update(actions=[RateLimitModel.hits.add(1)], condition=RateLimitModel.hits == 5)
    assert RateLimitModel.get("bucket#1").hits == 1


def test_without_an_error_a_refusal_is_told_not_raised(counter: RateLimitModel):
    with refusal_means() as refused:
        counter.update(actions=[RateLimitModel.hits.add(1)], condition=RateLimitModel.hits == 5)
    assert refused
    with refusal_means() as refused:
        counter.update(actions=[RateLimitModel.hits.add(1)], condition=RateLimitModel.hits == 1)
    assert not refused
    assert RateLimitModel.get("bucket#1").hits == 2


def test_a_transaction_its_condition_refuses_is_a_refusal_and_writes_nothing(counter: RateLimitModel):
    with refusal_means() as refused, transaction() as tx:
        tx.update(counter, actions=[RateLimitModel.hits.add(1)], condition=RateLimitModel.hits == 5)
        tx.save(RateLimitModel("bucket#2", hits=1, expires_at=LATER))
    assert refused
    assert RateLimitModel.get("bucket#1").hits == 1 and RateLimitModel.count("bucket#2") == 0


def test_a_failure_that_is_no_refusal_passes(counter: RateLimitModel):
    # A key attribute cannot be updated: DynamoDB's validation refuses it, not a condition.
    with pytest.raises(UpdateError), refusal_means() as refused:
        counter.update(actions=[RateLimitModel.bucket.set("x")])
    assert not refused
