"""The key hierarchy under every transcript, and the per-container caches that keep it cheap.

    KMS key (infra/)  wraps  tenant key, one per version     TenantModel.data_keys   (KMS, context {tenant_id})
    tenant key v      wraps  visitor key v                   VisitorModel.data_keys  (AES-256-GCM)
    visitor key v     wraps  conversation key v              ConversationModel.data_keys
    conversation key  seals  message text                    MessageModel.sealed, key_version = v

Every wrapping binds the wrapped key to its place (tenant, visitor or conversation, version), so
a wrapped key copied elsewhere does not open. Destroying a visitor's keys shreds everything they
ever said (erasure); destroying a conversation's keys shreds that conversation (retention).
Rotation adds a tenant key version: new messages climb the new chain, older ones keep theirs.

KMS unwraps a tenant key once per container per TTL; visitor keys are cached the same way, so
ordinary chat makes no KMS call and no extra request per message. Opening always starts from the
conversation item the caller has just read, so a shredded conversation never opens from a cache.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pynamodb.attributes import MapAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.operand import Path

from ..errors import NotFound
from ..runtime import Runtime, runtime
from ..storage.base import WrappedKey
from ..storage.conversations import ConversationModel
from ..storage.helpers import refusal_means
from ..storage.tenants import TenantModel
from ..storage.visitors import VisitorModel
from .key_ids import conversation_key_id, visitor_key_id

MAX_TENANTS = 512
MAX_VISITORS = 4096
TTL_SECONDS = 300
KEY_BYTES = 32
NONCE_BYTES = 12


class Corrupted(Exception):
    """Tampered with, or moved to another place: it fails authentication."""


class Shredded(Exception):
    """Its key was destroyed on purpose (erasure or retention): gone for good."""


@dataclass(frozen=True)
class DataKey:
    version: int
    secret: bytes


ValueT = TypeVar("ValueT")


class BoundedCache(Generic[ValueT]):
    """Least recently used entries, each kept at most ttl seconds."""

    def __init__(self, rt: Runtime, max_entries: int, ttl: float) -> None:
        self._rt, self._max, self._ttl = rt, max_entries, ttl
        self._entries: OrderedDict[Hashable, tuple[float, ValueT]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, slot: Hashable, load: Callable[[], ValueT]) -> ValueT:
        now = self._rt.clock.now()
        with self._lock:
            hit = self._entries.get(slot)
            if hit and hit[0] > now:
                self._entries.move_to_end(slot)
                return hit[1]
        value = load()
        self.put(slot, value)
        return value

    def put(self, slot: Hashable, value: ValueT) -> None:
        with self._lock:
            self._entries[slot] = (self._rt.clock.now() + self._ttl, value)
            self._entries.move_to_end(slot)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def forget(self, slot: Hashable) -> None:
        with self._lock:
            self._entries.pop(slot, None)


# --- Wrapping one key in another --------------------------------------------------------------
def _visitor_place(tenant_id: str, visitor_id: str, version: int) -> bytes:
    return visitor_key_id(tenant_id, visitor_id, version).encode()


def _conversation_place(tenant_id: str, conversation_id: str, version: int) -> bytes:
    return conversation_key_id(tenant_id, conversation_id, version).encode()


def wrap(wrapping_key: bytes, key: bytes, place: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(wrapping_key).encrypt(nonce, key, place)


def unwrap(wrapping_key: bytes, wrapped: bytes, place: bytes) -> bytes:
    try:
        return AESGCM(wrapping_key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], place)
    except (InvalidTag, ValueError):
        raise Corrupted("a wrapped key does not open") from None


def _entry(keys: Any, version: int) -> bytes | None:
    """The wrapped key a data_keys map holds for one version."""
    return (keys.as_dict() if keys is not None else {}).get(str(version))


def _slot(keys: MapAttribute[str, bytes], version: int) -> Path:
    """Where a data_keys map holds one version's wrapped key, for an update's action and condition.
    (Subscripting the model's attribute does the same, but pynamodb types it as the stored value.)"""
    return Path(keys)[str(version)]


# --- Tenant keys (KMS) ------------------------------------------------------------------------
def new_tenant_key(rt: Runtime, tenant_id: str, version: int) -> WrappedKey:
    """A tenant key born wrapped: KMS never hands its plaintext to the caller here."""
    wrapped = rt.client("kms").generate_data_key_without_plaintext(
        KeyId=rt.config.data_key_alias, KeySpec="AES_256",
        EncryptionContext={"tenant_id": tenant_id})["CiphertextBlob"]
    return WrappedKey(version=version, wrapped=wrapped, created_at=rt.clock.utcnow())


class TenantKeyCache:
    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._cache: BoundedCache[DataKey] = BoundedCache(rt, MAX_TENANTS, TTL_SECONDS)

    def current(self, tenant_id: str) -> DataKey:
        """The key new conversation keys are wrapped under (through the visitor's key)."""
        key = self._cache.get((tenant_id, None), lambda: self._unwrap(tenant_id, None))
        # The current key is also its own version: one unwrap serves sealing and opening.
        self._cache.put((tenant_id, key.version), key)
        return key

    def version(self, tenant_id: str, version: int) -> DataKey:
        return self._cache.get((tenant_id, version), lambda: self._unwrap(tenant_id, version))

    def forget_current(self, tenant_id: str) -> None:
        """After a rotation in this container; other containers follow within the TTL."""
        self._cache.forget((tenant_id, None))

    def _unwrap(self, tenant_id: str, version: int | None) -> DataKey:
        try:
            tenant = TenantModel.get(tenant_id, consistent_read=True)
        except DoesNotExist:
            raise NotFound("No such tenant.") from None
        wanted = int(tenant.current_key_version if version is None else version)
        wrapped = next((k.wrapped for k in tenant.data_keys if k.version == wanted), None)
        if wrapped is None:
            raise Corrupted(f"no tenant key version {wanted}")
        plaintext = self._rt.client("kms").decrypt(
            CiphertextBlob=wrapped, EncryptionContext={"tenant_id": tenant_id})["Plaintext"]
        return DataKey(wanted, plaintext)


# --- Visitor and conversation keys -------------------------------------------------------------
class KeyRing:
    def __init__(self, rt: Runtime, tenant_keys: TenantKeyCache) -> None:
        self.tenant_keys = tenant_keys
        self._visitor_keys: BoundedCache[bytes] = BoundedCache(rt, MAX_VISITORS, TTL_SECONDS)

    def new_conversation_keys(self, visitor: VisitorModel, conversation_id: str) -> dict[str, bytes]:
        """data_keys for a conversation about to be created for a visitor the caller has just read:
        one key, current version."""
        version = self.tenant_keys.current(visitor.tenant_id).version
        visitor_key = self._visitor_key(visitor.tenant_id, visitor.visitor_id, version, create=True, held=visitor)
        return {str(version): self._wrap_conversation_key(visitor_key, visitor.tenant_id, conversation_id, version)}

    def sealing_key(self, conversation: ConversationModel) -> DataKey:
        """The conversation's key at the tenant's current version, made on first use after a rotation."""
        version = self.tenant_keys.current(conversation.tenant_id).version
        wrapped = _entry(conversation.data_keys, version) or self._add_conversation_key(conversation, version)
        return DataKey(version, self._open_conversation_key(conversation, version, wrapped))

    def opening_key(self, conversation: ConversationModel, version: int) -> bytes:
        wrapped = _entry(conversation.data_keys, version)
        if wrapped is None:
            raise Shredded(f"conversation {conversation.conversation_id} has no key version {version}")
        return self._open_conversation_key(conversation, version, wrapped)

    def forget_visitor(self, tenant_id: str, visitor_id: str, versions: list[int]) -> None:
        for version in versions:
            self._visitor_keys.forget((tenant_id, visitor_id, version))

    def _open_conversation_key(self, conversation: ConversationModel, version: int, wrapped: bytes) -> bytes:
        visitor_key = self._visitor_key(conversation.tenant_id, conversation.visitor_id, version, create=False)
        return unwrap(visitor_key, wrapped,
                      _conversation_place(conversation.tenant_id, conversation.conversation_id, version))

    @staticmethod
    def _wrap_conversation_key(visitor_key: bytes, tenant_id: str, conversation_id: str, version: int) -> bytes:
        return wrap(visitor_key, os.urandom(KEY_BYTES), _conversation_place(tenant_id, conversation_id, version))

    def _add_conversation_key(self, conversation: ConversationModel, version: int) -> bytes:
        visitor_key = self._visitor_key(conversation.tenant_id, conversation.visitor_id, version, create=True)
        wrapped = self._wrap_conversation_key(visitor_key, conversation.tenant_id, conversation.conversation_id,
                                              version)
        slot = _slot(ConversationModel.data_keys, version)
        # Never on a shredded conversation; a concurrent sender's key wins and is used instead.
        if _set_once(conversation, slot.set(wrapped),
                     slot.does_not_exist() & ConversationModel.shredded_at.does_not_exist()):
            return wrapped
        conversation.refresh(consistent_read=True)
        found = _entry(conversation.data_keys, version)
        if found is None:
            raise Shredded(f"conversation {conversation.conversation_id} was shredded")
        return found

    def _visitor_key(self, tenant_id: str, visitor_id: str, version: int, *, create: bool,
                     held: VisitorModel | None = None) -> bytes:
        """From the cache, else from the visitor item (the one the caller holds, if any)."""
        return self._visitor_keys.get((tenant_id, visitor_id, version), lambda: self._load_visitor_key(
            held or _read_visitor(tenant_id, visitor_id), version, create))

    def _load_visitor_key(self, visitor: VisitorModel, version: int, create: bool) -> bytes:
        tenant_id, visitor_id = visitor.tenant_id, visitor.visitor_id
        wrapped = _entry(visitor.data_keys, version)
        tenant_key = self.tenant_keys.version(tenant_id, version)
        place = _visitor_place(tenant_id, visitor_id, version)
        if wrapped is None and create and visitor.erased_at is None:
            candidate = wrap(tenant_key.secret, os.urandom(KEY_BYTES), place)
            slot = _slot(VisitorModel.data_keys, version)
            if _set_once(visitor, slot.set(candidate),
                         slot.does_not_exist() & VisitorModel.erased_at.does_not_exist()):
                wrapped = candidate
            else:
                visitor.refresh(consistent_read=True)
                wrapped = _entry(visitor.data_keys, version)
        if wrapped is None:
            raise Shredded(f"visitor {visitor_id} has no key version {version}")
        return unwrap(tenant_key.secret, wrapped, place)


def _read_visitor(tenant_id: str, visitor_id: str) -> VisitorModel:
    try:
        return VisitorModel.get(tenant_id, visitor_id, consistent_read=True)
    except DoesNotExist:
        raise Shredded(f"visitor {visitor_id} is gone") from None


def _set_once(item: Any, action: Any, condition: Any) -> bool:
    """One conditional update; False when the condition refused it."""
    with refusal_means() as refused:
        item.update(actions=[action], condition=condition)
    return not refused


def key_ring() -> KeyRing:
    rt = runtime()
    return rt.once("key_ring", lambda: KeyRing(rt, TenantKeyCache(rt)))
