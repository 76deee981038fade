"""Signatures over audit digests with the KMS key of infra/ (ECC_NIST_P256, ECDSA_SHA_256).

The private key never leaves KMS; the public key is fetched once per container and served as PEM.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..runtime import Runtime, runtime
from .chain import ALGORITHM, canonical

KMS_ALGORITHM = "ECDSA_SHA_256"


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    algorithm: str
    public_key_pem: str


class AuditSigner:
    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        response = rt.client("kms").get_public_key(KeyId=rt.config.audit_key_alias)
        # The key's own id (not the alias), so a digest names the key that signed it for good.
        self.key_id = response["KeyId"].rsplit("/", 1)[-1]
        public = serialization.load_der_public_key(response["PublicKey"])
        if not isinstance(public, ec.EllipticCurvePublicKey):  # the template makes it ECC_NIST_P256
            raise TypeError(f"audit key {self.key_id} is not an elliptic-curve key")
        self._public = public
        pem = self._public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.public_key = PublicKey(self.key_id, ALGORITHM, pem.decode())

    def sign(self, digest: dict[str, Any]) -> str:
        """base64 of the DER ECDSA signature over canonical(digest).

        KMS is sent the message's SHA-256 (MessageType DIGEST), never the message: it signs a RAW message of
        at most 4,096 bytes, and a receipt or a manifest is larger. The signature is the same either way:
        ECDSA_SHA_256 signs the SHA-256 of the message, so it verifies over canonical(digest)."""
        signature = self._rt.client("kms").sign(
            KeyId=self._rt.config.audit_key_alias, Message=hashlib.sha256(canonical(digest)).digest(),
            MessageType="DIGEST", SigningAlgorithm=KMS_ALGORITHM)["Signature"]
        return base64.b64encode(signature).decode()

    def verifies(self, digest: dict[str, Any], signature: str) -> bool:
        """Whether a stored signature is this key's over canonical(digest), checked locally."""
        try:
            self._public.verify(base64.b64decode(signature), canonical(digest), ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return False
        return True


def signed(digest: dict[str, Any]) -> dict[str, Any]:
    """A digest with its signature, as a trailer, a checkpoint or a receipt carries it (verify.py reads it)."""
    signer = audit_signer()
    return {"digest": digest, "algorithm": ALGORITHM, "key_id": signer.key_id, "signature": signer.sign(digest)}


def audit_signer() -> AuditSigner:
    rt = runtime()
    return rt.once("audit_signer", lambda: AuditSigner(rt))
