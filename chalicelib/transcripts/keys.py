"""Unwrapped tenant data keys, cached per Lambda container, bounded in size and time.

KMS unwraps a tenant's key once per container per TTL, so ordinary chat makes no KMS call
per message. The cache holds at most MAX_TENANTS keys for at most TTL_SECONDS each.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist

from ..errors import NotFound
from ..runtime import Runtime, runtime
from ..storage.models import TenantModel

MAX_TENANTS = 512
TTL_SECONDS = 300


@dataclass(frozen=True)
class DataKey:
    tenant_id: str
    version: int
    secret: bytes


class TenantKeyCache:
    def __init__(self, rt: Runtime, max_entries: int = MAX_TENANTS, ttl: float = TTL_SECONDS) -> None:
        self._rt, self._max, self._ttl = rt, max_entries, ttl
        self._entries: OrderedDict[tuple[str, int | None], tuple[float, DataKey]] = OrderedDict()
        self._lock = threading.Lock()

    def current(self, tenant_id: str) -> DataKey:
        """The key new messages are sealed with."""
        return self._get(tenant_id, None)

    def version(self, tenant_id: str, version: int) -> DataKey:
        """The key a stored message names, to open it."""
        return self._get(tenant_id, version)

    def _get(self, tenant_id: str, version: int | None) -> DataKey:
        slot = (tenant_id, version)
        now = self._rt.clock.now()
        with self._lock:
            hit = self._entries.get(slot)
            if hit and hit[0] > now:
                self._entries.move_to_end(slot)
                return hit[1]
        key = self._unwrap(tenant_id, version)
        with self._lock:
            # The current key is also its own version: one unwrap serves sealing and opening.
            for kept in {slot, (tenant_id, key.version)}:
                self._entries[kept] = (now + self._ttl, key)
                self._entries.move_to_end(kept)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return key

    def _unwrap(self, tenant_id: str, version: int | None) -> DataKey:
        try:
            tenant = TenantModel.get(tenant_id)
        except DoesNotExist:
            raise NotFound("No such tenant.") from None
        wanted = tenant.current_key_version if version is None else version
        wrapped = next((k.wrapped for k in tenant.data_keys if k.version == wanted), None)
        if wrapped is None:
            raise NotFound(f"No key version {wanted} for this tenant.")
        plaintext = self._rt.client("kms").decrypt(
            CiphertextBlob=wrapped, EncryptionContext={"tenant_id": tenant_id})["Plaintext"]
        return DataKey(tenant_id, int(wanted), plaintext)


def tenant_keys() -> TenantKeyCache:
    rt = runtime()
    return rt.once("tenant_keys", lambda: TenantKeyCache(rt))
