"""Fuzzing on the local stack.

REST: schemathesis reads `/openapi.json` from the running stack and sends, for every operation,
the document's boundary and negative cases (coverage phase) and random valid and invalid requests
(fuzzing phase) with a signed-up tenant's admin token. No answer may be a 5xx, every answer must
match the document, and data the document rules out must be refused.

WebSocket: hypothesis sends frames of every sort through a real connection to the gateway: random
JSON, each action with wrong types, strings past their limits, unicode, deep nesting, frames over
32 KiB, text that is not JSON, binary. Each gets one `error` frame, the connection stays open (a
ping still answers), and nothing is stored.

Odd input: every operation of `/openapi.json` (a new route is walked by itself) gets odd
credentials (API keys with empty, overlong or non-ASCII parts, "Bearer" alone, forged and overlong
JWTs), and odd values (extreme dates, huge numbers, unicode, empty, very long, NUL bytes) in each
of its query parameters, path parameters and the headers the app or the gateway reads. No answer
is a 5xx: a bad credential on a protected route is 401, anything else a documented status. The
cases tried are counted and printed (docs/security.md quotes the figure).
"""
from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from chalicelib.realtime.frames import CLIENT_FRAMES, MAX_FRAME_BYTES
from devstack.harness import RunningStack, sign_up

pytestmark = pytest.mark.e2e

SCHEMATHESIS_CONFIG = Path(__file__).with_name("schemathesis.toml")
FRAME_EXAMPLES = 120  # each sent on a visitor's and an agent's connection


@pytest.fixture(scope="module")
def stack():
    # Thousands of requests from one address, most with one tenant's admin token, within minutes, and
    # frames as fast as the stack answers: the per-address, per-tenant and per-connection budgets are
    # raised for this module's stack only (tests/reliability/test_abuse_limits.py tests them).
    running = RunningStack(TENANT_REQUESTS_PER_MINUTE="1000000", WIDGET_SESSIONS_PER_MINUTE="1000000",
                           SIGNUP_LIMIT_PER_HOUR="1000000", LOGIN_LIMIT_PER_MINUTE="1000000",
                           TENANT_NEW_VISITORS_PER_MINUTE="1000000", VISITOR_SOURCE_REQUESTS_PER_MINUTE="1000000",
                           WS_FRAMES_PER_SECOND="1000000")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def fuzzed_tenant(stack: RunningStack) -> dict:
    return sign_up(stack, name="Fuzzed", admin_email="admin@fuzzed.example")


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


def _open_conversation(guest: ClientConnection) -> str:
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
        conversation_id = _open_conversation(guest)
        _settled(admin)
        before = _stored(stack, fuzzed_tenant, conversation_id)
        each()
    print(f"\nwebsocket fuzz: {sent['frames']} bad frames on 2 connections, each answered with an error")
    assert _stored(stack, fuzzed_tenant, conversation_id) == before


# --- Odd input on every operation -------------------------------------------------------------
def _b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _jwt(header: str, payload: str, signature: str = "c2ln") -> str:
    return f"{_b64(header)}.{_b64(payload)}.{signature}"


