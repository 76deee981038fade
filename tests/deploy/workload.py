"""The least-privilege test's workload: every entry point driven once on in-process moto with real effects
(every REST route, every WebSocket route and action, the jobs, the export queue, SES's feedback topic),
so that each AWS call is recorded with the function that made it (tests/deploy/test_least_privilege.py)."""
from __future__ import annotations

import hashlib
import hmac
import json
from email import message_from_string
from typing import Any
from unittest.mock import patch
from urllib.parse import quote

import boto3
import pyotp
from requests import get as browser_get  # the browser's hop through the issuer's page

import app as app_module
from chalicelib.config import get_config
from chalicelib.events import EVENT_TYPES
from chalicelib.visitors import erasure_receipt
from devstack.harness import PASSWORD, Api, Party, agent, run_job, run_sweep, visitor, ws_event
from devstack.moto_sqs_clock import sqs_on_clock
from devstack.oidc_issuer import CLIENT_ID, CLIENT_SECRET, OidcIssuer
from devstack.queues import consumer_named, deliver_once
from tests.attachment_files import png
from tests.deploy.iam import ACCOUNT, REGION
from tests.helpers import sns_event
from tests.webhook_receiver import receiver

STACK = "switchboard-test"


def with_screenshot(raw: bytes) -> bytes:
    from email import message_from_bytes
    from email.policy import default

    from tests.attachment_files import png

    mail = message_from_bytes(raw, policy=default)
    mail.add_attachment(png(), maintype="image", subtype="png", filename="screen.png")
    return mail.as_bytes()


