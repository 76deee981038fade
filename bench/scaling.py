"""Section 2, flat scaling: DynamoDB requests (and request units) per message.send and per
assignment when N tenants exist and the measured tenant has N agents connected and N conversations
open, for each N. The same handlers and meter as the cost model."""
from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from devstack.harness import MovableClock, Party, visitor

from .metering import Meter

SAMPLES = 5  # messages and assignments measured at each size
# Widget sessions are limited to 30 a minute per address: visitors arrive over simulated minutes.
VISITORS_PER_MINUTE = 25
_ids = itertools.count(1)


def run(sizes: list[int], progress: Callable[[str], None] = print) -> dict[str, Any]:
    results: dict[str, Any] = {"message.send": {}, "assignment": {}}
    for size in sizes:
        measured = _at_size(size, progress)
        for action, tally in measured.items():
            results[action][str(size)] = {
                "dynamodb_requests": tally.requests("dynamodb") / SAMPLES,
                "read_units": tally.read_units / SAMPLES, "write_units": tally.write_units / SAMPLES,
                "calls": {name: n / SAMPLES for name, n in sorted(tally.calls.items()) if name.startswith("dynamodb.")}}
        progress(f"  scaling: size {size}: {results['message.send'][str(size)]['dynamodb_requests']:g} DynamoDB "
                 f"requests per message, {results['assignment'][str(size)]['dynamodb_requests']:g} per assignment")
    results["flat"] = all(len({round(per[str(s)]["dynamodb_requests"], 6) for s in sizes}) == 1
                          for per in (results["message.send"], results["assignment"]))
    return results


def _at_size(size: int, progress: Callable[[str], None]) -> dict[str, Any]:
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
        chats = []
        for _ in range(size):
            guest = arriving_visitor()
            guest.send(action="message.send", client_msg_id=f"s{next(_ids)}", text="Hello?")
            chats.append((guest, next(f["conversation_id"] for f in guest.new_frames() if f["type"] == "ack")))
        # The last opened: at every size they were opened a simulated minute ago. The first ones, at 1,000,
        # were 40 minutes old, past the 5-minute key cache, and cost one GetItem more for that reason alone.
        for guest, conversation_id in chats[-SAMPLES:]:
            with meter.phase("message.send"):
                guest.send(action="message.send", conversation_id=conversation_id, client_msg_id=f"s{next(_ids)}",
                           text="Any news?")
        for _ in range(SAMPLES):
            guest = arriving_visitor()
            with meter.phase("assignment"):  # opens the conversation, stores the message, routes it
                guest.send(action="message.send", client_msg_id=f"s{next(_ids)}", text="Hello?")
            assert any(f["type"] == "conversation.assigned" for f in guest.new_frames())
    return {"message.send": meter.tallies["message.send"], "assignment": meter.tallies["assignment"]}
