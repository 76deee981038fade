"""Odd input on the local stack: every operation of `/openapi.json` (a new route is walked by itself) gets
odd credentials (API keys with empty, overlong or non-ASCII parts, "Bearer" alone, forged and overlong
JWTs), and odd values (extreme dates, huge numbers, unicode, empty, very long, NUL bytes) in each
of its query parameters, path parameters and the headers the app or the gateway reads. No answer
is a 5xx: a bad credential on a protected route is 401, anything else a documented status. The
cases tried are counted and printed (docs/security.md quotes the figure).
"""
from __future__ import annotations

import base64
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import quote

import pytest
import requests
from websockets.sync.client import connect

from devstack.harness import RunningStack
from tests.reliability.test_fuzz import open_conversation

pytestmark = [pytest.mark.e2e, pytest.mark.long]


@pytest.fixture(scope="module")
def stack(unthrottled_stack: RunningStack) -> RunningStack:
    return unthrottled_stack


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
# Every odd credential on the first operation of each kind of access (public, any signed-in caller, each set of
# roles: one parser and one check each), and a different few on each other operation, so every operation is
# tried and each credential reaches operations of every kind: each of them on every operation was a third of
# the run's thousands of requests, each answered by the same code as on the first of its kind.
CREDENTIALS_PER_OPERATION = 6


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
    access_seen: set[tuple] = set()
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

        access = ("security" in operation, tuple(operation.get("x-roles", ())))
        credentials = ODD_CREDENTIALS if access not in access_seen else [
            ODD_CREDENTIALS[k % len(ODD_CREDENTIALS)]
            for k in range(index * CREDENTIALS_PER_OPERATION, (index + 1) * CREDENTIALS_PER_OPERATION)]
        access_seen.add(access)
        for credential in credentials:
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
        conversation_id = open_conversation(guest)
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


