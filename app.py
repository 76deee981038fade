"""Switchboard's Chalice app: registers the Blueprints and the WebSocket handlers, nothing else.

Every handler parses its input, calls one service function and shapes the answer; the
work lives in chalicelib/.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Chalice, Cron, Rate
from chalice.app import CloudWatchEvent, SNSEvent, SQSEvent, WebsocketEvent

from chalicelib.attachments import BINARY_TYPES as ATTACHMENT_TYPES
from chalicelib.attachments import routes as attachment_routes
from chalicelib.audit import routes as audit_routes
from chalicelib.bot import routes as bot_routes
from chalicelib.canned import routes as canned_routes
from chalicelib.config import get_config
from chalicelib.conversations import routes as conversation_routes
from chalicelib.lazy import lazy_module
from chalicelib.mail import routes as mail_routes
from chalicelib.reports import routes as report_routes
from chalicelib.sso import routes as sso_routes
from chalicelib.surveys import routes as survey_routes
from chalicelib.system import middleware
from chalicelib.system import routes as system_routes
from chalicelib.tenancy import routes as tenancy_routes
from chalicelib.tenancy.two_factor import routes as two_factor_routes
from chalicelib.transcripts import routes as key_routes
from chalicelib.visitors import routes as visitor_routes
from chalicelib.web import pages
from chalicelib.webhooks import routes as webhook_routes

if TYPE_CHECKING:
    from chalicelib.conversations import websocket as ws
    from chalicelib.mail.feedback import Summary
else:  # only the WebSocket functions load it, on their first event (see chalicelib/lazy.py)
    ws = lazy_module("chalicelib.conversations.websocket")

app = Chalice(app_name="switchboard")
# Chalice holds its own logger, "switchboard" (the parent of every logger in chalicelib), at ERROR
# unless debug is on; SWITCHBOARD_LOG_LEVEL decides instead, so warnings reach CloudWatch.
app.log.setLevel(get_config().log_level)
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.register_middleware(middleware.contract_responses, "http")
app.register_blueprint(system_routes.bp)
app.register_blueprint(tenancy_routes.bp)
app.register_blueprint(two_factor_routes.bp)
app.register_blueprint(bot_routes.bp)
app.register_blueprint(canned_routes.bp)
app.register_blueprint(conversation_routes.bp)
app.register_blueprint(visitor_routes.bp)
app.register_blueprint(key_routes.bp)
app.register_blueprint(audit_routes.bp)
app.register_blueprint(survey_routes.bp)
app.register_blueprint(mail_routes.bp)
app.register_blueprint(report_routes.bp)
app.register_blueprint(sso_routes.bp)
app.register_blueprint(webhook_routes.bp)
app.register_blueprint(attachment_routes.bp)
# Downloads answer the file's bytes: API Gateway passes them through only for binary media types.
app.api.binary_types.extend(sorted(set(ATTACHMENT_TYPES) - set(app.api.binary_types)))
app.register_blueprint(pages.bp)
pages.answer_head_like_get(app)  # after every blueprint: each public GET gets its HEAD


@app.on_ws_connect()
def websocket_connect(event: WebsocketEvent) -> dict[str, Any]:
    request = event.to_dict()
    return ws.on_connect(event.connection_id, request.get("queryStringParameters"), request.get("headers"))


@app.on_ws_disconnect()
def websocket_disconnect(event: WebsocketEvent) -> None:
    ws.on_disconnect(event.connection_id)


@app.on_ws_message()
def websocket_message(event: WebsocketEvent) -> None:
    ws.on_message(event.connection_id, event.body)


@app.schedule(Rate(1, unit=Rate.MINUTES), description="Re-queue chats nobody answered in time or whose agent is gone")
def reroute_stale(event: CloudWatchEvent) -> dict[str, Any]:
    from chalicelib.conversations.stale import reroute_stale as run

    return run()


@app.schedule(Rate(1, unit=Rate.HOURS), description="Shred transcripts older than each tenant's retention_days")
def retention(event: CloudWatchEvent) -> dict[str, Any]:
    from chalicelib.transcripts.retention import run_retention

    return run_retention(event.context)


@app.schedule(Rate(get_config().survey_every_minutes, unit=Rate.MINUTES),
              description="Send one satisfaction survey per closed conversation once it is due")
def send_surveys(event: CloudWatchEvent) -> dict[str, Any]:
    from chalicelib.surveys.service import send_surveys as run

    return run(event.context)


@app.schedule(Rate(1, unit=Rate.MINUTES),
              description="Email the admins about conversations waiting past the SLA with no agent online")
def sla_alerts(event: CloudWatchEvent) -> dict[str, int]:
    from chalicelib.alerts.sla import send_sla_alerts

    return send_sla_alerts()


@app.schedule(Rate(get_config().reconcile_every_minutes, unit=Rate.MINUTES),
              description="Recompute each agent's load from the conversations they hold; repair and report drift")
def reconcile_capacity(event: CloudWatchEvent) -> dict[str, Any]:
    from chalicelib.conversations.reconcile import reconcile_capacity as run

    return run()


@app.schedule(Cron(15, 2, "*", "*", "?", "*"), description="Verify every tenant's audit chain and sign a digest")
def audit_verify(event: CloudWatchEvent) -> dict[str, Any]:
    from chalicelib.audit.nightly_check import run_audit_verify

    return run_audit_verify()


@app.schedule(Rate(5, unit=Rate.MINUTES),
              description="Write one audit event per account for each ended window of failed logins")
def audit_login_failures(event: CloudWatchEvent) -> dict[str, Any]:
    from chalicelib.tenancy.login_throttle import audit_login_failures as run

    return run()


@app.on_sqs_message(queue=get_config().audit_export_queue, batch_size=1)
def audit_export(event: SQSEvent) -> None:
    from chalicelib.visitors.access_exports import handle_export_messages  # audit files and access bundles

    handle_export_messages((record.body for record in event), event.context)


# Webhook events to fan out and deliveries to retry (docs/webhooks.md).
@app.on_sqs_message(queue=get_config().webhook_event_queue, batch_size=10)
def webhook_events(event: SQSEvent) -> None:
    from chalicelib.webhooks.delivery import handle_messages

    handle_messages(record.body for record in event)


# The email channel (docs/email.md): SES stores received mail in the inbound bucket, which notifies this
# queue; and agents' messages that go out as emails, sent from their own queue so SES never slows a chat.
@app.on_sqs_message(queue=get_config().inbound_mail_queue, batch_size=1)
def inbound_email(event: SQSEvent) -> None:
    from chalicelib.email_channel.inbound import handle_notifications

    handle_notifications(record.body for record in event)


@app.on_sqs_message(queue=get_config().email_reply_queue, batch_size=10)
def send_email_replies(event: SQSEvent) -> None:
    from chalicelib.email_channel.outbound import handle_reply_jobs

    handle_reply_jobs(record.body for record in event)


# S3 tells this queue of every upload into the quarantine bucket: each is checked, then sealed or refused.
@app.on_sqs_message(queue=get_config().attachment_upload_queue, batch_size=10)
def attachment_uploads(event: SQSEvent) -> int:
    from chalicelib.attachments.checking import handle_upload_events

    return handle_upload_events(record.body for record in event)


# SES's bounces and complaints (its configuration set publishes them to this topic): suppressed addresses.
@app.on_sns_message(topic=get_config().mail_feedback_topic)
def ses_feedback(event: SNSEvent) -> Summary:
    from chalicelib.mail.feedback import handle_notification

    return handle_notification(event.message)
