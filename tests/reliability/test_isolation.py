"""Tenant isolation, exhaustively.

Tenant A gets one of every object the API exposes. Then every operation of `GET /openapi.json`
(iterated, never hand-listed: a new route is covered by itself) is called with tenant B's admin
token and B's admin API key, A's ids in the path and in every id or email field, bodies and queries
generated from the document by schemathesis; and every protected route is called by each of A's own
principals whose role the route does not allow. Every WebSocket action is sent on B's agent and
visitor connections against A's conversations. Nothing of A may be read or changed.

What may change: tenant B's own rows (its audit trail, what its admin creates), new tenants that
`POST /v1/tenants` signs up, and rate-limit counters. A's rows (every item whose tenant id is A's,
or whose key starts with `A#`) must stay byte for byte the same, and A's connections must receive
no frame.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pyotp
import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from chalicelib.web.routing import ROUTES, RouteSpec
from devstack.harness import Api, Party, frames_sent, run_job
from devstack.oidc_issuer import OidcIssuer
from tests.helpers import all_items, use_limits, without_rate_limits

STAFF_ROLES = ("admin", "supervisor", "agent", "compliance")
# Path parameters that are not ids of a tenant's objects: the first three are credentials in
# themselves (A hands its widget key to every page, each survey token to one visitor, each
# unsubscribe token to one address; holding one is the permission), the others a static file's name
# and a message catalog's scope and language. Every id of A is tried there instead.
NOT_OBJECT_IDS = {"widget_key", "survey_token", "unsubscribe_token", "name", "scope", "locale"}
EXAMPLES_PER_OPERATION = 4
ROLE_EXAMPLES_PER_OPERATION = 1
WS_EXAMPLES_PER_ACTION = 3


@dataclass
class TenantA:
    tenant_id: str
    admin_token: str
    ids: dict[str, list[str]]            # path parameter name -> A's ids of that kind
    secrets: set[str]                    # everything of A that B must never read
    principals: dict[str, str] = field(default_factory=dict)  # "agent token: supervisor" -> token
    parties: list[Party] = field(default_factory=list)

    @property
    def every_id(self) -> list[str]:
        return sorted({self.tenant_id, *(i for ids in self.ids.values() for i in ids)})

    def rows(self) -> dict[str, list[str]]:
        """A's items in every table but the rate limits', serialised for comparison."""
        def mine(item: dict[str, Any]) -> bool:
            return any(isinstance(v.get("S"), str)
                       and (v["S"] == self.tenant_id or v["S"].startswith(self.tenant_id + "#"))
                       for v in item.values())
        return {table: sorted(json.dumps(item, sort_keys=True, default=repr) for item in items if mine(item))
                for table, items in without_rate_limits(all_items()).items()}

    def frames(self) -> list[int]:
        return [len(frames_sent(party.connection_id)) for party in self.parties]


def _chat(api: Api, widget_key: str, staff: Party, text: str) -> tuple[Party, str]:
    """A visitor's conversation, assigned to `staff`, with a message from each side."""
    guest = Party(api.call("POST", f"/v1/widget/{widget_key}/sessions",
                           {"name": f"Alpha Guest {text}"}).json_body["visitor_token"])
    guest.send(action="message.send", client_msg_id="g1", text=f"alpha secret question {text}")
    conversation_id = guest.of_type("ack")[0]["conversation_id"]
    guest.send(action="handoff.request", conversation_id=conversation_id)  # past the bot, to the agent
    staff.send(action="message.send", conversation_id=conversation_id, client_msg_id="s1",
               text=f"alpha secret answer {text}")
    return guest, conversation_id


def _attachment(api: Api, token: str, conversation_id: str) -> str:
    """A file in the conversation: uploaded (the object the presigned POST leaves) and checked."""
    import app as app_module
    from chalicelib.runtime import runtime
    from devstack.queues import consumer_named, deliver_once
    from tests.attachment_files import png

    started = api.call("POST", f"/v1/conversations/{conversation_id}/attachments",
                       {"filename": "alpha secret file.png", "content_type": "image/png", "size": len(png())},
                       token=token).json_body
    runtime().client("s3").put_object(Bucket=runtime().config.upload_bucket, Key=started["upload"]["fields"]["key"],
                                      Body=png())
    deliver_once(consumer_named(app_module.app, app_module, "attachment_uploads"), runtime().client("sqs"))
    return str(started["attachment_id"])


