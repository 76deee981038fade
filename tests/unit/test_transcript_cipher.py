"""The key hierarchy and the cipher on moto: binding to place, tampering, shredding, caching, races."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.runtime import runtime
from chalicelib.storage.conversations import ConversationModel, MessageModel
from chalicelib.storage.visitors import VisitorModel
from chalicelib.transcripts.cipher import Revealed, Sealed, reveal, seal
from chalicelib.transcripts.keys import TTL_SECONDS, BoundedCache, Shredded, key_ring
from devstack.harness import Api


@pytest.fixture
def tenants(client) -> tuple[str, str]:
    api = Api(client)
    return (api.signup()["tenant_id"], api.signup(name="Other", email="b@other.com")["tenant_id"])


def conversation(tenant_id: str, conversation_id: str = "c_1", visitor_id: str = "v_1") -> ConversationModel:
    now = runtime().clock.utcnow()
    if not VisitorModel.count(tenant_id, VisitorModel.visitor_id == visitor_id):
        VisitorModel(tenant_id, visitor_id, created_at=now, last_seen_at=now).save()
    visitor = VisitorModel.get(tenant_id, visitor_id)
    made = ConversationModel(tenant_id, conversation_id, visitor_id=visitor_id, visitor_key=f"{tenant_id}#{visitor_id}",
                             status="bot", created_at=now,
                             data_keys=key_ring().new_conversation_keys(visitor, conversation_id))
    made.save()
    return made


def opened(conversation: ConversationModel, seq: int, sealed: Sealed) -> Revealed:
    """What a reader gets for `sealed` stored as message `seq` of the conversation."""
    message = MessageModel(f"{conversation.tenant_id}#{conversation.conversation_id}", seq,
                           sealed=sealed.blob, key_version=sealed.key_version)
    return reveal(conversation, message)


def count_calls(service: str) -> list[str]:
    calls: list[str] = []
    runtime().client(service).meta.events.register(f"before-call.{service}.*",
                                                   lambda model, **_: calls.append(model.name))
    return calls


def rotate(tenant_id: str) -> None:
    from chalicelib.access.principals import Principal
    from chalicelib.transcripts.rotation import rotate as rotate_key

    rotate_key(Principal("agent", tenant_id, "a_admin", "admin"))


def test_round_trip_and_no_plaintext(tenants):
    c = conversation(tenants[0])
    sealed = seal(c, 1, "my card ends 4242")
    assert b"4242" not in sealed.blob and sealed.key_version == 1
    assert opened(c, 1, sealed).text == "my card ends 4242"
    assert seal(c, 1, "same").blob != seal(c, 1, "same").blob  # fresh nonces


def test_a_ciphertext_moved_to_another_seq_does_not_open(tenants):
    c = conversation(tenants[0])
    assert opened(c, 2, seal(c, 1, "hello")) == Revealed(None, corrupted=True)


def test_a_ciphertext_moved_to_another_conversation_of_the_same_visitor_does_not_open(tenants):
    first, second = conversation(tenants[0], "c_1"), conversation(tenants[0], "c_2")
    assert opened(second, 1, seal(first, 1, "hello")) == Revealed(None, corrupted=True)


def test_a_ciphertext_moved_to_another_tenant_does_not_open(tenants):
    ours, theirs = conversation(tenants[0]), conversation(tenants[1])
    assert opened(theirs, 1, seal(ours, 1, "hello")) == Revealed(None, corrupted=True)


def test_a_flipped_bit_is_detected(tenants):
    c = conversation(tenants[0])
    sealed = seal(c, 1, "hello")
    for position in (0, 20, len(sealed.blob) - 1):  # nonce, body, tag
        flipped = bytearray(sealed.blob)
        flipped[position] ^= 1
        assert opened(c, 1, Sealed(bytes(flipped), sealed.key_version)) == Revealed(None, corrupted=True)


def test_a_conversation_without_its_keys_is_shredded_not_corrupted(tenants):
    c = conversation(tenants[0])
    sealed = seal(c, 1, "hello")
    c.update(actions=[ConversationModel.data_keys.remove()])
    assert opened(c, 1, sealed) == Revealed(None, redacted=True)


def test_kms_once_per_tenant_per_ttl_and_no_extra_request_per_message(tenants, clock):
    a, b = tenants
    ours, theirs = conversation(a), conversation(b)
    seal(ours, 1, "warm")
    kms, dynamodb = count_calls("kms"), count_calls("dynamodb")
    for seq in range(1, 201):
        assert opened(ours, seq, seal(ours, seq, "hi")).text == "hi"
    assert kms == [] and dynamodb == []
    seal(theirs, 1, "hi")  # already cached when its conversation was made
    assert kms == []
    clock.advance(TTL_SECONDS + 1)
    seal(ours, 201, "hi")
    assert kms == ["Decrypt"]


def test_caches_are_bounded_and_expire(aws, clock):
    cache: BoundedCache[int] = BoundedCache(runtime(), max_entries=2, ttl=10)
    loads = []
    for slot in ("a", "b", "c", "a"):
        cache.get(slot, lambda slot=slot: loads.append(slot) or len(loads))
    assert len(cache) == 2 and loads == ["a", "b", "c", "a"]  # "a" was evicted by "c"
    clock.advance(11)
    cache.get("a", lambda: loads.append("a") or 0)
    assert loads[-1] == "a" and len(loads) == 5


def test_after_rotation_racing_senders_agree_on_one_new_conversation_key(tenants):
    a, _ = tenants
    c = conversation(a)
    old = seal(c, 1, "before")
    rotate(a)
    copies = [ConversationModel.get(a, "c_1") for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        sealed = list(pool.map(lambda pair: seal(pair[1], pair[0] + 2, "after"), enumerate(copies)))
    stored = ConversationModel.get(a, "c_1")
    assert sorted(stored.data_keys.as_dict()) == ["1", "2"]
    assert sorted(VisitorModel.get(a, "v_1").data_keys.as_dict()) == ["1", "2"]
    assert {s.key_version for s in sealed} == {2}
    assert [opened(stored, n + 2, s).text for n, s in enumerate(sealed)] == ["after"] * 8
    assert opened(stored, 1, old).text == "before"


def test_a_shredded_conversation_gets_no_new_key(tenants):
    a, _ = tenants
    c = conversation(a)
    rotate(a)
    from chalicelib.transcripts.shredding import shred_closed

    c.update(actions=[ConversationModel.status.set("closed")])
    assert shred_closed(a, "c_1", runtime().clock.utcnow())
    with pytest.raises(Shredded):
        seal(c, 1, "too late")
    assert not ConversationModel.get(a, "c_1").data_keys.as_dict()
