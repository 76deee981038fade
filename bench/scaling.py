"""Section 2, flat scaling: DynamoDB requests (and request units) per message.send and per
assignment when N tenants exist and the measured tenant has N agents connected and N conversations
open, for each N. The same handlers and meter as the cost model."""
from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

from devstack.harness import MovableClock, Party, visitor

from .metering import Meter

SAMPLES = 5  # messages and assignments measured at each size
# Widget sessions are limited to 30 a minute per address: visitors arrive over simulated minutes.
VISITORS_PER_MINUTE = 25
_ids = itertools.count(1)


def run(sizes: list[int], progress: Callable[[str], None] = print) -> dict[str, Any]:
    from chalicelib.runtime import runtime
    from chalicelib.transcripts.keys import TTL_SECONDS

    results: dict[str, Any] = {"samples": SAMPLES, "visitors_per_minute": VISITORS_PER_MINUTE,
                               "key_cache_minutes": TTL_SECONDS / 60,
                               "open_conversations_ceiling": runtime().config.tenant_open_visitor_conversations,
                               "message.send": {}, "assignment": {},
                               "message.send (oldest)": {}, "sizes": {}}
    for size in sizes:
        started = time.perf_counter()
        measured, results["sizes"][str(size)] = _at_size(size, progress)
        results["sizes"][str(size)]["seconds"] = time.perf_counter() - started
        for action, tally in measured.items():
            count = tally.invocations  # one message.send each (fewer than SAMPLES where N is smaller)
            results[action][str(size)] = {
                "dynamodb_requests": tally.requests("dynamodb") / count,
                "read_units": tally.read_units / count, "write_units": tally.write_units / count,
                "calls": {name: n / count for name, n in sorted(tally.calls.items()) if name.startswith("dynamodb.")}}
        progress(f"  scaling: size {size}: {results['message.send'][str(size)]['dynamodb_requests']:g} DynamoDB "
                 f"requests per message, {results['assignment'][str(size)]['dynamodb_requests']:g} per assignment")
    # Flat: the same requests at every size, for conversations opened within the key cache's time.
    results["flat"] = all(len({round(per[str(s)]["dynamodb_requests"], 6) for s in sizes}) == 1
                          for per in (results["message.send"], results["assignment"]))
    return results


def _at_size(size: int, progress: Callable[[str], None]) -> tuple[dict[str, Any], dict[str, Any]]:
    from .inprocess import chalice_on_moto, cheap_passwords

    meter, clock = Meter(), MovableClock()
    arrivals = itertools.count(1)

    def arriving_visitor() -> Any:
        if next(arrivals) % VISITORS_PER_MINUTE == 0:
            clock.advance(61)
        return visitor(api, tenant, name="Vera")

    with chalice_on_moto(clock, meter) as api, cheap_passwords():
        tenant = api.signup()
        tenant["admin_token"] = api.login(tenant["tenant_id"], "admin@acme.com")
        for number in range(1, size):
            api.signup(name=f"Tenant {number}", email=f"admin@tenant{number}.com")
        for number in range(size):
            email = f"agent{number}@acme.com"
            api.add_agent(tenant["admin_token"], email, max_concurrent=5)
            Party(api.login(tenant["tenant_id"], email)).send(action="presence.set", status="online")
        progress(f"  scaling: size {size}: {size} tenants, {size} agents online")
        chats, opened_at = [], []
        for _ in range(size):
            guest = arriving_visitor()
            guest.send(action="message.send", client_msg_id=f"s{next(_ids)}", text="Hello?")
            chats.append((guest, next(f["conversation_id"] for f in guest.new_frames() if f["type"] == "ack")))
            opened_at.append(clock.now())
        # The last opened: at every size they were opened within a simulated minute or two.
        last_age = clock.now() - opened_at[-min(SAMPLES, size)]
        for guest, conversation_id in chats[-SAMPLES:]:
            with meter.phase("message.send"):
                guest.send(action="message.send", conversation_id=conversation_id, client_msg_id=f"s{next(_ids)}",
                           text="Any news?")
        for _ in range(SAMPLES):
            guest = arriving_visitor()
            with meter.phase("assignment"):  # opens the conversation, stores the message, routes it
                guest.send(action="message.send", client_msg_id=f"s{next(_ids)}", text="Hello?")
            assert any(f["type"] == "conversation.assigned" for f in guest.new_frames())
        # The first opened, measured last: at the larger sizes they are older than the transcript key cache.
        oldest_age = clock.now() - opened_at[0]
        for guest, conversation_id in chats[:SAMPLES]:
            with meter.phase("message.send (oldest)"):
                guest.send(action="message.send", conversation_id=conversation_id, client_msg_id=f"s{next(_ids)}",
                           text="Still there?")
    measured = {name: meter.tallies[name] for name in ("message.send", "assignment", "message.send (oldest)")}
    return measured, {"invocations": meter.total().invocations, "oldest_age_minutes": oldest_age / 60,
                      "last_age_minutes": last_age / 60}
