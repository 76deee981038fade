"""chalicelib/web/routing.py: a route's models are its handler's annotations, read on its first call."""
from __future__ import annotations

import json
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest
from chalice.test import Client

from chalicelib.web import routing

_SCHEMAS = """
from pydantic import BaseModel, ConfigDict
from route_probe import ENTERED, GATE, RUNS

ENTERED.set()
GATE.wait(5)  # a test opens it once other threads want the models too
RUNS.append("schemas")


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    text: str


class NoteOut(BaseModel):
    text: str
    length: int


class NotesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: str = ""
"""

_ROUTES = """
from __future__ import annotations

from typing import Annotated

from chalice import Chalice, Response

from chalicelib.lazy import lazy_modules
from chalicelib.web.routing import PUBLIC, PublicCall, endpoint

s, = lazy_modules(__package__, "schemas")
app = Chalice("route-probe")


@endpoint(app, "POST", "/notes", summary="Add", tag="probe", auth=PUBLIC, status=201)
def add_note(call: PublicCall[s.NoteIn]) -> s.NoteOut:
    return s.NoteOut(text=call.body.text, length=len(call.body.text))


@endpoint(app, "GET", "/notes.txt", summary="As text", tag="probe", auth=PUBLIC, errors=(404,))
def notes_text(call: PublicCall[None, s.NotesQuery]) -> Annotated[Response, s.NoteOut]:
    return Response(body=call.query.q, headers={"Content-Type": "text/plain"})


@endpoint(app, "HEAD", "/notes.txt", summary="Headers", tag="probe", auth=PUBLIC, errors=(404,),
          models_of=notes_text)
def notes_head(call: PublicCall[None]) -> Response:
    return Response(body="")
"""


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """A routes module naming its schemas lazily; the schemas record their run and wait for GATE in it."""
    root = tmp_path / "route_probe"
    root.mkdir()
    (root / "__init__.py").write_text(
        "import threading\nRUNS = []\nENTERED, GATE = threading.Event(), threading.Event()\n")
    (root / "schemas.py").write_text(textwrap.dedent(_SCHEMAS))
    (root / "routes.py").write_text(textwrap.dedent(_ROUTES))
    monkeypatch.syspath_prepend(str(tmp_path))
    registered = len(routing.ROUTES)
    package = __import__("route_probe")
    yield package
    del routing.ROUTES[registered:]  # the app's own document never sees the probe's routes
    for name in [n for n in sys.modules if n == "route_probe" or n.startswith("route_probe.")]:
        del sys.modules[name]


def _probe_routes(probe):
    from route_probe import routes

    return routes, {(spec.method, spec.path): spec for spec in routing.ROUTES if spec.tag == "probe"}


def test_declaring_routes_runs_no_schema_and_the_first_call_validates_with_them(probe):
    probe.GATE.set()
    routes, _ = _probe_routes(probe)
    assert probe.RUNS == []
    as_json = {"Content-Type": "application/json"}
    with Client(routes.app) as client:
        refused = client.http.post("/notes", body=json.dumps({"text": 5}), headers=as_json)
        assert refused.status_code == 400 and json.loads(refused.body)["error"]["code"] == "invalid_input"
        assert probe.RUNS == ["schemas"]
        added = client.http.post("/notes", body=json.dumps({"text": "hi"}), headers=as_json)
        assert (added.status_code, json.loads(added.body)) == (201, {"text": "hi", "length": 2})
        assert client.http.get("/notes.txt?q=hello").body == b"hello"
        assert client.http.get("/notes.txt?nope=1").status_code == 400
    assert probe.RUNS == ["schemas"]


def test_the_models_are_the_annotations(probe):
    probe.GATE.set()
    _, specs = _probe_routes(probe)
    schemas = sys.modules["route_probe.schemas"]
    add, text, head = specs["POST", "/notes"], specs["GET", "/notes.txt"], specs["HEAD", "/notes.txt"]
    assert (add.body, add.query, add.response, add.errors) == (schemas.NoteIn, None, schemas.NoteOut, (400, 413))
    # Annotated[Response, Model]: the handler shapes its answer, the model documents it
    assert (text.body, text.query, text.response) == (None, schemas.NotesQuery, schemas.NoteOut)
    assert text.errors == (400, 404)
    # HEAD takes GET's query and answers no body
    assert (head.body, head.query, head.response, head.errors) == (None, schemas.NotesQuery, None, (400, 404))


def test_threads_wanting_a_routes_models_at_once_resolve_them_once(probe, monkeypatch):
    _, specs = _probe_routes(probe)
    spec = specs["POST", "/notes"]
    resolutions = []
    resolve = routing._declared_models

    def counted(*args, **kwargs):
        resolutions.append(args)
        return resolve(*args, **kwargs)

    monkeypatch.setattr(routing, "_declared_models", counted)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(lambda: spec.models)
        assert probe.ENTERED.wait(5)  # the first resolution is loading the schemas, held at the gate
        others = [pool.submit(lambda: spec.models) for _ in range(7)]
        probe.GATE.set()
        models = [first.result(5)] + [other.result(5) for other in others]
    assert len(resolutions) == 1 and all(found is models[0] for found in models)
    assert models[0].body is sys.modules["route_probe.schemas"].NoteIn
    assert probe.RUNS == ["schemas"]
