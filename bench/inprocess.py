"""The real Chalice handlers on in-process moto, set up exactly as tests/conftest.py does, with every
handler invocation metered (bench/metering.py)."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from devstack.harness import Api

# Fixed before chalicelib is imported: models read table names from the environment at import time.
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "SWITCHBOARD_STACK": "switchboard-bench",
    "SWITCHBOARD_EXPORT_BUCKET": "switchboard-bench-exports-123456789012",
    "SWITCHBOARD_WS_MANAGEMENT_ENDPOINT": "https://bench.execute-api.us-east-1.amazonaws.com/prod",
    "SWITCHBOARD_WS_URL": "wss://bench.execute-api.us-east-1.amazonaws.com/prod",
    "SWITCHBOARD_PUBLIC_URL": "https://bench.execute-api.us-east-1.amazonaws.com/api",
    # The bench signs up and logs in many accounts from one address; the limits are not what it measures.
    "SWITCHBOARD_SIGNUP_LIMIT_PER_HOUR": "1000000",
    "SWITCHBOARD_LOGIN_LIMIT_PER_MINUTE": "1000000",
    # The scaling section holds N visitor conversations open in one tenant, past the tenant's ceiling (500).
    "SWITCHBOARD_TENANT_OPEN_VISITOR_CONVERSATIONS": "1000000",
    "SWITCHBOARD_LOG_LEVEL": "WARNING",
}
# The WebSocket and scheduled handlers of app.py, and whether each invocation is a WebSocket message in.
HANDLERS = {"websocket_connect": False, "websocket_message": True, "websocket_disconnect": False,
            "reroute_stale": False, "send_surveys": False, "retention": False, "audit_verify": False,
            "reconcile_capacity": False, "audit_login_failures": False}


def prepare_environment() -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    for name, value in ENVIRONMENT.items():
        os.environ.setdefault(name, value)


@contextmanager
def cheap_passwords() -> Iterator[None]:
    """Accounts set up for a measurement hash their passwords with scrypt at n=2**10 instead of
    2**17: hashing is not what the bench measures, and it would dominate setting up 1,000 agents."""
    from dataclasses import replace

    from chalicelib.runtime import runtime

    kept = runtime().config
    runtime().config = replace(kept, scrypt_n=2**10)
    try:
        yield
    finally:
        runtime().config = kept


def metered_api(client: Any, meter: Any) -> Any:
    """devstack.harness.Api whose every request is one metered Lambda invocation."""

    class MeteredApi(Api):
        def call(self, *args: Any, **kwargs: Any) -> Any:
            return meter.invoke(super().call, *args, rest=True, **kwargs)

    return MeteredApi(client)


@contextmanager
def chalice_on_moto(clock: Any, meter: Any) -> Iterator[Any]:
    """A fresh AWS with the template's resources and a fresh Lambda container; yields a metered
    devstack.harness.Api. app.py's WebSocket and scheduled handlers are metered too (the harness's
    Party, run_job and disconnect call them through the module)."""
    import boto3
    from chalice.test import Client
    from moto import mock_aws

    import app as app_module
    from chalicelib.config import get_config
    from chalicelib.runtime import Runtime, use_runtime
    from devstack.aws import moto_fixes
    from devstack.provision import provision

    session = boto3.session.Session()
    originals = {name: getattr(app_module, name) for name in HANDLERS}
    with mock_aws(), moto_fixes(), meter.installed():
        provision(session, stack=get_config().stack)
        use_runtime(Runtime(clock=clock, session=session))
        for name, ws_frame in HANDLERS.items():
            setattr(app_module, name, _metered(meter, originals[name], ws_frame))
        try:
            with Client(app_module.app) as client:
                yield metered_api(client, meter)
        finally:
            for name, handler in originals.items():
                setattr(app_module, name, handler)
            use_runtime(None)


def _metered(meter: Any, handler: Any, ws_frame: bool) -> Any:
    def invoke(event: Any, context: Any) -> Any:
        return meter.invoke(handler, event, context, ws_frame=ws_frame)

    return invoke
