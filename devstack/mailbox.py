"""The local stand-ins for SES in both directions, answered by the local server (never deployed):

- `GET /dev/outbox`: every email the app sent, as the embedded AWS (moto's SES, in its own process) keeps them:
  `{items: [{to, from, subject, text, html, headers, sent_at}]}`, oldest first.
- `POST /dev/inbound-email`: a raw RFC 822 message (body `message/rfc822`) as if it reached a tenant's
  inbound address: stored in the inbound bucket as SES's receipt rule stores it, so the bucket's
  notification and the app's inbound queue consumer take it from there, exactly as deployed. Bytes that
  are no readable email are refused here with 400 (deployed, SES refuses them before any rule).
- `POST /dev/ses-events`: an SES bounce or complaint notification (the JSON SES publishes, or the SNS
  envelope around it) handed to the app's @app.on_sns_message handler as SNS invokes it on AWS.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_string
from email.policy import default
from email.utils import parsedate_to_datetime
from types import ModuleType
from typing import Any

import boto3
import requests
from chalice import Chalice
from chalice.app import SNSEventConfig
from moto.core import DEFAULT_ACCOUNT_ID

from chalicelib.email_channel.parsing import MalformedMail, TooLarge, parse

from .aws import SENT_EMAILS_PATH


@dataclass(frozen=True)
class SnsSubscriber:
    name: str
    topic: str
    handler: Callable[[dict[str, Any], Any], Any]


def chalice_sns_subscribers(app: Chalice, module: ModuleType) -> list[SnsSubscriber]:
    return [SnsSubscriber(source.name, source.topic, getattr(module, source.handler_string.rpartition(".")[2]))
            for source in app.event_sources if isinstance(source, SNSEventConfig)]


def sns_event(message: str, topic_arn: str) -> dict[str, Any]:
    """A Lambda event from SNS, one record, as AWS invokes a subscribed function."""
    return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": f"{topic_arn}:local",
                         "Sns": {"Type": "Notification", "MessageId": "local", "TopicArn": topic_arn,
                                 "Subject": None, "Message": message, "Timestamp": "", "MessageAttributes": {}}}]}


class Mailbox:
    def __init__(self, subscribers: list[SnsSubscriber], region: str, aws_url: str, inbound_bucket: str) -> None:
        self._subscribers, self._region, self._aws_url = subscribers, region, aws_url
        self._inbound_bucket = inbound_bucket

    def inbound_email(self, raw: bytes) -> tuple[int, dict[str, Any]]:
        """Store one received email in the inbound bucket; (status, answer)."""
        try:
            parse(raw)
        except TooLarge as err:
            return 413, {"error": {"code": "email_too_large", "message": f"The email is too large: {err}."}}
        except MalformedMail as err:
            return 400, {"error": {"code": "malformed_email", "message": f"Not a readable RFC 822 email: {err}."}}
        key = f"local/{uuid.uuid4().hex}"
        boto3.client("s3", region_name=self._region).put_object(Bucket=self._inbound_bucket, Key=key, Body=raw)
        return 202, {"bucket": self._inbound_bucket, "key": key}

    def outbox(self) -> dict[str, Any]:
        sent = requests.get(self._aws_url + SENT_EMAILS_PATH, params={"region": self._region}, timeout=30)
        sent.raise_for_status()
        return {"items": [_as_item(message) for message in sent.json()]}

    def ses_event(self, body: bytes) -> dict[str, Any]:
        """Deliver one notification to every SNS subscriber; what each handler answered."""
        message = body.decode("utf-8", "replace")
        try:
            envelope = json.loads(message)
        except ValueError:
            envelope = None
        if (isinstance(envelope, dict) and envelope.get("Type") == "Notification"
                and isinstance(envelope.get("Message"), str)):
            message = envelope["Message"]  # what SNS would POST to an HTTP subscriber
        return {subscriber.name: subscriber.handler(sns_event(
            message, f"arn:aws:sns:{self._region}:{DEFAULT_ACCOUNT_ID}:{subscriber.topic}"), None)
            for subscriber in self._subscribers}


def _as_item(sent: dict[str, Any]) -> dict[str, Any]:
    if "raw_data" not in sent:  # SendEmail's simple form (the app sends raw messages)
        return {"to": ", ".join(sent["destinations"].get("ToAddresses", [])), "from": sent["source"],
                "subject": sent["subject"], "text": sent["body"], "html": None, "headers": {}, "sent_at": None}
    mail = message_from_string(sent["raw_data"], policy=default)
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    sent_at = parsedate_to_datetime(mail["Date"]).strftime("%Y-%m-%dT%H:%M:%SZ") if mail["Date"] else None
    return {"to": mail["To"], "from": mail["From"], "subject": mail["Subject"],
            "text": text.get_content() if text else None, "html": html.get_content() if html else None,
            "headers": {name: str(value) for name, value in mail.items()}, "sent_at": sent_at}