ODD_VALUES = [
    "", " ", "0", "-1", "9" * 400, "1e999", "NaN", "-Infinity", str(2 ** 64), "0x7fffffff",
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0000-00-00T00:00:00Z", "2026-02-30T25:61:61Z",
    "1969-12-31T23:59:59Z", "+275760-09-13T00:00:00Z", "2026-11-23", "2026-11-23T10:15:00",
    "é", "🙂" * 100, "\u202eevil", "\ufeff", "中文字符", "\U0001d4b3",
    "\x00", "a\x00b", "x" * 4000, "a" * 1500 + ".b",
    "null", "[]", "{}", "true", "../../etc/passwd", "' OR '1'='1", "%00", "%ff%fe", "<script>alert(1)</script>",
]
ODD_CREDENTIALS = [
    "Bearer", "Bearer ", "bearer", "Bearer  x", "Basic dXNlcjpwYXNz", "Token abc", "Bearer null",
    "Bearer sbk...x", "Bearer sbk.a.b.c", "Bearer sbk.", "Bearer sbk", "Bearer sbk....", "Bearer sbk.t_x..s",
    "Bearer sbk." + "t" * 3000 + ".k_x.s", "Bearer sbk.t_x.k_x." + "s" * 6000, "Bearer sbk.é.k_x.s",
    "Bearer sbk.\x00.k_x.s", "Bearer a.b.c", "Bearer ...", "Bearer 🙂", "Bearer \x00",
    "Bearer " + _jwt('{"alg":"none","typ":"JWT"}', '{"aud":"agent","tid":"t_x","sub":"a_x","exp":9999999999}', ""),
    "Bearer " + _jwt('{"alg":"HS256","typ":"JWT"}', '{"aud":"agent","pad":"' + "p" * 6000 + '"}'),
    "Bearer " + _jwt('{"alg":"HS256","kid":"' + "k" * 3000 + '"}', "{}"),
    "Bearer " + _jwt('{"alg":"HS256","kid":123}', "{}"),
    "Bearer " + _jwt('{"alg":["HS256"]}', "{}"),
    "Bearer " + _jwt('{"alg":"RS256","kid":"../../etc/passwd"}', "{}"),
    "Bearer " + _jwt('{"alg":"HS256"}', '{"exp":1e400,"tid":"","sub":"","aud":"agent"}'),
    "Bearer " + _jwt('{"alg":"HS256"}', "not json"),
    "Bearer " + _jwt("[]", "[]"),
    "Bearer e30.e30.!!!",
    "Bearer " + "e" * 8000,
]
# What the app reads (Authorization, Origin) or its gateway does (Content-Type, Accept), and common others.
FUZZED_HEADERS = ["Origin", "Content-Type", "Accept", "X-Forwarded-For", "Cookie", "User-Agent"]
# No HTTP client sends a blank header value or a NUL byte in one (requests refuses them).
HEADER_VALUES = [value for value in ODD_VALUES if value.strip() and "\x00" not in value]
HEADER_VALUES_PER_OPERATION = 4


@dataclass(frozen=True)
class Case:
    kind: str        # credential | query | path | header
    method: str
    path: str        # the document's path, for the report
    url: str
    headers: dict
    body: str | None


def _header_value(value: str) -> bytes:
    return value.encode("utf-8")


def _cases(stack: RunningStack, document: dict, token: str, ids: dict[str, str]) -> list[Case]:
    cases = []
    every = [(path, method.upper(), operation) for path, operations in document["paths"].items()
             for method, operation in operations.items()]
    auth = {"Authorization": _header_value(f"Bearer {token}")}
    for index, (path, method, operation) in enumerate(every):
        params = operation.get("parameters", [])
        path_names = [p["name"] for p in params if p["in"] == "path"]
        queries = [p["name"] for p in params if p["in"] == "query"]
        safe = method in ("GET", "HEAD")
        # Real ids where a read needs one to get past its lookup; never a real id for a change.
        base = {name: ids.get(name, "x_1") if safe else "x_1" for name in path_names}
        body = "{}" if "requestBody" in operation else None

        def url(values: dict[str, str], query: str = "", path: str = path) -> str:
            for name, value in values.items():
                path = path.replace("{" + name + "}", quote(value, safe=""))
            return stack.base + path + query

        def case(kind: str, target: str, headers: dict, method: str = method, path: str = path,
                 body: str | None = body) -> Case:
            return Case(kind, method, path, target, {"Content-Type": b"application/json", **headers}, body)

        for credential in ODD_CREDENTIALS:
            cases.append(case("credential", url(base), {"Authorization": _header_value(credential)}))
        if not safe and body is None and not path_names:
            continue  # a change without a body or an id acts on the token alone: only credentials here
        for value in ODD_VALUES:
            cases += [case("path", url({**base, name: value}), auth) for name in path_names]
            cases += [case("query", url(base, f"?{quote(name)}={quote(value, safe='')}"), auth) for name in queries]
        # A name no route declares, and each header, get a few of the values, a different few on each
        # operation: every value reaches each header somewhere, and the run stays within minutes.
        for k in range(index * HEADER_VALUES_PER_OPERATION, (index + 1) * HEADER_VALUES_PER_OPERATION):
            cases.append(case("query", url(base, f"?undeclared={quote(ODD_VALUES[k % len(ODD_VALUES)], safe='')}"),
                              auth))
            cases += [case("header", url(base),
                           {**auth, header: _header_value(HEADER_VALUES[(k + n) % len(HEADER_VALUES)])})
                      for n, header in enumerate(FUZZED_HEADERS)]
    return cases


