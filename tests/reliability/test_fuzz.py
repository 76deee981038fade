"""Fuzzing on the local stack.

REST: schemathesis reads `/openapi.json` from the running stack and sends, for every operation,
the document's boundary and negative cases (coverage phase) and random valid and invalid requests
(fuzzing phase) with a signed-up tenant's admin token. No answer may be a 5xx, every answer must
match the document, and data the document rules out must be refused.

WebSocket: hypothesis sends frames of every sort through a real connection to the gateway: random
JSON, each action with wrong types, strings past their limits, unicode, deep nesting, frames over
32 KiB, text that is not JSON, binary. Each gets one `error` frame, the connection stays open (a
ping still answers), and nothing is stored.

Odd input on every operation is tests/reliability/test_odd_input.py (a file of its own, so the two long
runs go to different test workers).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from chalicelib.realtime.frames import CLIENT_FRAMES, MAX_FRAME_BYTES
from devstack.harness import RunningStack, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.long]


@pytest.fixture(scope="module")
def stack(unthrottled_stack: RunningStack) -> RunningStack:
    return unthrottled_stack


SCHEMATHESIS_CONFIG = Path(__file__).with_name("schemathesis.toml")
FRAME_EXAMPLES = 120  # each sent on a visitor's and an agent's connection


def test_every_operation_answers_fuzzed_requests_as_documented(stack: RunningStack, tmp_path: Path):
    # A tenant of its own: the fuzzer's POST /v1/auth/logout ends its token, which the other tests here keep using.
    token = sign_up(stack, name="Schemathesis", admin_email="admin@schemathesis.example")["token"]
    # The CLI runs the coverage phase (every boundary and negative case the document defines) as
    # well as random fuzzing; its working directory keeps its caches out of the repository.
    run = subprocess.run(
        [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(SCHEMATHESIS_CONFIG),
         "run", f"{stack.base}/openapi.json", "--no-color",
         "--header", f"Authorization: Bearer {token}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    summary = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    operations = re.search(r"Operations:\s+(\d+) selected", run.stdout)
    print(f"\nschemathesis: {operations and operations.group(1)} operations, "
          f"{summary and summary.group(0)}")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert summary and summary.group(1) == summary.group(2) and int(summary.group(1)) > 0
    documented = requests.get(f"{stack.base}/openapi.json", timeout=30).json()["paths"]
    # Every operation but GET /openapi.json, which schemathesis leaves out as the document itself.
    assert int(operations.group(1)) == sum(len(methods) for methods in documented.values()) - 1


# --- WebSocket frames -----------------------------------------------------------------------------
_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                     lambda inner: (st.lists(inner, max_size=4)
                                    | st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                     max_leaves=12)
_actions = [model.model_fields["action"].annotation.__args__[0] for model in CLIENT_FRAMES]
_wrong_types = st.one_of(st.lists(_json, min_size=0, max_size=3),
                         st.dictionaries(st.text(max_size=5), _json, max_size=3),
                         st.booleans(), st.floats(allow_nan=False))  # strict frames take none of these for any field


def _wrongly_typed() -> st.SearchStrategy[dict]:
    """An action with each of some of its fields given a value of a type it never takes."""
    def frame(model):
        action = model.model_fields["action"].annotation.__args__[0]
        names = [name for name in model.model_fields if name != "action"] or ["unexpected"]
        return st.fixed_dictionaries({"action": st.just(action)}).flatmap(
            lambda base: st.dictionaries(st.sampled_from(names), _wrong_types, min_size=1).map(
                lambda extra: {**base, **extra}))
    return st.one_of([frame(model) for model in CLIENT_FRAMES])


def _nested(depth: int) -> str:
    return '{"action": "message.send", "client_msg_id": "n", "text": ' + "[" * depth + "]" * depth + "}"


_too_long = st.fixed_dictionaries({
    "action": st.sampled_from(["message.send"]),
    "client_msg_id": st.text(min_size=1, max_size=64),
    # Past 4000 characters, but the whole frame within 32 KiB (a bigger frame closes with 1009).
    "text": st.builds(lambda char, n: char * n, st.characters(codec="utf-8", exclude_categories=("Cs",)),
                      st.integers(4001, 7000)),
}).filter(lambda frame: len(json.dumps(frame).encode()) <= MAX_FRAME_BYTES)


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
        return False
    except ValueError:
        return True


BAD_FRAMES = st.one_of(
    _json.map(json.dumps).filter(lambda raw: not re.search(r'"action"', raw)),            # any JSON but a frame
    st.dictionaries(st.just("action"), st.text(max_size=30).filter(lambda a: a not in _actions),
                    min_size=1).map(json.dumps),                                           # unknown actions
    _wrongly_typed().map(json.dumps),                                                      # wrong types
    _too_long.map(lambda frame: json.dumps(frame, ensure_ascii=False)),                    # huge unicode strings
    st.integers(1, 16000).map(_nested),                                                    # deep nesting
    st.text(max_size=200).filter(_not_json),                                               # not JSON
    st.binary(min_size=1, max_size=300),                                                   # binary frames
)


def _settled(ws: ClientConnection) -> list[dict]:
    """Every frame up to the answer to a ping: a connection's frames are handled in order, so
    whatever the earlier ones caused (acks, queue positions) has arrived by then."""
    ws.send(json.dumps({"action": "ping"}))
    frames = []
    while (frame := json.loads(ws.recv(timeout=10)))["type"] != "pong":
        frames.append(frame)
    return frames


def open_conversation(guest: ClientConnection) -> str:
    guest.send(json.dumps({"action": "message.send", "client_msg_id": "first", "text": "hello"}))
    [ack] = [frame for frame in _settled(guest) if frame["type"] == "ack"]
    return ack["conversation_id"]


def _stored(stack: RunningStack, tenant: dict, conversation_id: str) -> tuple[list, list]:
    headers = {"Authorization": f"Bearer {tenant['token']}"}
    conversations = requests.get(f"{stack.base}/v1/conversations", headers=headers, timeout=30).json()["items"]
    messages = requests.get(f"{stack.base}/v1/conversations/{conversation_id}/messages", headers=headers,
                            timeout=30).json()["items"]
    return [(c["conversation_id"], c["status"], c["last_seq"]) for c in conversations], messages


def test_fuzzed_frames_get_an_error_keep_the_connection_and_store_nothing(stack: RunningStack, fuzzed_tenant: dict):
    sent = {"frames": 0}

    @settings(max_examples=FRAME_EXAMPLES)
    @given(frame=BAD_FRAMES)
    def each(frame):
        for ws in (guest, admin):
            ws.send(frame)
            reply = json.loads(ws.recv(timeout=10))
            assert reply["type"] == "error" and reply["code"] and reply["message"], (frame[:200], reply)
            ws.send(json.dumps({"action": "ping"}))  # answered only while the connection is open
            assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}, frame[:200]
            sent["frames"] += 1

    # The tenant's visitor, with a message in an open conversation, and its admin.
    with connect(f"{stack.ws}/?token={fuzzed_tenant['visitor']['visitor_token']}", open_timeout=10) as guest, \
            connect(f"{stack.ws}/?token={fuzzed_tenant['token']}", open_timeout=10) as admin:
        conversation_id = open_conversation(guest)
        _settled(admin)
        before = _stored(stack, fuzzed_tenant, conversation_id)
        each()
    print(f"\nwebsocket fuzz: {sent['frames']} bad frames on 2 connections, each answered with an error")
    assert _stored(stack, fuzzed_tenant, conversation_id) == before


# --- Odd input on every operation -------------------------------------------------------------


def test_every_head_answers_as_its_get_without_a_body(stack: RunningStack, fuzzed_tenant: dict):
    document = requests.get(f"{stack.base}/openapi.json", timeout=30).json()
    heads = [path for path, operations in document["paths"].items() if "head" in operations]
    assert {"/app", "/demo", "/widget.js", "/assets/{name}", "/survey/{survey_token}", "/health",
            "/openapi.json"} <= set(heads)
    fill = {"name": "widget.js", "survey_token": "x_1", "unsubscribe_token": "x_1",
            "widget_key": fuzzed_tenant["widget_key"], "scope": "widget", "locale": "zh-CN"}
    for path in heads:
        url = stack.base + re.sub(r"{(\w+)}", lambda m: fill[m.group(1)], path)
        with requests.Session() as session:  # one connection: a body after a HEAD would garble the next answer
            got, head, again = (session.get(url, timeout=30, allow_redirects=False), session.head(url, timeout=30),
                                session.get(url, timeout=30, allow_redirects=False))
        assert head.status_code == got.status_code and head.content == b"", path
        assert {k: v for k, v in head.headers.items() if k != "Date"} == \
            {k: v for k, v in got.headers.items() if k != "Date"}, path
        assert again.status_code == got.status_code and again.content == got.content, path
