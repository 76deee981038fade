"""The whole product on one machine: moto server as AWS, resources from infra/, the REST API
through Chalice's local server, the WebSocket gateway, the scheduled jobs, and a demo tenant."""
from __future__ import annotations

import importlib
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import boto3
import requests

from .aws import AwsProcess
from .http_server import rest_server
from .mailbox import Mailbox, chalice_sns_subscribers
from .oidc_issuer import OidcIssuer
from .provision import provision
from .queues import QueueWorker, chalice_consumers
from .scheduler import Scheduler, chalice_jobs
from .seed import DEMO_PASSWORD, DemoTenant, seed_demo_tenant
from .ws_gateway import WebSocketGateway, chalice_websocket_handlers

Log = Callable[[str], None]


class PortInUse(RuntimeError):
    pass


@dataclass(frozen=True)
class Ports:
    http: int
    ws: int
    ws_management: int
    aws: int
    oidc: int

    @classmethod
    def from_env(cls) -> Ports:
        return cls(http=int(os.environ.get("SWITCHBOARD_HTTP_PORT", 8000)),
                   ws=int(os.environ.get("SWITCHBOARD_WS_PORT", 8001)),
                   ws_management=int(os.environ.get("SWITCHBOARD_WS_MANAGEMENT_PORT", 8002)),
                   aws=int(os.environ.get("SWITCHBOARD_AWS_PORT", 4566)),
                   oidc=int(os.environ.get("SWITCHBOARD_OIDC_PORT", 8003)))