class Workload:
    """Drives every entry point once with real effects, and keeps what it reached."""

    def __init__(self, api: Api, tenant: dict, clock: Any) -> None:
        self.api, self.tenant, self.clock = api, tenant, clock
        self.admin = tenant["admin_token"]
        self.routes: set[tuple[str, str]] = set()

    def call(self, method: str, route: str, body: Any = None, token: str | None = None, query: str = "",
             status: int | None = None, headers: dict[str, str] | None = None, **params: str) -> Any:
        path = route.format(**{name: quote(value, safe="") for name, value in params.items()})
        response = self.api.call(method, path + query, body, token=token, headers=headers)
        assert response.status_code == status if status else response.status_code < 300, (route, response.body)
        self.routes.add((method, route))
        content_type = {name.lower(): value for name, value in response.headers.items()}.get("content-type", "")
        return response.json_body if content_type.startswith("application/json") else response.body

    def run(self) -> None:
        admin, tenant = self.admin, self.tenant
        for method in ("GET", "HEAD"):  # every public GET has its HEAD route
            for route in ("/health", "/openapi.json", "/app", "/widget.js", "/survey.js"):
                self.call(method, route)
            self.call(method, "/demo", query=f"?widget_key={tenant['widget_key']}")
            self.call(method, "/assets/{name}", name="console.js")
            self.call(method, "/i18n/{scope}/{locale}", scope="console", locale="zh-CN")
        right = {"tenant_id": tenant["tenant_id"], "email": "admin@acme.com", "password": PASSWORD}
        self.call("POST", "/v1/auth/login", right)
        # A wrong password, an unknown account, then the right password (which clears this source's failures).
        self.call("POST", "/v1/auth/login", {**right, "password": "not the password"}, status=401)
        self.call("POST", "/v1/auth/login", {**right, "email": "nobody@acme.com"}, status=401)
        self.call("POST", "/v1/auth/login", right)
        self.call("POST", "/v1/auth/refresh", token=admin)
        self.single_sign_on()
        self.call("GET", "/v1/me", token=admin)
        self.call("PATCH", "/v1/me", {"locale": "zh-CN"}, token=admin)
        self.call("GET", "/v1/settings", token=admin)
        self.call("PUT", "/v1/settings", {"survey_delay_seconds": 0, "first_response_timeout_seconds": 30,
                                          "allowed_origins": ["https://shop.example"]}, token=admin)
        self.other_tenant = self.call("POST", "/v1/tenants", {"name": "Other", "admin_email": "admin@other.com",
                                                              "admin_password": PASSWORD})["tenant_id"]
        self.knowledge()
        self.webhooks_added()
        self.two_factor()
        lee = self.call("POST", "/v1/agents", {"email": "lee@acme.com", "name": "Lee", "password": PASSWORD,
                                               "role": "supervisor"}, token=admin)
        self.call("GET", "/v1/agents", token=admin)
        self.call("PATCH", "/v1/agents/{agent_id}", {"password": "another good secret", "tier": 2}, token=admin,
                  agent_id=lee["agent_id"])
        key = self.call("POST", "/v1/api-keys", {"name": "ci", "role": "agent"}, token=admin)
        self.call("GET", "/v1/api-keys", token=admin)
        self.call("GET", "/v1/me", token=key["api_key"])
        self.call("DELETE", "/v1/api-keys/{key_id}", token=admin, key_id=key["key_id"])
        self.call("GET", "/v1/keys", token=admin)
        self.call("POST", "/v1/keys/rotate", token=admin)
        conversation_id, visitor_id = self.chat()
        self.reports_and_surveys(conversation_id)
        self.call("GET", "/v1/visitors/{visitor_id}", token=admin, visitor_id=visitor_id)
        self.call("PATCH", "/v1/visitors/{visitor_id}", {"tags": ["vip"]}, token=admin, visitor_id=visitor_id)
        self.audit()
        self.access_export(visitor_id)
        # Vera has two conversations; with room for one a part, her receipt has two parts, and its GET
        # reads the second from the trail (the subject-index, then the event).
        with patch.object(erasure_receipt, "PART_BYTES", erasure_receipt.SIGNED_OVERHEAD + 1):
            self.call("DELETE", "/v1/visitors/{visitor_id}", token=admin, visitor_id=visitor_id)
        receipt = self.call("GET", "/v1/visitors/{visitor_id}/erasure-receipt", token=admin, visitor_id=visitor_id)
        assert len(receipt["further_parts"]) == 1
        self.verified_visitor_erased_mid_chat()
        self.call("DELETE", "/v1/agents/{agent_id}", token=admin, agent_id=lee["agent_id"])
        self.webhook_deliveries()
        self.jobs()
        self.email_channel()  # after reroute-stale set the chat's agents, gone, offline: the email is Pat's
        self.power_taken_away()

    def webhooks_added(self) -> None:
        """A webhook for every event from here on (a receiver on 127.0.0.1 that fails once), another deleted."""
        self.receiver_context = receiver()
        self.receiver = self.receiver_context.__enter__()
        self.receiver.script = [500]
        self.webhook = self.call("POST", "/v1/webhooks", {"url": self.receiver.url, "events": list(EVENT_TYPES)},
                                 token=self.admin)
        gone = self.call("POST", "/v1/webhooks", {"url": "https://crm.example.com/", "events": ["message.created"]},
                         token=self.admin)
        self.call("GET", "/v1/webhooks", token=self.admin)
        self.call("POST", "/v1/webhooks/{webhook_id}/test", token=self.admin, webhook_id=self.webhook["webhook_id"])
        self.call("DELETE", "/v1/webhooks/{webhook_id}", token=self.admin, webhook_id=gone["webhook_id"])

    def webhook_deliveries(self) -> None:
        """The events queued so far delivered; the one that failed retried once it is due."""
        consumer = consumer_named(app_module.app, app_module, "webhook_events")
        with sqs_on_clock(self.clock):
            assert deliver_once(consumer, boto3.client("sqs")) > 0
            self.clock.advance(30)
            assert deliver_once(consumer, boto3.client("sqs")) == 1
        self.receiver_context.__exit__(None, None, None)
        items = self.call("GET", "/v1/webhooks/{webhook_id}/deliveries", token=self.admin,
                          webhook_id=self.webhook["webhook_id"])["items"]
        assert {item["status"] for item in items} == {"succeeded"}

    def knowledge(self) -> None:
        faq = self.call("POST", "/v1/faq", {"question": "What is your return policy?",
                                            "answer": "Within 30 days.", "keywords": ["refund"]}, token=self.admin)
        self.call("GET", "/v1/faq", token=self.admin)
        self.call("GET", "/v1/faq/match", token=self.admin, query="?q=refund")
        self.call("PUT", "/v1/faq/{faq_id}", {"question": "What is your return policy?", "answer": "30 days.",
                                              "keywords": ["refund"]}, token=self.admin, faq_id=faq["faq_id"])
        self.call("DELETE", "/v1/faq/{faq_id}", token=self.admin, faq_id=faq["faq_id"])
        self.call("POST", "/v1/faq", {"question": "How long does shipping take?", "answer": "Two days.",
                                      "keywords": ["shipping"]}, token=self.admin)
        canned = self.call("POST", "/v1/canned-responses", {"shortcut": "bye", "text": "Goodbye."}, token=self.admin)
        self.call("GET", "/v1/canned-responses", token=self.admin)
        self.call("PUT", "/v1/canned-responses/{canned_id}", {"shortcut": "bye", "text": "Bye!"}, token=self.admin,
                  canned_id=canned["canned_id"])
        self.call("DELETE", "/v1/canned-responses/{canned_id}", token=self.admin, canned_id=canned["canned_id"])

    def two_factor(self) -> None:
        """An agent enrols under the tenant's mandate (the enrolment-only session becomes a full one), signs
        in with a code (remembering the device), with the device and with a recovery code, turns it off; then
        enrols again and an admin lists and resets it."""
        self.call("PUT", "/v1/settings", {"totp_required": True}, token=self.admin)
        tia_id = self.api.add_agent(self.admin, "tia@acme.com")["agent_id"]
        tia = {"tenant_id": self.tenant["tenant_id"], "email": "tia@acme.com", "password": PASSWORD}
        token = self.call("POST", "/v1/auth/login", tia)["token"]
        self.call("GET", "/v1/auth/totp", token=token)
        secret = self.call("POST", "/v1/auth/totp", token=token)["secret"]
        codes = self.call("POST", "/v1/auth/totp/confirm", {"code": pyotp.TOTP(secret).at(self.clock.now())},
                          token=token)["recovery_codes"]
        self.call("PUT", "/v1/settings", {"totp_required": False}, token=self.admin)
        ahead = pyotp.TOTP(secret).at(self.clock.now() + 30)  # the next step: the confirming one is used
        device = self.call("POST", "/v1/auth/login", {**tia, "totp_code": ahead, "remember_device": True})
        self.call("POST", "/v1/auth/login", {**tia, "device_token": device["device_token"]})
        token = self.call("POST", "/v1/auth/login", {**tia, "recovery_code": codes[0]})["token"]
        self.clock.advance(30)  # a step past the last code used
        codes = self.call("POST", "/v1/auth/totp/recovery-codes",
                          {"totp_code": pyotp.TOTP(secret).at(self.clock.now() + 30)}, token=token)["recovery_codes"]
        self.call("DELETE", "/v1/auth/totp", {"recovery_code": codes[1]}, token=token)
        secret = self.call("POST", "/v1/auth/totp", token=token)["secret"]
        self.call("POST", "/v1/auth/totp/confirm", {"code": pyotp.TOTP(secret).at(self.clock.now())}, token=token)
        self.call("GET", "/v1/two-factor/enrolments", token=self.admin)
        self.call("DELETE", "/v1/agents/{agent_id}/totp", token=self.admin, agent_id=tia_id)

    def chat(self) -> tuple[str, str]:
        sam_id = self.api.add_agent(self.admin, "sam@acme.com", teams=["billing"])["agent_id"]
        sam = Party(self.api.login(self.tenant["tenant_id"], "sam@acme.com"))
        kim = agent(self.api, self.tenant, "kim@acme.com", teams=["billing"])
        for person in (sam, kim):
            person.send(action="presence.set", status="online")
        for method in ("GET", "HEAD"):  # what the widget reads before the session
            self.call(method, "/v1/widget/{widget_key}/config", widget_key=self.tenant["widget_key"])
        self.call("GET", "/v1/widget-embed", token=self.admin)
        session = self.call("POST", "/v1/widget/{widget_key}/sessions", {"name": "Vera", "email": "vera@example.org"},
                            widget_key=self.tenant["widget_key"])
        vera = Party(session["visitor_token"], headers={"Origin": "https://shop.example"})
        vera.send(action="message.send", client_msg_id="v1", text="Hello, I need a person")
        vera.send(action="message.send", client_msg_id="v1", text="Hello, I need a person")  # a resend
        conversation_id = vera.of_type("ack")[0]["conversation_id"]
        vera.send(action="handoff.request", conversation_id=conversation_id)
        vera.send(action="typing", conversation_id=conversation_id, state="on")
        vera.send(action="ping")
        for person in (sam, kim):
            person.send(action="message.send", conversation_id=conversation_id, client_msg_id="a1", text="Hi!")
            person.send(action="read", conversation_id=conversation_id, seq=1)
            person.send(action="messages.sync", conversation_id=conversation_id, after_seq=0)
        self.call("GET", "/v1/queue", token=self.admin)
        self.call("GET", "/v1/conversations", token=self.admin)
        self.call("GET", "/v1/conversations", token=self.admin, query=f"?agent_id={sam_id}")
        for route in ("/v1/conversations/{conversation_id}", "/v1/conversations/{conversation_id}/messages",
                      "/v1/conversations/{conversation_id}/transcript", "/v1/conversations/{conversation_id}/routing"):
            self.call("GET", route, token=self.admin, conversation_id=conversation_id)
        self.workspace(conversation_id)
        self.attachments(conversation_id, session["visitor_token"], vera)
        holder, other = (sam, kim) if sam.of_type("conversation.assigned") else (kim, sam)
        holder.send(action="conversation.transfer", conversation_id=conversation_id, to_team="billing")
        other.send(action="conversation.escalate", conversation_id=conversation_id)
        vera.send(action="conversation.close", conversation_id=conversation_id, resolution="unresolved")
        vera.send(action="message.send", client_msg_id="v2", text="One more thing")  # a new conversation
        self.survey(vera)
        visitor_id = self.call("GET", "/v1/conversations/{conversation_id}", token=self.admin,
                               conversation_id=conversation_id)["visitor_id"]
        # A second chat nobody answers: re-routed, then its visitor leaves and is surveyed by email.
        late = visitor(self.api, self.tenant, email="walt@example.org")
        late.send(action="message.send", client_msg_id="w1", text="anyone?")
        late_id = late.of_type("ack")[0]["conversation_id"]
        late.send(action="handoff.request", conversation_id=late_id)
        self.clock.advance(60)
        run_job("reroute-stale")
        late.send(action="conversation.close", conversation_id=late_id)
        for person in (sam, kim, late):
            app_module.websocket_disconnect(ws_event("$disconnect", person.connection_id), None)
        # Drift from outside our paths (a hand edit): reconcile-capacity repairs it.
        boto3.client("dynamodb").update_item(
            TableName=f"{STACK}-agents", Key={"tenant_id": {"S": self.tenant["tenant_id"]},
                                               "agent_id": {"S": sam_id}},
            UpdateExpression="SET #load = :two", ExpressionAttributeNames={"#load": "load"},
            ExpressionAttributeValues={":two": {"N": "2"}})
        return conversation_id, visitor_id

    def attachments(self, conversation_id: str, visitor_token: str, vera: Party) -> None:
        """A file: the upload started, posted to the quarantine bucket, checked by the upload queue's
        consumer (S3's event), read back, sent with a message and downloaded."""
        route = "/v1/conversations/{conversation_id}/attachments"
        started = self.call("POST", route, {"filename": "shot.png", "content_type": "image/png", "size": len(png())},
                            token=visitor_token, conversation_id=conversation_id)
        self.browser_upload(started["upload"], png())
        consumer = consumer_named(app_module.app, app_module, "attachment_uploads")
        deliver_once(consumer, boto3.client("sqs"))  # S3's test event, then the upload's
        assert boto3.client("s3").list_objects_v2(Bucket=get_config().upload_bucket)["KeyCount"] == 0  # checked
        attachment_id = started["attachment_id"]
        assert self.call("GET", "/v1/attachments/{attachment_id}/status", token=visitor_token,
                         attachment_id=attachment_id)["status"] == "ready"
        vera.send(action="message.send", conversation_id=conversation_id, client_msg_id="f1", text="",
                  attachment_ids=[attachment_id])
        assert self.call("GET", "/v1/attachments/{attachment_id}", token=self.admin,
                         headers={"Accept": "application/octet-stream"}, attachment_id=attachment_id) == png()
        # An upload the queue has not checked yet: the status read checks it.
        pending = self.call("POST", route, {"filename": "notes.txt", "content_type": "text/plain", "size": 5},
                            token=visitor_token, conversation_id=conversation_id)
        self.browser_upload(pending["upload"], b"notes")
        assert self.call("GET", "/v1/attachments/{attachment_id}/status", token=self.admin,
                         attachment_id=pending["attachment_id"])["status"] == "ready"

    @staticmethod
    def browser_upload(upload: dict, data: bytes) -> None:
        """The browser's presigned POST, as the object it leaves (no function's role is involved)."""
        boto3.client("s3").put_object(Bucket=get_config().upload_bucket, Key=upload["fields"]["key"], Body=data)

    def workspace(self, conversation_id: str) -> None:
        """Labels, a private note, the filtered list and both searches."""
        self.call("PATCH", "/v1/conversations/{conversation_id}", {"labels": ["退货"], "labels_version": 0},
                  token=self.admin, conversation_id=conversation_id)
        self.call("POST", "/v1/conversations/{conversation_id}/notes", {"text": "called back"}, token=self.admin,
                  conversation_id=conversation_id)
        self.call("GET", "/v1/conversations/{conversation_id}/notes", token=self.admin, conversation_id=conversation_id)
        self.call("GET", "/v1/conversations", token=self.admin, query="?status=assigned&tag=vip&channel=web")
        self.call("GET", "/v1/conversations/search", token=self.admin, query="?q=vera")
        self.call("GET", "/v1/conversations/search", token=self.admin, query="?q=person&text=true")

    def verified_visitor_erased_mid_chat(self) -> None:
        """Identity verification and both rotations; a verified visitor erased while they and their
        agent are connected (the API function posts conversation.closed to the agent)."""
        secret = self.call("POST", "/v1/identity-secret", token=self.admin)["identity_secret"]
        user_hash = hmac.new(secret.encode(), b"user-42", hashlib.sha256).hexdigest()
        ed = agent(self.api, self.tenant, "ed@acme.com", teams=["erasure"])
        ed.send(action="presence.set", status="online")
        session = self.call("POST", "/v1/widget/{widget_key}/sessions",
                            {"user_id": "user-42", "user_hash": user_hash, "team": "erasure"},
                            widget_key=self.tenant["widget_key"])
        eve = Party(session["visitor_token"], headers={"Origin": "https://shop.example"})
        eve.send(action="message.send", client_msg_id="e1", text="Please forget me")
        assert ed.of_type("conversation.assigned")
        self.call("DELETE", "/v1/visitors/{visitor_id}", token=self.admin, visitor_id=session["visitor_id"])
        assert ed.of_type("conversation.closed")
        ed.send(action="presence.set", status="offline")
        app_module.websocket_disconnect(ws_event("$disconnect", ed.connection_id), None)
        self.tenant["widget_key"] = self.call("POST", "/v1/widget-key", token=self.admin)["widget_key"]

    def single_sign_on(self) -> None:
        """Register the test issuer, sign in through it (start, callback, redeem, HEAD included), remove it."""
        issuer = OidcIssuer(redirect_uris=[get_config().public_url + "/v1/auth/sso/callback"]).start()
        try:
            self.call("PUT", "/v1/sso", {"issuer": issuer.issuer, "client_id": CLIENT_ID,
                                         "client_secret": CLIENT_SECRET}, token=self.admin)
            self.call("GET", "/v1/sso", token=self.admin)
            start = f"?tenant_id={self.tenant['tenant_id']}"
            self.call("HEAD", "/v1/auth/sso/start", query=start, status=302)
            self.call("HEAD", "/v1/auth/sso/callback", query="?error=access_denied", status=302)
            response = self.api.call("GET", "/v1/auth/sso/start" + start)
            back = browser_get(response.headers["Location"] + "&user=admin@acme.com", allow_redirects=False,
                               timeout=10).headers["Location"]
            self.routes.add(("GET", "/v1/auth/sso/start"))
            cookie = response.headers["Set-Cookie"].split(";", 1)[0]  # binds the sign-in to this "browser"
            response = self.api.call("GET", back.removeprefix(get_config().public_url), headers={"Cookie": cookie})
            self.routes.add(("GET", "/v1/auth/sso/callback"))
            code = response.headers["Location"].split("#sso=", 1)[1]
            self.call("POST", "/v1/auth/sso/redeem", {"code": code})
            self.call("DELETE", "/v1/sso", token=self.admin, status=204)
        finally:
            issuer.stop()

    def power_taken_away(self) -> None:
        """A supervisor demoted with a chat in hand: their socket closes and the chat goes on to another
        agent at once. Then that agent logs out."""
        admin = self.api.login(self.tenant["tenant_id"], "admin@acme.com")  # jobs() outlived the first token
        max_id = self.api.add_agent(admin, "max@acme.com", role="supervisor")["agent_id"]
        max_ = Party(self.api.login(self.tenant["tenant_id"], "max@acme.com"))
        max_.send(action="presence.set", status="online")
        vera = visitor(self.api, self.tenant)
        vera.send(action="message.send", client_msg_id="v1", text="I need a person")
        vera.send(action="handoff.request", conversation_id=vera.of_type("ack")[0]["conversation_id"])
        assert max_.of_type("conversation.assigned")
        self.api.add_agent(admin, "ned@acme.com")
        ned_token = self.api.login(self.tenant["tenant_id"], "ned@acme.com")
        ned = Party(ned_token)
        ned.send(action="presence.set", status="online")
        self.call("PATCH", "/v1/agents/{agent_id}", {"role": "agent"}, token=admin, agent_id=max_id)
        assert ned.of_type("conversation.assigned")
        self.call("POST", "/v1/auth/logout", token=ned_token, status=204)

    def survey(self, vera: Party) -> None:
        run_sweep("send-surveys")
        token = vera.of_type("survey.request")[0]["survey_token"]
        self.call("GET", "/survey/{survey_token}", survey_token=token)
        self.call("HEAD", "/survey/{survey_token}", survey_token=token)
        self.call("POST", "/v1/surveys/{survey_token}", {"rating": 1, "comment": "slow"}, survey_token=token)

    def reports_and_surveys(self, conversation_id: str) -> None:
        self.call("GET", "/v1/conversations/{conversation_id}/survey", token=self.admin,
                  conversation_id=conversation_id)
        follow_ups = self.call("GET", "/v1/follow-ups", token=self.admin)["items"]
        self.call("POST", "/v1/follow-ups/{follow_up_id}/close", {"note": "called back"}, token=self.admin,
                  follow_up_id=follow_ups[0]["follow_up_id"])
        self.call("GET", "/v1/reports/summary", token=self.admin)
        self.call("GET", "/v1/reports/summary.csv", token=self.admin)
        self.call("GET", "/v1/reports/conversations.csv", token=self.admin)

    def audit(self) -> None:
        for route in ("/v1/audit/events", "/v1/audit/public-keys", "/v1/audit/alarms", "/v1/audit/digests"):
            self.call("GET", route, token=self.admin)
        self.call("GET", "/v1/audit/events", token=self.admin, query="?action=auth.&target=x")
        # An edited event on another tenant's chain: audit-verify raises its alarm.
        boto3.client("dynamodb").update_item(
            TableName=f"{STACK}-audit-events", Key={"tenant_id": {"S": self.other_tenant}, "seq": {"N": "1"}},
            UpdateExpression="SET details = :d", ExpressionAttributeValues={":d": {"S": "{}"}})
        run_job("audit-verify")
        accepted = self.call("POST", "/v1/audit/exports", {"from": "2000-01-01T00:00:00Z",
                                                           "to": "2100-01-01T00:00:00Z"}, token=self.admin)
        consumer = consumer_named(app_module.app, app_module, "audit_export")
        assert deliver_once(consumer, boto3.client("sqs")) == 2  # one chunk of events, then completing the file
        ready = self.call("GET", "/v1/audit/exports/{export_id}", token=self.admin, export_id=accepted["export_id"])
        assert ready["status"] == "ready"

    def access_export(self, visitor_id: str) -> None:
        """The right of access: the bundle built by the export consumer, downloaded through our route."""
        accepted = self.call("POST", "/v1/visitors/{visitor_id}/access-exports", token=self.admin,
                             visitor_id=visitor_id)
        consumer = consumer_named(app_module.app, app_module, "audit_export")
        assert deliver_once(consumer, boto3.client("sqs")) == 1
        route = "/v1/visitors/{visitor_id}/access-exports/{export_id}"
        assert self.call("GET", route, token=self.admin, visitor_id=visitor_id,
                         export_id=accepted["export_id"])["status"] == "ready"
        self.call("GET", route + "/bundle", token=self.admin, headers={"Accept": "application/zip"},
                  visitor_id=visitor_id, export_id=accepted["export_id"])

    def jobs(self) -> None:
        self.call("PUT", "/v1/settings", {"retention_days": 1}, token=self.admin)
        self.clock.advance(3 * 86400)
        run_job("reroute-stale")  # the agents did not come back: their chats go back to the queue
        assert run_job("audit-login-failures") == {"windows": 2, "failures": 2}
        assert run_sweep("send-surveys")["email"] == 1
        self.mail()
        late = visitor(self.api, self.tenant)  # nobody is online now: this one waits past the SLA
        late.send(action="message.send", client_msg_id="v1", text="anyone?")
        self.clock.advance(61)
        assert run_job("sla-alerts")["alerted"] == 1
        assert run_sweep("retention")["shredded"] == 1
        assert run_job("reconcile-capacity")["loads_repaired"] == 1


    def email_channel(self) -> None:
        """An email in (SES stores it in the inbound bucket, which notifies the inbound queue), answered
        by an agent (the replies queue sends it), the visitor's reply to the reply address; then the
        conversation shredded by retention and the visitor erased, each deleting threading records."""
        from moto.ses.models import ses_backends

        from chalicelib.email_channel.addresses import inbound_address
        from chalicelib.email_channel.inbound import email_visitor_id
        from tests.email_mail import email

        ses = ses_backends[ACCOUNT][REGION]
        already = len(ses.sent_messages)
        admin = self.api.login(self.tenant["tenant_id"], "admin@acme.com")  # jobs() outlived the first token
        self.api.add_agent(admin, "pat@acme.com")
        pat = Party(self.api.login(self.tenant["tenant_id"], "pat@acme.com"))
        pat.send(action="presence.set", status="online")
        s3, sqs = boto3.client("s3"), boto3.client("sqs")
        bucket = f"{STACK}-inbound-mail-{ACCOUNT}"
        s3.put_object(Bucket=bucket, Key="m1", Body=with_screenshot(email(
            inbound_address(self.tenant["tenant_id"]), "Hello by mail", sender="erin@example.org")))
        # At least one: S3 also tells the queue it was configured (an s3:TestEvent, which has no records).
        assert deliver_once(consumer_named(app_module.app, app_module, "inbound_email"), sqs) >= 1
        frames = pat.new_frames()
        # Pat, the one agent online, may also be given chats earlier steps left waiting: take the email's.
        [by_mail] = [f for f in frames if f["type"] == "message.new" and f.get("channel") == "email"]
        [assigned] = [f for f in frames if f["type"] == "conversation.assigned"
                      and f["conversation_id"] == by_mail["conversation_id"]]
        [screenshot] = by_mail["attachments"]
        # The agent answers with the visitor's own file (any file of the conversation goes).
        pat.send(action="message.send", conversation_id=assigned["conversation_id"], client_msg_id="p1", text="Hi!",
                 attachment_ids=[screenshot["attachment_id"]])
        assert deliver_once(consumer_named(app_module.app, app_module, "send_email_replies"), sqs) == 1
        [reply] = ses.sent_messages[already:]
        sent = message_from_string(reply.raw_data)
        answer = email(sent["Reply-To"], "Thanks", sender="erin@example.org")
        # Her answer to the reply address, delivered twice (stored once), then one more to the inbound address
        # threaded by In-Reply-To.
        for key, raw in (("m2", answer), ("m3", answer), ("m4", email(
                inbound_address(self.tenant["tenant_id"]), "And one more", sender="erin@example.org",
                In_Reply_To=sent["Message-ID"]))):
            s3.put_object(Bucket=bucket, Key=key, Body=raw)
            assert deliver_once(consumer_named(app_module.app, app_module, "inbound_email"), sqs) == 1
        # Shredding deletes a conversation's threading records: by retention, then (a new email's) by erasure.
        pat.send(action="conversation.close", conversation_id=assigned["conversation_id"], resolution="resolved")
        pat.send(action="presence.set", status="offline")  # the next chat is someone else's
        app_module.websocket_disconnect(ws_event("$disconnect", pat.connection_id), None)
        self.clock.advance(2 * 86400)
        assert run_sweep("retention")["shredded"] >= 1
        s3.put_object(Bucket=bucket, Key="m5", Body=email(inbound_address(self.tenant["tenant_id"]), "Me again",
                                                          sender="erin@example.org"))
        assert deliver_once(consumer_named(app_module.app, app_module, "inbound_email"), sqs) == 1
        admin = self.api.login(self.tenant["tenant_id"], "admin@acme.com")  # the last one outlived
        self.call("DELETE", "/v1/visitors/{visitor_id}", token=admin,
                  visitor_id=email_visitor_id(self.tenant["tenant_id"], "erin@example.org"))

    def mail(self) -> None:
        """The survey email's one-click unsubscribe, and SES reporting a complaint about the address."""
        from moto.ses.models import ses_backends

        [sent] = [m for m in ses_backends[ACCOUNT][REGION].sent_messages if "List-Unsubscribe" in m.raw_data]
        link = message_from_string(sent.raw_data)["List-Unsubscribe"].strip("<>")
        token = link.rsplit("/", 1)[1]
        self.call("GET", "/v1/unsubscribe/{unsubscribe_token}", unsubscribe_token=token)
        self.call("HEAD", "/v1/unsubscribe/{unsubscribe_token}", unsubscribe_token=token)
        self.call("POST", "/v1/unsubscribe/{unsubscribe_token}", unsubscribe_token=token)
        complaint = {"eventType": "Complaint", "complaint": {"complainedRecipients": [
            {"emailAddress": address} for address in sent.destinations]}}
        assert app_module.ses_feedback(sns_event(json.dumps(complaint)), None)["suppressed"] == 1
