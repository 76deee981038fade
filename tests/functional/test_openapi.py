"""GET /openapi.json describes every REST route, from the same declarations the routes use."""
from __future__ import annotations

from openapi_spec_validator import validate

from app import app
from devstack.harness import Api


def test_openapi_is_valid_and_covers_every_route(client):
    document = Api(client).call("GET", "/openapi.json").json_body
    validate(document)
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    registered = {(path, method) for path, methods in app.routes.items() for method in methods}
    assert documented == registered


def test_openapi_schemas_come_from_the_pydantic_models(client):
    document = Api(client).call("GET", "/openapi.json").json_body
    signup = document["paths"]["/v1/tenants"]["post"]
    schema_ref = signup["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    signup_schema = document["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert set(signup_schema["required"]) == {"name", "admin_email", "admin_password"}
    assert signup_schema["additionalProperties"] is False
    assert signup_schema["properties"]["admin_password"]["minLength"] == 8
    assert {"201", "400", "413", "429"} <= set(signup["responses"])
    agents = document["paths"]["/v1/agents"]["post"]
    assert agents["security"] == [{"bearer": []}] and "admin" in agents["description"]
    assert {"401", "403", "409"} <= set(agents["responses"])