class LocalStack:
    def __init__(self, ports: Ports, host: str = "127.0.0.1", stack: str = "switchboard-dev",
                 seed: bool = True, log: Log = print) -> None:
        self.ports, self.host, self.stack, self.seed, self.log = ports, host, stack, seed, log
        self.base_url = f"http://{host}:{ports.http}"
        self.aws_url = f"http://{host}:{ports.aws}"
        self.demo: DemoTenant | None = None
        self._moto = self._gateway = self._rest = self._scheduler = self._queues = None
        # The demo tenant's single sign-on issuer: a local OpenID provider (devstack/oidc_issuer.py).
        self.issuer = OidcIssuer(host, ports.oidc, redirect_uris=[f"{self.base_url}/v1/auth/sso/callback"])

    def start(self) -> None:
        self._check_ports_free()
        self._moto = AwsProcess(self.host, self.ports.aws)
        self._moto.wait_ready()
        self.log(f"aws      moto server on {self.aws_url} (a process of its own)")
        os.environ.update(self._environment())
        provisioned = provision(stack=self.stack, endpoint_url=self.aws_url, log=self.log)
        os.environ.update(provisioned.env())

        app_module = importlib.import_module("app")  # only now: it reads the environment above
        app = app_module.app
        self._gateway = WebSocketGateway(chalice_websocket_handlers(app), host=self.host,
                                         port=self.ports.ws, management_port=self.ports.ws_management,
                                         log=self.log)
        self._gateway.start()
        self.log(f"ws       gateway on {self._gateway.ws_url} (management API {self._gateway.management_endpoint})")
        self._scheduler = Scheduler(chalice_jobs(app, app_module), log=self.log)
        mailbox = Mailbox(chalice_sns_subscribers(app, app_module), "us-east-1", self.aws_url,
                          provisioned.outputs["InboundMailBucketName"])
        self._rest = rest_server(app, self.host, self.ports.http, self._scheduler, mailbox, self.log)
        threading.Thread(target=self._rest.server.serve_forever, name="rest", daemon=True).start()
        self._wait_healthy()
        self.log(f"http     REST API on {self.base_url} (OpenAPI: {self.base_url}/openapi.json)")
        self.issuer.start()
        self.log(f"oidc     test OpenID issuer on {self.issuer.issuer} (client id {self.issuer.client_id})")
        self._scheduler.start()
        consumers = chalice_consumers(app, app_module)
        self._queues = QueueWorker(consumers, boto3.client("sqs"), log=self.log)
        self._queues.start()
        self.log("queues   " + ", ".join(f"{c.queue} -> {c.name}" for c in consumers))
        self.log("jobs     " + (", ".join(f"{j.name} [{j.expression}]" for j in self._scheduler.jobs.values())
                               or "none registered") + f"; run one now: POST {self.base_url}/dev/jobs/NAME")
        if self.seed:
            self.demo = seed_demo_tenant(self.base_url, self.issuer)

    def _check_ports_free(self) -> None:
        # Check every port before starting anything, so nothing is left half-started.
        for env_name, port in (("SWITCHBOARD_HTTP_PORT", self.ports.http), ("SWITCHBOARD_WS_PORT", self.ports.ws),
                               ("SWITCHBOARD_WS_MANAGEMENT_PORT", self.ports.ws_management),
                               ("SWITCHBOARD_AWS_PORT", self.ports.aws), ("SWITCHBOARD_OIDC_PORT", self.ports.oidc)):
            with socket.socket() as probe:
                # As the servers themselves do: a port a stopped stack left in TIME_WAIT is free.
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind((self.host, port))
                except OSError:
                    raise PortInUse(f"port {port} is in use; stop what holds it or set {env_name}") from None

    def _environment(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "SWITCHBOARD_STACK": self.stack,
            "SWITCHBOARD_WS_URL": f"ws://{self.host}:{self.ports.ws}",
            "SWITCHBOARD_PUBLIC_URL": self.base_url,
            "SWITCHBOARD_SURVEY_EVERY_MINUTES": "1",
            "SWITCHBOARD_WS_MANAGEMENT_ENDPOINT": f"http://{self.host}:{self.ports.ws_management}/dev",
            # The test issuer (and webhooks to a local receiver) are on http://127.0.0.1; never set deployed.
            "SWITCHBOARD_OUTBOUND_ALLOW_LOOPBACK": "1",
        }

    def _wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(self.base_url + "/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.base_url}/health did not answer 200 within {timeout}s")
            time.sleep(0.1)

    def banner(self) -> str:
        lines = ["", "Switchboard is running locally:",
                 f"  Agent console {self.base_url}/app",
                 f"  REST API      {self.base_url}   (health: {self.base_url}/health)",
                 f"  WebSocket     ws://{self.host}:{self.ports.ws}/?token=<agent or visitor token>",
                 f"  AWS (moto)    {self.aws_url}   (aws --endpoint-url {self.aws_url} dynamodb list-tables)",
                 f"  Jobs          GET {self.base_url}/dev/jobs, POST {self.base_url}/dev/jobs/NAME",
                 f"  Emails sent   GET {self.base_url}/dev/outbox (SES bounces, complaints: POST /dev/ses-events)",
                 f"  OpenID issuer {self.issuer.issuer}   (single sign-on for the demo tenant: \"Sign in with "
                 "single sign-on\" in the console)",
                 "  Audit verify  python -m chalicelib.audit.verify EXPORT.jsonl.gz --public-key KEY.pem [--receipts]",
                 "  Access bundle python -m chalicelib.audit.verify_access BUNDLE.zip --public-key KEY.pem",
                 "  Erasure proof python -m chalicelib.transcripts.erasure_proof --receipt RECEIPT.json "
                 f"--public-key KEY.pem --tables-prefix {self.stack} --endpoint-url {self.aws_url}"]
        if self.demo:
            lines += ["", f"Demo tenant {self.demo.tenant_id} (password for every login: {DEMO_PASSWORD})"]
            lines += [f"  {role:<11} {email}" for email, role in self.demo.logins]
            lines += [f"  widget key  {self.demo.widget_key}", f"  API key     {self.demo.api_key}",
                      f"  demo site   {self.base_url}/demo?widget_key={self.demo.widget_key}   "
                      "(the widget on a shop page)"]
        lines += ["", "Ctrl-C stops everything."]
        return "\n".join(lines)

    def stop(self) -> None:
        for part, stop in ((self._queues, "stop"), (self._scheduler, "stop"), (self._rest, "shutdown"),
                           (self.issuer, "stop"), (self._gateway, "stop"), (self._moto, "stop")):
            if part is not None:
                getattr(part, stop)()