@pytest.fixture
def issuer() -> Iterator[OidcIssuer]:
    """Tenant A's OpenID issuer (devstack/oidc_issuer.py on a free port): A signs in with single sign-on."""
    running = OidcIssuer(redirect_uris=[], users=["admin@alphaco.example"]).start()
    yield running
    running.stop()


def build_tenant_a(api: Api, clock, issuer: OidcIssuer) -> TenantA:
    signed = api.signup(name="Alphaco Hidden Shop", email="admin@alphaco.example")
    tid = signed["tenant_id"]
    admin = api.login(tid, "admin@alphaco.example")
    call = lambda method, path, body=None: api.call(method, path, body, token=admin).json_body  # noqa: E731
    agents = {role: api.add_agent(admin, f"{role}@alphaco.example", role=role, name=f"Alpha {role} Person",
                                  teams=["alphateam"]) for role in STAFF_ROLES[1:]}
    keys = {role: call("POST", "/v1/api-keys", {"name": f"alpha {role} key", "role": role}) for role in STAFF_ROLES}
    faq = call("POST", "/v1/faq", {"question": "alpha secret faq question", "answer": "alpha secret faq answer"})
    canned = call("POST", "/v1/canned-responses", {"shortcut": "alphasecret", "text": "alpha secret canned text"})

    staff = Party(api.login(tid, "agent@alphaco.example"))
    staff.send(action="presence.set", status="online")
    closed_guest, closed_id = _chat(api, signed["widget_key"], staff, "one")
    staff.send(action="conversation.close", conversation_id=closed_id, resolution="unresolved")  # a follow-up
    clock.advance(301)  # past survey_delay_seconds
    run_job("send-surveys")
    survey_token = closed_guest.of_type("survey.request")[0]["survey_token"]
    open_guest, open_id = _chat(api, signed["widget_key"], staff, "two")
    visitor_ids = [call("GET", f"/v1/conversations/{cid}")["visitor_id"] for cid in (closed_id, open_id)]
    call("PATCH", f"/v1/visitors/{visitor_ids[1]}", {"tags": ["alphatag"], "notes": "alpha secret note"})
    call("PATCH", f"/v1/conversations/{open_id}", {"labels": ["alphalabel"], "labels_version": 0})
    call("POST", f"/v1/conversations/{open_id}/notes", {"text": "alpha secret conversation note"})
    attachment_id = _attachment(api, admin, open_id)
    export = call("POST", "/v1/audit/exports", {"from": "2020-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"})
    guard = api.add_agent(admin, "guard@alphaco.example", name="Alpha guard Person")  # with two-factor on
    guard_token = api.login(tid, "guard@alphaco.example")
    secret = api.call("POST", "/v1/auth/totp", token=guard_token).json_body["secret"]
    assert api.call("POST", "/v1/auth/totp/confirm", {"code": pyotp.TOTP(secret).at(clock.now())},
                    token=guard_token).status_code == 200
    use_limits(outbound_allow_loopback=True)  # the issuer is on http://127.0.0.1, as on the local stack
    call("PUT", "/v1/sso", {"issuer": issuer.issuer, "client_id": "alpha-secret-client",
                            "client_secret": "alpha secret client secret"})
    access = call("POST", f"/v1/visitors/{visitor_ids[0]}/access-exports")  # a visitor's bundle
    erased_guest, erased_id = _chat(api, signed["widget_key"], staff, "three")
    erased_visitor = call("GET", f"/v1/conversations/{erased_id}")["visitor_id"]
    call("DELETE", f"/v1/visitors/{erased_visitor}")  # with its signed erasure receipt

    ids = {
        "agent_id": [signed["admin"]["agent_id"], *(a["agent_id"] for a in agents.values()), guard["agent_id"]],
        "conversation_id": [closed_id, open_id, erased_id],
        "visitor_id": [*visitor_ids, erased_visitor],
        "faq_id": [faq["faq_id"]],
        "canned_id": [canned["canned_id"]],
        "key_id": [k["key_id"] for k in keys.values()],
        "export_id": [export["export_id"], access["export_id"]],
        "follow_up_id": [f"{closed_id}.unresolved"],
        "attachment_id": [attachment_id],
    }
    tenant = TenantA(tid, admin, ids, set())
    tenant.principals = {
        **{f"agent token: {role}": api.login(tid, f"{role}@alphaco.example") for role in STAFF_ROLES[1:]},
        **{f"API key: {role}": key["api_key"] for role, key in keys.items()},
        "visitor token": api.call("POST", f"/v1/widget/{signed['widget_key']}/sessions", {}).json_body["visitor_token"],
    }
    tenant.principals["agent token: admin"] = admin
    tenant.parties = [staff, closed_guest, open_guest, erased_guest]
    texts = {"Alphaco Hidden Shop", "alpha secret", "alphateam", "alphatag", "alphaco.example", "Alpha Guest",
             "Alpha supervisor Person", "Alpha agent Person", "Alpha compliance Person", "Alpha guard Person"}
    tenant.secrets = {*tenant.every_id, *texts, signed["widget_key"], signed["api_key"], survey_token,
                      "alpha-secret-client", issuer.issuer,
                      *tenant.principals.values()}
    return tenant


