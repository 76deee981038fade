"""moto's S3 POST uploads as AWS answers them: the signed policy's conditions hold, or the upload is refused.

moto 5.2 stores whatever a browser POSTs to a bucket (moto/s3/responses.py `_bucket_response_post` reads
only the key and the file): a form for another key, a file larger than the policy's content-length-range,
or an expired policy would all be stored, where S3 answers 403 AccessDenied or 400 EntityTooLarge. With
this fix the local stack refuses what S3 refuses (attachments: docs/attachments.md; the signature itself is
not checked: moto's credentials are fake). tests/unit/test_moto_post_policy.py holds it to AWS's answers.
"""
from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any


def refusal(form: Mapping[str, str], bucket: str, size: int, now: float) -> tuple[int, str, str] | None:
    """(status, S3 error code, message) when the form's policy refuses this upload; None when it allows it
    or when the form carries no policy (a plain POST, which this fix leaves to moto)."""
    if "policy" not in form:
        return None
    try:
        policy = json.loads(base64.b64decode(form["policy"]))
        expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")).timestamp()
        conditions = policy["conditions"]
    except (ValueError, KeyError, TypeError):
        return 400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON."
    if expires < now:
        return 403, "AccessDenied", "Invalid according to Policy: Policy expired."
    fields = {**{name.lower(): value for name, value in form.items()}, "bucket": bucket}
    for condition in conditions:
        if isinstance(condition, dict):
            failed = any(fields.get(name.lower()) != value for name, value in condition.items())
        elif condition[0] == "content-length-range":
            if not condition[1] <= size <= condition[2]:
                too_large = size > condition[2]
                return (400, "EntityTooLarge" if too_large else "EntityTooSmall",
                        "Your proposed upload exceeds the maximum allowed size" if too_large
                        else "Your proposed upload is smaller than the minimum allowed size")
            failed = False
        else:
            operator, name, value = condition
            found = fields.get(name.lstrip("$").lower(), "")
            failed = found != value if operator == "eq" else not found.startswith(value)
        if failed:
            return 403, "AccessDenied", f"Invalid according to Policy: Policy Condition failed: {condition}"
    return None


@contextmanager
def post_policies_enforced() -> Iterator[None]:
    from moto.s3.responses import S3Response

    original = S3Response._bucket_response_post

    def checked(response: Any, request: Any, bucket_name: str) -> Any:
        body = response.body or b""
        refused = refusal(response.form_data or {}, bucket_name, len(body), time.time())
        if refused is None:
            return original(response, request, bucket_name)
        status, code, message = refused
        return status, {"Content-Type": "application/xml"}, (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>')

    S3Response._bucket_response_post = checked
    try:
        yield
    finally:
        S3Response._bucket_response_post = original
