"""Every REST route, found from the route registry, refuses bad input and bad credentials with the
contract's error and writes nothing. New routes are swept automatically.

The sweep's cases share one tenant: each checks that its request changed no table, so what one case
leaves is what the next starts from. Between cases the clock moves past every per-minute window and the
admin signs in afresh, so no case meets a limit an earlier one filled."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

import app  # noqa: F401  (importing the app registers every route)
from chalicelib.web.routing import PUBLIC, ROUTES
from devstack.harness import Api
from tests.helpers import FrozenClock, all_items, module_tenant, without_rate_limits

BODY_ROUTES = [spec for spec in ROUTES if spec.body is not None]
PROTECTED_ROUTES = [spec for spec in ROUTES if spec.auth != PUBLIC]
BAD_BODIES = {
    "malformed": ("{\"oops", 400),
    "array": ("[1, 2, 3]", 400),
    "string": ("\"text\"", 400),
    "null": ("null", 400),
    "unknown field": (json.dumps({"definitely_not_a_field": 1}), 400),
    "wrong types": (None, 400),  # every field of the model given a list
    "oversized": (json.dumps({"pad": "x" * 70_000}), 413),
    "nested too deeply": ("[" * 30_000 + "]" * 30_000, 400),  # within the size limit
}


@pytest.fixture(scope="module")
def swept(boto_session) -> Iterator[tuple[Api, dict[str, Any], FrozenClock]]:
    with module_tenant(boto_session) as shared:
        yield shared


@pytest.fixture
def api(swept) -> Api:
    return swept[0]


@pytest.fixture
def tenant(swept) -> dict[str, Any]:
    api, tenant, clock = swept
    clock.advance(61)
    tenant["admin_token"] = api.login(tenant["tenant_id"], "admin@acme.com")
    return tenant


def _path(spec, tenant: dict) -> str:
    # Path ids: the tenant's widget key where one is needed, else an id nobody issued.
    values = {"widget_key": tenant["widget_key"]}
    return re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), "x_missing"), spec.path)


def _wrong_types(spec) -> str:
    return json.dumps({name: [["not", "this"]] for name in spec.body.model_fields})


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
@pytest.mark.parametrize("spec", BODY_ROUTES, ids=lambda s: f"{s.method} {s.path}")
def test_bad_bodies_are_refused_and_write_nothing(api: Api, tenant: dict, spec, case: str):
    raw, status = BAD_BODIES[case]
    raw = raw if raw is not None else _wrong_types(spec)
    token = tenant["admin_token"] if spec.auth != PUBLIC else None
    before = without_rate_limits(all_items())
    response = api.call(spec.method, _path(spec, tenant), raw=raw, token=token)
    assert response.status_code == status, (case, response.body)
    error = response.json_body["error"]
    assert set(response.json_body) == {"error"} and error["code"] and error["message"]
    assert "Traceback" not in response.body.decode()
    assert without_rate_limits(all_items()) == before


BAD_CREDENTIALS = [None, "Bearer", "Bearer garbage", "Basic YWJjOmRlZg==", "Bearer sbk.t_x.key_x.secret"]


@pytest.mark.parametrize("spec", PROTECTED_ROUTES, ids=lambda s: f"{s.method} {s.path}")
def test_missing_or_bad_credentials_are_401_and_write_nothing(api: Api, tenant: dict, spec):
    # Every bad credential on the route, then one look at the tables: none of them may have written
    # (reading every table around each request was most of this sweep's time).
    body = json.dumps({}) if spec.body is not None else None
    before = without_rate_limits(all_items())
    for authorization in BAD_CREDENTIALS:
        headers = {"Authorization": authorization} if authorization else {}
        response = api.call(spec.method, _path(spec, tenant), raw=body, headers=headers)
        assert response.status_code == 401, (authorization, response.body)
        assert response.json_body["error"]["code"] == "unauthorized", authorization
    assert without_rate_limits(all_items()) == before