def _operations(document: dict[str, Any]) -> list[tuple[schemathesis.APIOperation, RouteSpec]]:
    """Every operation of the served document, with the declaration the server checks input with."""
    schema = schemathesis.openapi.from_dict(document)
    specs = {(spec.method, spec.path): spec for spec in ROUTES}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(len(methods) for methods in document["paths"].values())
    return [(op, specs[(op.method.upper(), op.path)]) for op in operations]


def _valid(model: type[BaseModel] | None, data: Any) -> bool:
    if model is None:
        return True
    try:
        model.model_validate(data)
        return True
    except ValidationError:
        return False


def _leaked(response_text: str, request_text: str, secrets: set[str]) -> list[str]:
    """A's secrets in a response that B's requests did not carry themselves (an echoed id reveals
    nothing, and what B stored is B's even when it names one of A's emails)."""
    return sorted(s for s in secrets if s in response_text and s not in request_text)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any

    @property
    def url(self) -> str:
        return self.path + (f"?{urlencode(self.query)}" if self.query else "")

    @property
    def raw(self) -> str | None:
        return None if self.body is None else json.dumps(self.body)


def _draw_request(op: schemathesis.APIOperation, case: schemathesis.Case, draw: Callable, tenant: TenantA) -> Request:
    """The generated case with A's ids in the path and, by choice of hypothesis, in every id
    or email field of the query and body."""
    def id_for(name: str) -> str:
        if name in tenant.ids:
            return draw(st.sampled_from(tenant.ids[name]))
        assert name in NOT_OBJECT_IDS, f"{op.label}: no object of tenant A for path parameter {name!r}; add one"
        return draw(st.sampled_from(tenant.every_id))

    emails = [f"{role}@alphaco.example" for role in STAFF_ROLES]

    def with_a(values: dict[str, Any]) -> dict[str, Any]:
        out = dict(values)
        for key, value in values.items():
            if key.endswith("_id"):
                out[key] = draw(st.sampled_from([value, *tenant.every_id]))
            elif key.endswith("email"):
                out[key] = draw(st.sampled_from([value, *emails]))
        return out

    path = re.sub(r"{(\w+)}", lambda m: quote(id_for(m.group(1)), safe=""), op.path)
    query = {k: str(v) for k, v in with_a(case.query or {}).items() if v is not None}
    body = case.body if isinstance(case.body, (dict, list, str, int, float, bool)) else None
    if isinstance(body, dict):
        body = with_a(body)
    return Request(op.method.upper(), path, query, body)


@dataclass
class Tally:
    calls: int = 0
    failures: list[str] = field(default_factory=list)

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            self.failures.append(message)


def _walk(operations, examples: int, attempt: Callable[..., None], tenant: TenantA, tally: Tally) -> None:
    """Run `attempt(op, spec, case, draw)` for `examples` generated cases of every operation, then
    check A's rows (once an operation: a scan of every table is the slow part)."""
    before = tenant.rows()
    for op, spec in operations:
        @settings(max_examples=examples)
        @given(case=op.as_strategy(), data=st.data())
        def each(case, data):  # runs within this iteration, so binding op and spec late is safe
            attempt(op, spec, case, data.draw)  # noqa: B023
        each()
        tally.check(tenant.rows() == before, f"{op.label}: tenant A's rows changed")