def _known_ids(stack: RunningStack, tenant: dict) -> dict[str, str]:
    """One real id of each kind a read takes in its path, so odd queries get past the lookup."""
    headers = {"Authorization": f"Bearer {tenant['token']}"}

    def post(path: str, body: dict) -> dict:
        response = requests.post(stack.base + path, json=body, headers=headers, timeout=30)
        assert response.status_code in (200, 201, 202), (path, response.text)
        return response.json()

    guest_token = stack.post(f"/v1/widget/{tenant['widget_key']}/sessions", {"name": "Odd"}).json()["visitor_token"]
    with connect(f"{stack.ws}/?token={guest_token}", open_timeout=10) as guest:
        conversation_id = _open_conversation(guest)
    conversation = requests.get(f"{stack.base}/v1/conversations/{conversation_id}", headers=headers, timeout=30).json()
    return {
        "conversation_id": conversation_id, "visitor_id": conversation["visitor_id"],
        "agent_id": requests.get(f"{stack.base}/v1/me", headers=headers, timeout=30).json()["agent"]["agent_id"],
        "faq_id": post("/v1/faq", {"question": "odd?", "answer": "odd."})["faq_id"],
        "canned_id": post("/v1/canned-responses", {"shortcut": "odd", "text": "odd"})["canned_id"],
        "key_id": post("/v1/api-keys", {"name": "odd", "role": "agent"})["key_id"],
        "export_id": post("/v1/audit/exports",
                          {"from": "2020-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"})["export_id"],
        "widget_key": tenant["widget_key"], "name": "widget.js",
    }


@pytest.mark.timeout(900)
def test_odd_input_on_every_operation_is_refused_never_a_5xx(stack: RunningStack, fuzzed_tenant: dict):
    document = requests.get(f"{stack.base}/openapi.json", timeout=30).json()
    cases = _cases(stack, document, fuzzed_tenant["token"], _known_ids(stack, fuzzed_tenant))
    local = threading.local()

    def send(case: Case) -> tuple[Case, int]:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        # A redirect (single sign-on's) is the operation's answer; where it leads is another operation's.
        response = local.session.request(case.method, case.url, headers=case.headers, data=case.body, timeout=60,
                                         allow_redirects=False)
        return case, response.status_code

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(send, cases))
    operations = {(case.method, case.path) for case in cases}
    kinds = {kind: sum(case.kind == kind for case in cases) for kind in ("credential", "query", "path", "header")}
    server_errors = [(c.kind, c.method, c.path, c.url[:200], status) for c, status in answers if status >= 500]
    print(f"\nodd input: {len(cases)} cases ({', '.join(f'{n} {kind}' for kind, n in kinds.items())}) "
          f"on {len(operations)} operations, {len(server_errors)} 5xx")
    assert not server_errors, (server_errors[:20], "".join(stack.output)[-6000:])
    assert operations == {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    undocumented = [(case.kind, case.method, case.url[:160], case.headers.get("Authorization", b"")[:60], status)
                    for case, status in answers if not _as_documented(case, status, document)]
    assert not undocumented, undocumented[:20]


def _as_documented(case: Case, status: int, document: dict) -> bool:
    operation = document["paths"][case.path][case.method.lower()]
    if case.kind == "credential" and "security" in operation:
        return status == 401
    documented = set(operation["responses"])
    if case.headers["Content-Type"] != b"application/json":
        documented.add("415")  # Chalice refuses a content type the route does not take, body or not
    if case.kind == "path":
        documented.add("405")  # an empty id makes the URL another route's, e.g. /v1/audit/exports/
    return str(status) in documented


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
