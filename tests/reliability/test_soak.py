"""Soak on the local stack: visitors and agents chat for a while with random disconnects and
reconnects, in one asyncio process. `make test` runs a short soak (50 visitors and 5 agents for 45 s,
at the same rates); `make soak` runs 200 visitors and 20 agents for 5 minutes.
SWITCHBOARD_SOAK_SECONDS, _VISITORS and _AGENTS set the size (each agent has room for its share
of the chats and five more, so a chat that moves for want of a first reply finds a place).

Each client behaves as the web client does: a message stays pending until its ack; after a
reconnect it syncs every conversation from the last seq it holds without a gap and sends every
pending message again with the same client_msg_id. At the end every acked message is in the
transcript exactly once and in seq order, each side has seen every message of its conversations,
and once the agents close their chats no capacity is left held.
"""
from __future__ import annotations

import asyncio
import functools
import json
import math
import os
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
import requests
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from devstack.harness import PASSWORD, RunningStack, sign_up

# make test runs the short soak among the other tests (first, as `long`): what it asserts (nothing lost,
# doubled or left held) must hold however busy the machine; `make soak` runs the full size on its own.
pytestmark = [pytest.mark.e2e, pytest.mark.soak, pytest.mark.long]

SECONDS = float(os.environ.get("SWITCHBOARD_SOAK_SECONDS", "45"))
VISITORS = int(os.environ.get("SWITCHBOARD_SOAK_VISITORS", "50"))
AGENTS = int(os.environ.get("SWITCHBOARD_SOAK_AGENTS", "5"))
# Room to spare: a chat with no first reply in time moves to another agent, who must have room.
CAPACITY = math.ceil(VISITORS / AGENTS) + 5
# The local stack is one Python process (one core, for the GIL) whose embedded AWS answers one
# request at a time; an opening costs it most (a key, an assignment, an audit event), then a
# reconnect (the handshake, the syncs, an agent's presence and list), then a message. At 200
# visitors and 20 agents these paces offer about 1.7 openings a second for the first two minutes,
# 1.5 messages a second from visitors and 0.7 from agents, and 1.2 reconnects a second: what the
# stack absorbs with acks in about a second, so the soak measures loss under reconnects rather
# than queueing in one process (docs/reliability.md, "Soak"; on AWS each frame is a Lambda of its own).
# Paces for 200 visitors and 20 agents; a smaller soak keeps the same rates with fewer clients.
SCALE = VISITORS / 200
VISITOR_PAUSE = (90.0 * SCALE, 180.0 * SCALE)  # seconds between a visitor's turns (its first opens the chat)
AGENT_PAUSE = (20.0 * AGENTS / 20, 40.0 * AGENTS / 20)  # between an agent's turns (each to one of its chats)
OPENINGS_OVER = 120.0 * SCALE                  # seconds over which the visitors open their chats
DROP_EVERY = 180.0 * SCALE                     # seconds: each client drops its connection about this often
SETTLE_SECONDS = 240                           # for the last acks, syncs and closes once the load stops
PROGRESS_EVERY = 10


@dataclass
class Tally:
    sent: int = 0
    acked: int = 0
    delivered: int = 0
    reconnects: int = 0
    failed_connects: int = 0  # handshakes the busy gateway dropped; the client tried again
    refused: int = 0
    errors: Counter = field(default_factory=Counter)
    ack_seconds: list[float] = field(default_factory=list)  # first send to ack, resends included

    def ack_percentile(self, fraction: float) -> float:
        ordered = sorted(self.ack_seconds) or [0.0]
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def line(self, started: float, parties: list[Client]) -> str:
        pending = sum(len(party.pending) for party in parties)
        return (f"soak t={time.monotonic() - started:.0f}s sent={self.sent} acked={self.acked} "
                f"delivered={self.delivered} reconnects={self.reconnects} "
                f"failed_connects={self.failed_connects} pending={pending} "
                f"ack_p50={self.ack_percentile(0.5):.2f}s ack_p99={self.ack_percentile(0.99):.2f}s "
                f"errors={dict(self.errors)}")


