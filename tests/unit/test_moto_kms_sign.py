"""devstack.moto_kms_sign: KMS Sign answers as AWS does, so what signs on moto signs on AWS.

AWS signs a RAW message of at most 4,096 bytes and, for larger ones, its digest (MessageType DIGEST),
whose signature verifies over the message itself; moto 5.2 signed any RAW message and hashed a DIGEST
again. The audit signer sends digests; a receipt of a few dozen conversations is over 4,096 bytes.
"""
from __future__ import annotations

import base64
import hashlib

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from moto import mock_aws

from devstack.moto_kms_sign import RAW_MESSAGE_LIMIT, kms_sign_as_aws

LARGE = b"x" * (RAW_MESSAGE_LIMIT + 1)


@pytest.fixture
def kms():
    with mock_aws(), kms_sign_as_aws():
        client = boto3.client("kms", region_name="us-east-1")
        key_id = client.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        public = serialization.load_der_public_key(client.get_public_key(KeyId=key_id)["PublicKey"])
        yield client, key_id, public


def sign(client, key_id: str, message: bytes, message_type: str) -> bytes:
    return client.sign(KeyId=key_id, Message=message, MessageType=message_type,
                       SigningAlgorithm="ECDSA_SHA_256")["Signature"]


def test_a_digest_is_signed_so_that_the_signature_verifies_over_the_message(kms) -> None:
    client, key_id, public = kms
    signature = sign(client, key_id, hashlib.sha256(LARGE).digest(), "DIGEST")
    public.verify(signature, LARGE, ec.ECDSA(hashes.SHA256()))  # raises if it does not hold


def test_a_small_raw_message_is_still_signed_as_before(kms) -> None:
    client, key_id, public = kms
    public.verify(sign(client, key_id, b"digest", "RAW"), b"digest", ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize(("message", "message_type", "says"), [
    (LARGE, "RAW", "less than or equal to 4096"),  # AWS's limit, which moto alone would let pass
    (b"too short", "DIGEST", "Digest is invalid length"),
    (hashlib.sha256(b"m").digest(), "EXTERNAL_MU", "not signed"),
])
def test_what_aws_refuses_is_refused(kms, message: bytes, message_type: str, says: str) -> None:
    client, key_id, _ = kms
    with pytest.raises(ClientError) as refused:
        sign(client, key_id, message, message_type)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert says in refused.value.response["Error"]["Message"]


def test_the_audit_signer_signs_a_digest_larger_than_kms_takes_raw(aws) -> None:
    from chalicelib.audit.chain import canonical
    from chalicelib.audit.signing import audit_signer

    digest = {"kind": "erasure_receipt", "conversations": [f"c_{n:026d}" for n in range(400)]}
    assert len(canonical(digest)) > RAW_MESSAGE_LIMIT
    signer = audit_signer()
    signature = signer.sign(digest)
    assert signer.verifies(digest, signature)
    # The PEM an auditor is given verifies it too.
    public = serialization.load_pem_public_key(signer.public_key.public_key_pem.encode())
    public.verify(base64.b64decode(signature), canonical(digest), ec.ECDSA(hashes.SHA256()))
