"""moto's KMS Sign as AWS answers it: a RAW message of at most 4,096 bytes, and MessageType DIGEST.

moto 5.2 ignores MessageType (getmoto/moto#10202, still open): a DIGEST is hashed once more, so its
signature verifies against no message anyone has, and a RAW message of any size is signed where AWS
refuses one over 4,096 bytes. The audit signer sends the SHA-256 of what it signs
(chalicelib/audit/signing.py), as AWS requires of larger messages; with this fix the local stack, the
tests and the bench sign as AWS does and refuse what AWS refuses (tests/unit/test_moto_kms_sign.py).
Only the elliptic-curve algorithms the template's audit key uses sign a DIGEST here.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

RAW_MESSAGE_LIMIT = 4096
# The digest each algorithm signs, and its length in bytes.
_DIGESTS = {"ECDSA_SHA_256": ("SHA256", 32), "ECDSA_SHA_384": ("SHA384", 48), "ECDSA_SHA_512": ("SHA512", 64)}


@contextmanager
def kms_sign_as_aws() -> Iterator[None]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils
    from moto.kms.exceptions import ValidationException
    from moto.kms.responses import KmsResponse

    original = KmsResponse.sign

    def sign(response: Any) -> str:
        message = response._get_param("Message")
        message = message.encode() if isinstance(message, str) else message
        message_type = response._get_param("MessageType") or "RAW"
        if message_type == "RAW":
            if message and len(message) > RAW_MESSAGE_LIMIT:
                raise ValidationException("1 validation error detected: Value at 'message' failed to satisfy "
                                          "constraint: Member must have length less than or equal to "
                                          f"{RAW_MESSAGE_LIMIT}")
            return original(response)
        algorithm = response._get_param("SigningAlgorithm")
        if message_type != "DIGEST" or algorithm not in _DIGESTS:
            raise ValidationException(f"MessageType {message_type} with {algorithm} is not signed by this moto")
        hash_name, length = _DIGESTS[algorithm]
        if len(message or b"") != length:
            raise ValidationException(f"Digest is invalid length for algorithm {algorithm}.")
        key = response.kms_backend.describe_key(response._get_param("KeyId"))
        if key.key_usage != "SIGN_VERIFY" or algorithm not in key.signing_algorithms:
            raise ValidationException(f"Key {key.arn} does not sign with {algorithm}")
        prehashed = ec.ECDSA(utils.Prehashed(getattr(hashes, hash_name)()))
        signature = key.private_key.private_key.sign(message, prehashed)
        return json.dumps({"KeyId": key.arn, "Signature": base64.b64encode(signature).decode(),
                           "SigningAlgorithm": algorithm})

    KmsResponse.sign = sign
    try:
        yield
    finally:
        KmsResponse.sign = original