class Client:
    """One visitor or agent: a WebSocket that comes and goes, and what it knows."""

    def __init__(self, url: str, kind: str, name: str, tally: Tally, rng: random.Random,
                 assigned: Callable[[], list[str]] | None = None) -> None:
        """`assigned`: for an agent, the REST list of its open chats, read after each reconnect."""
        self.url, self.kind, self.name, self.tally, self.rng = url, kind, name, tally, rng
        self.assigned = assigned
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task | None = None
        self.conversations: list[str] = []                          # visitor: its one; agent: assigned
        self.pending: dict[str, tuple[str | None, str]] = {}        # client_msg_id -> (conversation, text)
        self.first_sent: dict[str, float] = {}                      # client_msg_id -> monotonic time
        self.acked: dict[str, tuple[str, int, str]] = {}            # client_msg_id -> (conversation, seq, text)
        self.seen: dict[str, set[int]] = defaultdict(set)           # seqs received or acked
        self.syncing: set[str] = set()
        self.closed: set[str] = set()
        self.errors: list[dict] = []
        self.reconnecting = False
        self.count = 0

    # --- the connection ----------------------------------------------------------------------
    async def open(self) -> None:
        """Connect, trying again after a refused or timed-out handshake, as the web client does."""
        for attempt in range(10):
            try:
                self.ws = await connect(self.url, open_timeout=60, close_timeout=5, ping_interval=None)
                break
            except (InvalidHandshake, OSError, TimeoutError):
                self.tally.failed_connects += 1
                await asyncio.sleep(min(2 ** attempt, 15) * self.rng.uniform(0.5, 1.0))
        else:
            raise AssertionError(f"{self.name} could not reconnect")
        self.reader = asyncio.create_task(self._read(self.ws))

    async def reconnect(self) -> None:
        """Drop the connection (cleanly or not), come back, catch up, send what is unacked again."""
        if self.reconnecting:
            return
        self.reconnecting = True
        try:
            await self._come_back()
        finally:
            self.reconnecting = False

    async def _come_back(self) -> None:
        if self.ws is not None:
            if self.rng.random() < 0.5:
                self.ws.transport.abort()
            else:
                await self.ws.close()
            if self.reader is not asyncio.current_task():
                await asyncio.wait([self.reader])
        self.tally.reconnects += 1
        await asyncio.sleep(self.rng.uniform(0.1, 2.0))
        await self.open()
        await self.catch_up()
        for client_msg_id, (conversation_id, text) in list(self.pending.items()):
            await self._send_message(client_msg_id, conversation_id, text)

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                await self._on(json.loads(raw))
        except ConnectionClosed:
            pass

    async def _send(self, frame: dict[str, Any]) -> bool:
        try:
            await self.ws.send(json.dumps(frame))
            return True
        except ConnectionClosed:
            return False  # pending stays pending: sent again after the reconnect

    async def catch_up(self) -> None:
        """What the console does after a (re)connect: presence again, the list of my chats (an
        assignment made while away was told to no one), then what each of them missed."""
        if self.kind == "agent":
            await self._send({"action": "presence.set", "status": "online"})
            for conversation_id in await asyncio.to_thread(self.assigned):
                if conversation_id not in self.conversations:
                    self.conversations.append(conversation_id)
        for conversation_id in self.conversations:
            await self.sync(conversation_id)

    # --- what arrives ------------------------------------------------------------------------
    async def _on(self, frame: dict[str, Any]) -> None:
        kind, conversation_id = frame["type"], frame.get("conversation_id")
        if kind == "ack":
            self.seen[conversation_id].add(frame["seq"])
            if self.kind == "visitor" and not self.conversations:
                self.conversations.append(conversation_id)
            sent = self.pending.pop(frame["client_msg_id"], None)
            if sent is not None:
                self.acked[frame["client_msg_id"]] = (conversation_id, frame["seq"], sent[1])
                self.tally.acked += 1
                self.tally.ack_seconds.append(time.monotonic() - self.first_sent[frame["client_msg_id"]])
        elif kind == "message.new":
            self.seen[conversation_id].add(frame["seq"])
            self.tally.delivered += 1
        elif kind == "conversation.assigned" and self.kind == "agent":
            if conversation_id not in self.conversations:
                self.conversations.append(conversation_id)
                await self.sync(conversation_id)
        elif kind == "conversation.closed":
            self.closed.add(conversation_id)
        elif kind == "sync.done":
            if frame["complete"]:
                self.syncing.discard(conversation_id)
            else:  # one page of a long transcript: ask for the next
                await self._send({"action": "messages.sync", "conversation_id": conversation_id,
                                  "after_seq": frame["last_seq"]})
        elif kind == "error":
            self.tally.errors[frame["code"]] += 1
            self.errors.append(frame)
            if frame["code"] == "not_connected" and not self.reconnecting:
                # The gateway forgot this connection (a handshake it gave up on under load): come back.
                asyncio.create_task(self.reconnect())
                return
            if frame["code"] == "not_found" and self.kind == "agent" and conversation_id in self.conversations:
                # The chat moved to another agent (no first reply in time): this one lets it go.
                self.conversations.remove(conversation_id)
                self.syncing.discard(conversation_id)
            ref = frame.get("ref")
            if ref in self.pending and frame["code"] not in ("rate_limited", "unavailable", "internal_error"):
                del self.pending[ref]  # refused for good: the sender learned it was not stored
                self.tally.refused += 1

    # --- what it does ------------------------------------------------------------------------
    def contiguous(self, conversation_id: str) -> int:
        seqs, last = self.seen[conversation_id], 0
        while last + 1 in seqs:
            last += 1
        return last

    async def sync(self, conversation_id: str) -> None:
        self.syncing.add(conversation_id)
        await self._send({"action": "messages.sync", "conversation_id": conversation_id,
                          "after_seq": self.contiguous(conversation_id)})

    async def say(self) -> None:
        if self.kind == "agent" and not self.conversations:
            return
        conversation_id = self.conversations[0] if self.kind == "visitor" and self.conversations else (
            self.rng.choice(self.conversations) if self.kind == "agent" else None)
        self.count += 1
        client_msg_id = f"{self.name}-{self.count}"
        text = f"{client_msg_id} " + self.rng.choice(["hello", "где мой заказ?", "ok 👍", "merci beaucoup", "x" * 300])
        self.pending[client_msg_id] = (conversation_id, text)
        self.first_sent[client_msg_id] = time.monotonic()
        self.tally.sent += 1
        await self._send_message(client_msg_id, conversation_id, text)

    async def _send_message(self, client_msg_id: str, conversation_id: str | None, text: str) -> None:
        frame = {"action": "message.send", "client_msg_id": client_msg_id, "text": text}
        if conversation_id is not None:
            frame["conversation_id"] = conversation_id
        await self._send(frame)

    async def live(self, until: float, pause: tuple[float, float]) -> None:
        if self.kind == "visitor":
            await asyncio.sleep(self.rng.uniform(0, min(OPENINGS_OVER, SECONDS / 2)))
            await self.say()
        while (turn := time.monotonic() + self.rng.uniform(*pause)) < until:
            await asyncio.sleep(turn - time.monotonic())
            await self.say()

    async def drop_now_and_then(self, until: float) -> None:
        while (drop := time.monotonic() + self.rng.expovariate(1 / DROP_EVERY)) < until:
            await asyncio.sleep(drop - time.monotonic())
            await self.reconnect()


