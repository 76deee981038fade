"""Section 5, crypto: what sealing and opening message text adds to the message path, and KMS calls.

The plaintext path is the CPU work every message does anyway apart from AWS requests: build its
message.new frame and serialise it for posting, then parse it back (as a reader does). The encrypted
path adds seal() on the way in and reveal() on the way out (chalicelib/transcripts/cipher.py: unwrap the
conversation key from the cached visitor key, AES-256-GCM). The ratio is (plaintext + seal + reveal) /
plaintext, from medians of interleaved rounds on one real conversation. KMS calls are counted over
1,000 seals and opens in a fresh container (cold) and again in the same container (warm).
"""
from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from devstack.harness import MovableClock, Party, visitor

ROUNDS = 15
PER_ROUND = 400
KMS_MESSAGES = 1000  # seals and opens over which KMS calls are counted
TEXT = "Hello! My parcel #88231 has not arrived yet; the tracking page says it left the depot on Monday."


def run(progress: Callable[[str], None] = print) -> dict[str, Any]:
    from chalicelib.conversations.message_store import message_frame
    from chalicelib.runtime import Runtime, runtime, use_runtime
    from chalicelib.storage.conversations import ConversationModel, MessageModel
    from chalicelib.transcripts.cipher import Revealed, reveal, seal
    from chalicelib.transcripts.keys import TTL_SECONDS

    from .inprocess import chalice_on_moto
    from .metering import Meter

    meter, clock = Meter(), MovableClock()
    with chalice_on_moto(clock, meter) as api:
        tenant = api.signup()
        guest: Party = visitor(api, tenant, name="Vera")
        guest.send(action="message.send", client_msg_id="c1", text=TEXT)
        conversation_id = next(f["conversation_id"] for f in guest.new_frames() if f["type"] == "ack")
        conversation = ConversationModel.get(tenant["tenant_id"], conversation_id)
        [stored] = list(MessageModel.query(f"{tenant['tenant_id']}#{conversation_id}"))

        def plaintext_path() -> None:
            json.loads(json.dumps(message_frame(conversation_id, stored, Revealed(TEXT)), separators=(",", ":")))

        def encrypted_path() -> None:
            stored.sealed, stored.key_version = (sealed := seal(conversation, 1, TEXT)).blob, sealed.key_version
            text = reveal(conversation, stored).text
            json.loads(json.dumps(message_frame(conversation_id, stored, Revealed(text)), separators=(",", ":")))

        kms = {}
        for temperature in ("cold", "warm"):
            if temperature == "cold":  # a new Lambda container: empty key caches
                use_runtime(Runtime(clock=clock, session=runtime()._session))
            with meter.phase(f"kms:{temperature}") as tally:
                for _ in range(KMS_MESSAGES):
                    encrypted_path()
            kms[temperature] = sum(n for name, n in tally.calls.items() if name.startswith("kms."))
        plain, sealed_path = [], []
        for _ in range(ROUNDS):
            plain.append(_seconds_per_call(plaintext_path))
            sealed_path.append(_seconds_per_call(encrypted_path))
    plain_us, sealed_us = 1e6 * statistics.median(plain), 1e6 * statistics.median(sealed_path)
    progress(f"  crypto: plaintext path {plain_us:.1f} µs, with seal + open {sealed_us:.1f} µs; "
             f"KMS calls per 1000 messages: cold {kms['cold']}, warm {kms['warm']}")
    return {"plaintext_path_us": plain_us, "encrypted_path_us": sealed_us,
            "crypto_overhead_ratio": sealed_us / plain_us, "added_us": sealed_us - plain_us,
            "kms_messages": KMS_MESSAGES, "key_cache_minutes": TTL_SECONDS / 60,
            "kms_calls_per_1000_messages": {"cold_container": kms["cold"], "warm_container": kms["warm"]}}


def _seconds_per_call(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    for _ in range(PER_ROUND):
        work()
    return (time.perf_counter() - started) / PER_ROUND