def test_tenant_b_reads_and_changes_nothing_of_tenant_a_through_any_rest_route(api: Api, clock, issuer):
    tenant = build_tenant_a(api, clock, issuer)
    beta = api.signup(name="Betaco", email="admin@betaco.example")
    credentials = {"B admin token": api.login(beta["tenant_id"], "admin@betaco.example"),
                   "B admin API key": beta["api_key"]}
    operations = _operations(api.call("GET", "/openapi.json").json_body)
    frames_before = tenant.frames()
    tally, looked_up, sent = Tally(), set(), []

    def attempt(op, spec, case, draw):
        request = _draw_request(op, case, draw, tenant)
        sent.append(request.url + (request.raw or ""))  # what B writes is B's, even A's email
        for label, credential in credentials.items():
            if op.path == "/v1/auth/logout" and label == "B admin token":  # it ends the token it is sent
                credential = api.login(beta["tenant_id"], "admin@betaco.example")
            response = api.call(request.method, request.url, raw=request.raw, token=credential)
            tally.calls += 1
            where = f"{op.label} as {label} ({request.url} {request.raw})"
            text = response.body.decode("utf-8", "replace")
            tally.check(response.status_code < 500, f"{where}: {response.status_code} {text[:200]}")
            leaked = _leaked(text, "\n".join(sent), tenant.secrets)
            tally.check(not leaked, f"{where}: A's {leaked} in {text[:300]}")
            if "{" not in op.path:
                continue  # B acts on its own tenant: any answer, as long as nothing of A is in it
            # A's id in the path: a request the route accepts finds nothing; one it refuses is a 400/413.
            valid = _valid(spec.body, request.body) and _valid(spec.query, request.query)
            expected = {404} if valid else {400, 413}
            if valid:
                looked_up.add(op.label)
            tally.check(response.status_code in expected,
                        f"{where}: {response.status_code}, expected {expected}: {text[:200]}")

    _walk(operations, EXAMPLES_PER_OPERATION, attempt, tenant, tally)
    print(f"\nisolation: {len(operations)} operations x {len(credentials)} credentials of B: {tally.calls} calls")
    assert not tally.failures, "\n".join(tally.failures[:30])
    with_ids = {op.label for op, _ in operations if "{" in op.path}
    assert with_ids <= looked_up, f"never reached the lookup with a valid request: {sorted(with_ids - looked_up)}"
    assert tenant.frames() == frames_before


def test_every_role_below_what_a_route_needs_is_refused_and_changes_nothing(api: Api, clock, issuer):
    tenant = build_tenant_a(api, clock, issuer)
    document = api.call("GET", "/openapi.json").json_body
    protected = [(op, spec) for op, spec in _operations(document)
                 if document["paths"][op.path][op.method.lower()].get("security")]
    tally, refused_pairs = Tally(), set()

    def attempt(op, spec, case, draw):
        # x-roles lists who may call; without it any token may (a visitor's too).
        allowed = document["paths"][op.path][op.method.lower()].get("x-roles")
        request = _draw_request(op, case, draw, tenant)
        for label, token in tenant.principals.items():
            role = label.rpartition(": ")[2] if ": " in label else "visitor"
            if allowed is None or role in allowed:
                continue
            refused_pairs.add((op.label, label))
            response = api.call(request.method, request.url, raw=request.raw, token=token)
            tally.calls += 1
            tally.check(response.status_code == 403 and b'"code":"forbidden"' in response.body,
                        f"{op.label} as {label}: {response.status_code} {response.body[:200]!r}")

    _walk(protected, ROLE_EXAMPLES_PER_OPERATION, attempt, tenant, tally)
    print(f"\nroles: {len(protected)} protected operations, {len(refused_pairs)} (operation, principal) "
          f"pairs refused, {tally.calls} calls")
    assert not tally.failures, "\n".join(tally.failures[:30])
    assert refused_pairs, "no route refused anyone"


