"""Message text is sealed under the tenant key, bound to its place, with KMS calls cached."""
from __future__ import annotations

import pytest

from chalicelib.runtime import runtime
from chalicelib.transcripts.cipher import Corrupted, Sealed, open_sealed, seal
from chalicelib.transcripts.keys import TTL_SECONDS, TenantKeyCache
from tests.helpers import Api


@pytest.fixture
def tenants(client) -> tuple[str, str]:
    api = Api(client)
    return (api.signup()["tenant_id"], api.signup(name="Other", email="b@other.com")["tenant_id"])


def count_kms_calls() -> list[str]:
    calls: list[str] = []
    kms = runtime().client("kms")
    kms.meta.events.register("before-call.kms.*", lambda model, **_: calls.append(model.name))
    return calls


def test_round_trip_and_no_plaintext(tenants):
    a, _ = tenants
    sealed = seal(a, "c_1", 1, "my card ends 4242")
    assert b"4242" not in sealed.blob and sealed.key_version == 1
    assert open_sealed(a, "c_1", 1, sealed) == "my card ends 4242"
    assert seal(a, "c_1", 1, "same").blob != seal(a, "c_1", 1, "same").blob  # fresh nonces


@pytest.mark.parametrize("place", [("c_1", 2), ("c_2", 1)])
def test_a_ciphertext_moved_to_another_place_does_not_open(tenants, place):
    a, _ = tenants
    sealed = seal(a, "c_1", 1, "hello")
    with pytest.raises(Corrupted):
        open_sealed(a, place[0], place[1], sealed)


def test_a_ciphertext_moved_to_another_tenant_does_not_open(tenants):
    a, b = tenants
    with pytest.raises(Corrupted):
        open_sealed(b, "c_1", 1, seal(a, "c_1", 1, "hello"))


def test_a_flipped_bit_is_detected(tenants):
    a, _ = tenants
    sealed = seal(a, "c_1", 1, "hello")
    flipped = bytearray(sealed.blob)
    flipped[-1] ^= 1
    with pytest.raises(Corrupted):
        open_sealed(a, "c_1", 1, Sealed(bytes(flipped), sealed.key_version))


def test_kms_is_called_once_per_tenant_per_ttl(tenants, clock):
    a, b = tenants
    calls = count_kms_calls()
    for seq in range(1, 201):
        open_sealed(a, "c_1", seq, seal(a, "c_1", seq, "hi"))
    assert calls == ["Decrypt"]
    seal(b, "c_9", 1, "hi")
    assert calls == ["Decrypt", "Decrypt"]
    clock.advance(TTL_SECONDS + 1)
    seal(a, "c_1", 201, "hi")
    assert calls == ["Decrypt"] * 3


def test_the_cache_is_bounded(tenants):
    a, b = tenants
    cache = TenantKeyCache(runtime(), max_entries=2)
    cache.current(a)
    cache.current(b)
    assert len(cache._entries) == 2
