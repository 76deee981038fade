"""The local stack's S3 refuses a POST upload its signed policy refuses, as S3 does (devstack/moto_post_policy.py)."""
from __future__ import annotations

import base64
import json

import pytest

from devstack.moto_post_policy import refusal

NOW = 1_800_000_000.0


def form(key: str = "uploads/t/a", expiration: str = "2027-01-15T08:00:00Z", **extra: str) -> dict[str, str]:
    conditions = [["content-length-range", 1, 100], {"bucket": "up"}, {"key": "uploads/t/a"},
                  ["starts-with", "$key", "uploads/"]]
    policy = base64.b64encode(json.dumps({"expiration": expiration, "conditions": conditions}).encode()).decode()
    return {"key": key, "policy": policy, **extra}


def test_an_upload_the_policy_allows_goes_through():
    assert refusal(form(), "up", 100, NOW) is None
    assert refusal({"key": "plain"}, "up", 10**9, NOW) is None  # no policy: not a presigned POST


@pytest.mark.parametrize(("changes", "size", "answer"), [
    ({}, 101, (400, "EntityTooLarge")),
    ({}, 0, (400, "EntityTooSmall")),
    ({"key": "uploads/t/other"}, 10, (403, "AccessDenied")),
    ({"expiration": "2020-01-01T00:00:00Z"}, 10, (403, "AccessDenied")),
    ({"policy": "not base64 json"}, 10, (400, "InvalidPolicyDocument")),
])
def test_what_s3_refuses_is_refused(changes: dict, size: int, answer: tuple[int, str]):
    fields = form(**{k: v for k, v in changes.items() if k != "policy"})
    fields.update({k: v for k, v in changes.items() if k == "policy"})
    assert refusal(fields, "up", size, NOW)[:2] == answer


def test_another_bucket_is_refused():
    assert refusal(form(), "elsewhere", 10, NOW)[:2] == (403, "AccessDenied")