def _frame_strategy(model: type[BaseModel], tenant: TenantA) -> st.SearchStrategy[dict[str, Any]]:
    """Frames of one action from its JSON schema; every field naming a conversation or an agent
    (by its name's suffix) holds one of A's ids and is always present."""
    schema = model.model_json_schema()

    def refs(name: str) -> list[str] | None:
        return next((ids for kind, ids in tenant.ids.items() if name.endswith(kind)), None)

    def value(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
        if "const" in prop:
            return st.just(prop["const"])
        if "enum" in prop:
            return st.sampled_from(prop["enum"])
        if "anyOf" in prop:
            return st.one_of([value(branch) for branch in prop["anyOf"]])
        kind = prop.get("type")
        if kind == "integer":
            return st.integers(min_value=prop.get("minimum", -(2 ** 31)), max_value=2 ** 31)
        if kind == "string":
            return st.text(min_size=prop.get("minLength", 0), max_size=min(prop.get("maxLength", 40), 40))
        if kind == "array":
            return st.lists(value(prop["items"]), max_size=min(prop.get("maxItems", 3), 3))
        assert kind == "null", f"{model.__name__}: no strategy for {prop}"
        return st.none()

    required, optional = {}, {}
    for name, prop in schema["properties"].items():
        ids = refs(name)
        listed = refs(name.removesuffix("s")) if name.endswith("_ids") else None
        if ids is not None:
            required[name] = st.sampled_from(ids)
        elif listed is not None:  # a list of ids (attachment_ids): some of A's
            required[name] = st.lists(st.sampled_from(listed), min_size=1, max_size=3, unique=True)
        elif name in schema.get("required", []):
            required[name] = value(prop)
        else:
            optional[name] = value(prop)
    return st.fixed_dictionaries(required, optional=optional)


def test_every_websocket_action_of_tenant_b_on_tenant_a_is_an_error_and_changes_nothing(api: Api, clock, issuer):
    from chalicelib.realtime.frames import CLIENT_FRAMES

    tenant = build_tenant_a(api, clock, issuer)
    beta = api.signup(name="Betaco", email="admin@betaco.example")
    beta_admin = api.login(beta["tenant_id"], "admin@betaco.example")
    api.add_agent(beta_admin, "agent@betaco.example")
    parties = {"B admin": Party(beta_admin),
               "B agent": Party(api.login(beta["tenant_id"], "agent@betaco.example")),
               "B visitor": Party(api.call("POST", f"/v1/widget/{beta['widget_key']}/sessions",
                                           {}).json_body["visitor_token"])}
    for label in ("B admin", "B agent"):
        parties[label].send(action="presence.set", status="online")
        parties[label].new_frames()
    before, frames_before = tenant.rows(), tenant.frames()
    tally, tried = Tally(), set()

    for model in CLIENT_FRAMES:
        naming_a = any(name.endswith(tuple(tenant.ids)) for name in model.model_fields)

        @settings(max_examples=WS_EXAMPLES_PER_ACTION)
        @given(frame=_frame_strategy(model, tenant))
        def each(frame):
            for label, party in parties.items():
                tried.add((frame["action"], label))
                party.send(**frame)
                replies = party.new_frames()
                tally.calls += 1
                where = f"{frame} on {label}'s connection: {replies}"
                leaked = _leaked(json.dumps(replies, ensure_ascii=False), json.dumps(frame, ensure_ascii=False),
                                 tenant.secrets)
                tally.check(not leaked, f"{where}: A's {leaked}")
                if naming_a:  # noqa: B023 (each() runs within this iteration)
                    tally.check([f["type"] for f in replies] == ["error"], f"{where}: expected one error frame")
        each()
        tally.check(tenant.rows() == before, f"{model.__name__}: tenant A's rows changed")
        tally.check(tenant.frames() == frames_before, f"{model.__name__}: A's connections got frames")

    print(f"\nwebsocket: {len(CLIENT_FRAMES)} actions x {len(parties)} connections of B "
          f"({len(tried)} pairs), {tally.calls} frames")
    assert not tally.failures, "\n".join(tally.failures[:30])
    assert len(tried) == len(CLIENT_FRAMES) * len(parties)