async def _until(condition, seconds: float, what) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds}s: {what()}"
        await asyncio.sleep(0.2)


async def _at_most(seconds: float, condition) -> None:
    """Wait until the condition holds (as frames arrive), but no longer than `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.2)


async def _progress(tally: Tally, started: float, parties: list[Client]) -> None:
    while True:
        await asyncio.sleep(PROGRESS_EVERY)
        print(tally.line(started, parties), flush=True)


async def soak(stack: RunningStack, visitor_tokens: list[str],
               agent_logins: list[tuple[str, str]]) -> tuple[list[Client], list[Client], Tally]:
    """`agent_logins`: (token, agent_id) of each agent."""
    tally, rng = Tally(), random.Random(20261123)
    agents = [Client(f"{stack.ws}/?token={token}", "agent", f"a{n}", tally, random.Random(rng.random()),
                     assigned=functools.partial(_assigned, stack, token, agent_id))
              for n, (token, agent_id) in enumerate(agent_logins)]
    visitors = [Client(f"{stack.ws}/?token={token}", "visitor", f"v{n}", tally, random.Random(rng.random()))
                for n, token in enumerate(visitor_tokens)]
    everyone = agents + visitors
    for agent in agents:
        await agent.open()
        await agent._send({"action": "presence.set", "status": "online"})
    await asyncio.gather(*(visitor.open() for visitor in visitors))
    started = time.monotonic()
    progress = asyncio.create_task(_progress(tally, started, everyone))
    until = started + SECONDS
    await asyncio.gather(*(agent.live(until, AGENT_PAUSE) for agent in agents),
                         *(visitor.live(until, VISITOR_PAUSE) for visitor in visitors),
                         *(party.drop_now_and_then(until) for party in everyone))
    print(f"soak: load stopped: {tally.line(started, everyone)}", flush=True)

    # Settle: no more drops; whoever is still pending sends again until everything is acked or refused.
    async def resend_pending() -> None:
        for party in everyone:
            for client_msg_id, (conversation_id, text) in list(party.pending.items()):
                await party._send_message(client_msg_id, conversation_id, text)
    deadline = time.monotonic() + SETTLE_SECONDS
    while any(party.pending for party in everyone):
        assert time.monotonic() < deadline, tally.line(started, everyone)
        await resend_pending()
        await _at_most(3, lambda: not any(party.pending for party in everyone))
    # Each side catches up on every conversation it holds, as after a reconnect.
    for party in everyone:
        await party.catch_up()
    await _until(lambda: not any(party.syncing for party in everyone), SETTLE_SECONDS,
                 lambda: ("syncs unfinished", [(p.name, p.syncing, p.errors) for p in everyone if p.syncing][:10]))
    # The agents close every chat they hold, as listed by REST (a chat may have moved to another
    # agent meanwhile); a close refused with `conflict` (the chat changed meanwhile) is sent again.
    deadline = time.monotonic() + SETTLE_SECONDS

    def unclosed() -> list[str]:
        return [v.name for v in visitors if not set(v.conversations) & v.closed]

    while unclosed():
        assert time.monotonic() < deadline, ("chats not closed", unclosed()[:10],
                                             [(a.name, a.errors[-3:]) for a in agents][:5])
        for agent in agents:
            for conversation_id in await asyncio.to_thread(agent.assigned):
                await agent._send({"action": "conversation.close", "conversation_id": conversation_id,
                                   "resolution": "resolved"})
        await _at_most(10, lambda: not unclosed())  # the closed frames; a close refused is sent again
    progress.cancel()
    print(f"soak: settled: {tally.line(started, everyone)}", flush=True)
    for party in everyone:
        await party.ws.close()
    return agents, visitors, tally


@pytest.fixture(scope="module")
def soak_stack():
    # 200 widget sessions and 21 logins come from one address here: the per-IP limits are raised.
    running = RunningStack(WIDGET_SESSIONS_PER_MINUTE=str(VISITORS * 5), LOGIN_LIMIT_PER_MINUTE=str(AGENTS * 5))
    yield running
    running.stop()


def _pages(stack: RunningStack, token: str, path: str, **params: str) -> list[dict]:
    items, cursor = [], None
    while True:
        response = requests.get(f"{stack.base}{path}", params={**params, "cursor": cursor} if cursor else params,
                                headers={"Authorization": f"Bearer {token}"}, timeout=30)
        response.raise_for_status()
        items += response.json()["items"]
        if not (cursor := response.json()["next_cursor"]):
            return items


def _assigned(stack: RunningStack, token: str, agent_id: str) -> list[str]:
    return [item["conversation_id"] for item in
            _pages(stack, token, "/v1/conversations", status="assigned", agent_id=agent_id)]


def _held_capacity(stack: RunningStack, tenant_id: str) -> dict[str, int]:
    """Each agent's load as stored: what routing counts as held."""
    ddb = boto3.client("dynamodb", endpoint_url=stack.aws, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    [table] = [name for name in ddb.list_tables()["TableNames"] if name.endswith("-agents")]
    items = ddb.query(TableName=table, KeyConditionExpression="tenant_id = :t",
                      ExpressionAttributeValues={":t": {"S": tenant_id}}, ConsistentRead=True)["Items"]
    return {item["agent_id"]["S"]: int(item.get("load", {"N": "0"})["N"]) for item in items}


@pytest.mark.timeout(SECONDS + 3 * SETTLE_SECONDS + 300)
def test_soak_every_acked_message_once_in_order_and_seen_no_capacity_held(soak_stack: RunningStack):
    tenant = sign_up(soak_stack, name="Soak", admin_email=f"admin{int(time.time())}@soak.example")
    admin = tenant["token"]
    requests.put(f"{soak_stack.base}/v1/settings", json={"bot_enabled": False, "survey_enabled": False},
                 headers={"Authorization": f"Bearer {admin}"}, timeout=30).raise_for_status()
    agent_tokens, agent_ids = [], []
    for n in range(AGENTS):
        email = f"agent{n}@soak.example"
        soak_stack.post("/v1/agents", {"email": email, "name": f"Agent {n}", "password": PASSWORD, "role": "agent",
                                       "max_concurrent": CAPACITY}, admin).raise_for_status()
        login = soak_stack.post("/v1/auth/login", {"tenant_id": tenant["tenant_id"], "email": email,
                                                   "password": PASSWORD}).json()
        agent_tokens.append(login["token"])
        agent_ids.append(login["agent"]["agent_id"])
    visitor_tokens = [soak_stack.post(f"/v1/widget/{tenant['widget_key']}/sessions", {}).json()["visitor_token"]
                      for _ in range(VISITORS)]

    agents, visitors, tally = asyncio.run(soak(soak_stack, visitor_tokens,
                                               list(zip(agent_tokens, agent_ids, strict=True))))

    lost = doubled = 0
    conversations = {v.conversations[0] for v in visitors}
    assert len(conversations) == VISITORS
    agent_by_id = dict(zip(agent_ids, agents, strict=True))
    for visitor in visitors:
        [conversation_id] = visitor.conversations
        # The agent who held the chat last (and closed it): a chat may have moved meanwhile.
        closed = requests.get(f"{soak_stack.base}/v1/conversations/{conversation_id}",
                              headers={"Authorization": f"Bearer {admin}"}, timeout=30).json()
        assert closed["status"] == "closed" and closed["agent_id"] in agent_by_id, closed
        holder = agent_by_id[closed["agent_id"]]
        transcript = _pages(soak_stack, admin, f"/v1/conversations/{conversation_id}/messages")
        seqs = [item["seq"] for item in transcript]
        assert seqs == list(range(1, len(seqs) + 1)), (conversation_id, seqs)  # in order, no gaps
        texts = Counter(item["text"] for item in transcript)
        acked = [(seq, text) for party in (visitor, *agents)
                 for (cid, seq, text) in party.acked.values() if cid == conversation_id]
        lost += sum(1 for seq, text in acked if texts[text] == 0)
        doubled += sum(1 for seq, text in acked if texts[text] > 1)
        assert all(transcript[seq - 1]["text"] == text for seq, text in acked), conversation_id
        # Nothing else was stored: no phantom, no copy of a message that was refused.
        assert sorted(texts.elements()) == sorted(text for _, text in acked), conversation_id
        for party in (visitor, holder):
            assert party.seen[conversation_id] >= set(seqs), (party.name, conversation_id)
    held = _held_capacity(soak_stack, tenant["tenant_id"])
    open_chats = _pages(soak_stack, admin, "/v1/conversations", status="assigned")
    print(f"\nsoak figures: visitors={VISITORS} agents={AGENTS} seconds={SECONDS:.0f} sent={tally.sent} "
          f"acked={tally.acked} delivered={tally.delivered} reconnects={tally.reconnects} "
          f"failed_connects={tally.failed_connects} "
          f"refused={tally.refused} errors={dict(tally.errors)} lost={lost} doubled={doubled} "
          f"capacity_held={sum(held.values())} ack_p50={tally.ack_percentile(0.5):.2f}s "
          f"ack_p99={tally.ack_percentile(0.99):.2f}s")
    assert (lost, doubled) == (0, 0)
    assert tally.acked == tally.sent - tally.refused
    assert set(held) >= set(agent_ids) and sum(held.values()) == 0, held
    assert open_chats == []
