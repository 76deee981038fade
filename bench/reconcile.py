"""Section: what an agent's history costs the jobs that read what they hold. DynamoDB requests and
read units of one reconcile-capacity run, and of one reroute-stale run handing a gone agent's chats
back, for an agent holding a few open conversations with 10 ... 10,000 closed ones behind them.

Both jobs find what an agent holds through the sparse held-index (chalicelib/conversations/
assignment.py: conversations_held), so neither should read the history. The closed conversations
are seeded by copying one conversation closed through the handlers (its item as closing left it,
with new ids), batch-written: the same shape closing writes, without the messages, which neither
job reads. The same handlers and meter as the cost model.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from devstack.harness import MovableClock, Party, disconnect, run_job, visitor

from .metering import Meter, Tally

OPEN = 3  # conversations the agent holds while measured
_ids = itertools.count(1)


def run(sizes: list[int], progress: Callable[[str], None] = print) -> dict[str, Any]:
    results: dict[str, Any] = {"open": OPEN, "reconcile-capacity": {}, "hand-back": {}}
    for size in sizes:
        measured = _at_size(size)
        for job, tally in measured.items():
            results[job][str(size)] = {"dynamodb_requests": tally.requests("dynamodb"),
                                       "read_units": tally.read_units, "write_units": tally.write_units,
                                       "calls": {name: n for name, n in sorted(tally.calls.items())
                                                 if name.startswith("dynamodb.")}}
        progress(f"  reconcile: {size} closed + {OPEN} open: reconcile-capacity "
                 f"{results['reconcile-capacity'][str(size)]['dynamodb_requests']} DynamoDB requests, "
                 f"hand-back {results['hand-back'][str(size)]['dynamodb_requests']}")
    results["flat"] = all(len({(per[str(s)]["dynamodb_requests"], per[str(s)]["read_units"]) for s in sizes}) == 1
                          for per in (results["reconcile-capacity"], results["hand-back"]))
    return results


def _at_size(closed: int) -> dict[str, Tally]:
    from chalicelib.conversations.presence import GRACE
    from chalicelib.conversations.reconcile import SETTLE

    from .inprocess import chalice_on_moto

    meter, clock = Meter(), MovableClock()
    with chalice_on_moto(clock, meter) as api:
        tenant = api.signup()
        tenant["admin_token"] = api.login(tenant["tenant_id"], "admin@acme.com")
        api.add_agent(tenant["admin_token"], "sam@acme.com", max_concurrent=OPEN + 1)
        sam = Party(api.login(tenant["tenant_id"], "sam@acme.com"))
        sam.send(action="presence.set", status="online")
        template = _opened(api, tenant)
        sam.send(action="conversation.close", conversation_id=template, resolution="resolved")
        with meter.phase("seed"):
            _seed_history(tenant["tenant_id"], template, closed)
        for _ in range(OPEN):  # held, and answered: neither job has anything to do with them but find them
            conversation_id = _opened(api, tenant)
            sam.send(action="message.send", conversation_id=conversation_id, client_msg_id=f"r{next(_ids)}",
                     text="On it.")
        clock.advance(SETTLE.total_seconds() + 1)  # past the settling time reconcile leaves a new holding
        with meter.phase("reconcile-capacity"):
            summary = run_job("reconcile-capacity")
        assert summary["agents_checked"] == 1 and summary["loads_repaired"] == 0, summary
        disconnect(sam.connection_id)
        clock.advance(GRACE.total_seconds() + 1)
        with meter.phase("hand-back"):
            summary = run_job("reroute-stale")
        assert summary["agents_gone"] == 1 and summary["requeued_from_gone_agents"] == OPEN, summary
    return {"reconcile-capacity": meter.tallies["reconcile-capacity"], "hand-back": meter.tallies["hand-back"]}


def _opened(api: Any, tenant: dict[str, Any]) -> str:
    guest = visitor(api, tenant, name="Vera")
    guest.send(action="message.send", client_msg_id=f"r{next(_ids)}", text="Hello?")
    frames = guest.new_frames()
    assert any(frame["type"] == "conversation.assigned" for frame in frames), frames
    return next(frame["conversation_id"] for frame in frames if frame["type"] == "ack")


def _seed_history(tenant_id: str, template_id: str, count: int) -> None:
    """`count` copies of the closed conversation `template_id`, each with ids and a creation time of its own."""
    import boto3

    from chalicelib.storage.conversations import ConversationModel

    client, table = boto3.client("dynamodb"), ConversationModel.Meta.table_name
    item = client.get_item(TableName=table, Key={"tenant_id": {"S": tenant_id}, "conversation_id": {"S": template_id}},
                           ConsistentRead=True)["Item"]
    assert "held_by" not in item and item["status"]["S"] == "closed", item
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    copies = []
    for number in range(count):
        visitor_id = f"v_past{number:05d}"
        created = (long_ago + timedelta(minutes=number)).strftime("%Y-%m-%dT%H:%M:%S.%f%z")
        copies.append({**item, "conversation_id": {"S": f"c_past{number:05d}"}, "visitor_id": {"S": visitor_id},
                       "visitor_key": {"S": f"{tenant_id}#{visitor_id}"}, "created_at": {"S": created}})
    for start in range(0, count, 25):  # BatchWriteItem's limit
        client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": copy}}
                                                      for copy in copies[start:start + 25]]})
