"""Runtime configuration, read once per container from the environment.

Every physical resource name derives from SWITCHBOARD_STACK (the CloudFormation stack
name), exactly as infra/template.yaml derives it, so code and template agree without
a lookup at start-up.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Config:
    stack: str
    region: str
    export_bucket: str
    # Attachments (docs/attachments.md): browsers upload into the quarantine bucket; what the check
    # accepts is sealed into the attachments bucket.
    upload_bucket: str
    attachment_bucket: str
    # Where the app posts frames to clients (API Gateway Management API). On AWS:
    # https://{api-id}.execute-api.{region}.amazonaws.com/{stage}; locally the gateway's.
    ws_management_endpoint: str
    # What clients connect to (returned by the widget session endpoint).
    ws_public_url: str
    agent_token_ttl_seconds: int
    agent_session_max_seconds: int  # a login's absolute lifetime: refreshing never extends it past this
    scrypt_n: int  # scrypt's cost N for new password hashes (r=8, p=1); lower only in test suites
    visitor_token_ttl_seconds: int
    signup_limit_per_hour: int
    login_limit_per_minute: int
    # Per (account, source address): this many failed logins are free, then each next attempt waits
    # 1, 2, 4 ... seconds, at most login_max_delay_seconds (docs/api.md, "Rate limits").
    login_free_failures: int
    login_max_delay_seconds: int
    max_body_bytes: int
    # Links in emails and frames (the survey page): the public base URL of the REST API.
    public_url: str
    mail_from: str  # an address of infra/'s SES identity (MailDomain)
    survey_every_minutes: int  # send-surveys' rate: 5 on AWS, 1 locally
    reconcile_every_minutes: int  # reconcile-capacity's rate
    # Abuse limits (docs/api.md, "Rate limits").
    messages_per_second: int  # per sender per conversation
    tenant_requests_per_minute: int  # authenticated REST requests
    widget_sessions_per_minute: int  # per source address (IPv6 by /64)
    # Visitors never spend the tenant's budget above: theirs are per visitor, per source and per tenant.
    visitor_requests_per_minute: int  # authenticated REST requests per visitor
    visitor_source_requests_per_minute: int  # visitor REST requests per source address (IPv6 by /64)
    tenant_new_visitors_per_minute: int  # new visitor sessions per tenant (widget key)
    tenant_open_visitor_conversations: int  # visitor conversations not yet closed, per tenant
    visitor_session_max_seconds: int  # a visitor token resumes its visitor this long after the first
    connections_per_visitor: int  # open WebSocket connections at once
    ws_frames_per_second: int  # frames of every action on one WebSocket connection
    conversations_per_visitor_per_hour: int  # new conversations a visitor may open
    attachments_per_visitor_per_hour: int  # uploads a visitor may start
    # Emails to visitors (docs/surveys.md, "Emails"), per UTC day; one over a cap is not sent.
    emails_per_address_per_day: int  # to one address, every tenant's together
    emails_per_tenant_per_day: int  # from one tenant, every address together
    # An agent's answers in an email conversation (docs/email.md) are a person writing back to an address
    # that wrote in: per (tenant, address) under this cap instead of the address cap; the tenant cap counts.
    email_replies_per_address_per_day: int
    log_level: str  # of every "switchboard.*" logger (.chalice/config.json sets it per stage)
    # Jobs that continue in fresh invocations (docs/audit.md "Exports", docs/architecture.md "Jobs"):
    # at most this many items per invocation, fewer when Lambda's remaining time runs short.
    export_events_per_chunk: int  # events an audit export writes per invocation (ends at a part boundary)
    sweep_items_per_run: int  # conversations a retention or send-surveys run handles
    # Outbound fetches (chalicelib/outbound/http.py) may reach http://127.0.0.1:<port>: the local stack's
    # test issuer (and webhooks). Only the local stack and tests set it; a deployed stack never does.
    outbound_allow_loopback: bool
    # A failed webhook delivery's first wait; each next one doubles, at most an hour (docs/webhooks.md).
    # The local stack's tests shorten it to see retries in seconds.
    webhook_retry_seconds: int
    # The email channel (docs/email.md): each tenant's inbound address is <tenant_id>@inbound_domain
    # (an SES-verified domain whose receipt rule stores mail in the inbound bucket).
    inbound_domain: str
    inbound_emails_per_sender_per_hour: int  # per (tenant, sender address); more are dropped
    inbound_emails_per_tenant_per_hour: int  # per tenant, every sender together

    def table(self, name: str) -> str:
        return f"{self.stack}-{name}"

    @property
    def data_key_alias(self) -> str:
        return f"alias/{self.stack}-data"

    @property
    def audit_key_alias(self) -> str:
        return f"alias/{self.stack}-audit"

    @property
    def audit_export_queue(self) -> str:
        return f"{self.stack}-audit-exports"

    @property
    def webhook_event_queue(self) -> str:
        return f"{self.stack}-webhook-events"

    @property
    def webhook_dead_letter_queue(self) -> str:
        return f"{self.stack}-webhook-events-dead"

    @property
    def attachment_upload_queue(self) -> str:
        return f"{self.stack}-attachment-uploads"

    @property
    def token_secret_id(self) -> str:
        return f"{self.stack}/token-signing"

    @property
    def mail_configuration_set(self) -> str:
        """SES configuration set every email names: it sends bounces and complaints to the feedback topic."""
        return f"{self.stack}-mail"

    @property
    def mail_feedback_topic(self) -> str:
        return f"{self.stack}-mail-feedback"

    @property
    def inbound_mail_queue(self) -> str:
        """The inbound bucket's object-created notifications (S3 to SQS), read by app.py: inbound_email."""
        return f"{self.stack}-inbound-mail"

    @property
    def email_reply_queue(self) -> str:
        """Agents' messages to send as emails (app.py: send_email_replies): SES never slows a chat."""
        return f"{self.stack}-email-replies"


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@cache
def get_config() -> Config:
    stack = os.environ.get("SWITCHBOARD_STACK", "switchboard-dev")
    return Config(
        stack=stack,
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        export_bucket=os.environ.get("SWITCHBOARD_EXPORT_BUCKET", f"{stack}-exports"),
        upload_bucket=os.environ.get("SWITCHBOARD_UPLOAD_BUCKET", f"{stack}-uploads"),
        attachment_bucket=os.environ.get("SWITCHBOARD_ATTACHMENT_BUCKET", f"{stack}-attachments"),
        ws_management_endpoint=os.environ.get("SWITCHBOARD_WS_MANAGEMENT_ENDPOINT", ""),
        ws_public_url=os.environ.get("SWITCHBOARD_WS_URL", ""),
        agent_token_ttl_seconds=_int("SWITCHBOARD_AGENT_TOKEN_TTL", 3600),
        agent_session_max_seconds=_int("SWITCHBOARD_AGENT_SESSION_MAX_SECONDS", 12 * 3600),
        scrypt_n=_int("SWITCHBOARD_SCRYPT_N", 2**17),
        visitor_token_ttl_seconds=_int("SWITCHBOARD_VISITOR_TOKEN_TTL", 86400),
        signup_limit_per_hour=_int("SWITCHBOARD_SIGNUP_LIMIT_PER_HOUR", 10),
        login_limit_per_minute=_int("SWITCHBOARD_LOGIN_LIMIT_PER_MINUTE", 20),
        login_free_failures=_int("SWITCHBOARD_LOGIN_FREE_FAILURES", 5),
        login_max_delay_seconds=_int("SWITCHBOARD_LOGIN_MAX_DELAY_SECONDS", 900),
        max_body_bytes=_int("SWITCHBOARD_MAX_BODY_BYTES", 64 * 1024),
        public_url=os.environ.get("SWITCHBOARD_PUBLIC_URL", "").rstrip("/"),
        mail_from=os.environ.get("SWITCHBOARD_MAIL_FROM", "surveys@mail.switchboard.example"),
        survey_every_minutes=_int("SWITCHBOARD_SURVEY_EVERY_MINUTES", 5),
        reconcile_every_minutes=_int("SWITCHBOARD_RECONCILE_EVERY_MINUTES", 15),
        messages_per_second=_int("SWITCHBOARD_MESSAGES_PER_SECOND", 10),
        tenant_requests_per_minute=_int("SWITCHBOARD_TENANT_REQUESTS_PER_MINUTE", 6000),
        widget_sessions_per_minute=_int("SWITCHBOARD_WIDGET_SESSIONS_PER_MINUTE", 30),
        visitor_requests_per_minute=_int("SWITCHBOARD_VISITOR_REQUESTS_PER_MINUTE", 60),
        visitor_source_requests_per_minute=_int("SWITCHBOARD_VISITOR_SOURCE_REQUESTS_PER_MINUTE", 600),
        tenant_new_visitors_per_minute=_int("SWITCHBOARD_TENANT_NEW_VISITORS_PER_MINUTE", 300),
        tenant_open_visitor_conversations=_int("SWITCHBOARD_TENANT_OPEN_VISITOR_CONVERSATIONS", 500),
        visitor_session_max_seconds=_int("SWITCHBOARD_VISITOR_SESSION_MAX_SECONDS", 30 * 86400),
        connections_per_visitor=_int("SWITCHBOARD_CONNECTIONS_PER_VISITOR", 10),
        ws_frames_per_second=_int("SWITCHBOARD_WS_FRAMES_PER_SECOND", 20),
        conversations_per_visitor_per_hour=_int("SWITCHBOARD_CONVERSATIONS_PER_VISITOR_PER_HOUR", 10),
        attachments_per_visitor_per_hour=_int("SWITCHBOARD_ATTACHMENTS_PER_VISITOR_PER_HOUR", 30),
        emails_per_address_per_day=_int("SWITCHBOARD_EMAILS_PER_ADDRESS_PER_DAY", 3),
        emails_per_tenant_per_day=_int("SWITCHBOARD_EMAILS_PER_TENANT_PER_DAY", 500),
        email_replies_per_address_per_day=_int("SWITCHBOARD_EMAIL_REPLIES_PER_ADDRESS_PER_DAY", 50),
        log_level=os.environ.get("SWITCHBOARD_LOG_LEVEL", "INFO").upper(),
        export_events_per_chunk=_int("SWITCHBOARD_EXPORT_EVENTS_PER_CHUNK", 500_000),
        sweep_items_per_run=_int("SWITCHBOARD_SWEEP_ITEMS_PER_RUN", 1000),
        outbound_allow_loopback=os.environ.get("SWITCHBOARD_OUTBOUND_ALLOW_LOOPBACK") == "1",
        webhook_retry_seconds=_int("SWITCHBOARD_WEBHOOK_RETRY_SECONDS", 30),
        inbound_domain=os.environ.get("SWITCHBOARD_INBOUND_DOMAIN", "inbound.switchboard.localhost").lower(),
        inbound_emails_per_sender_per_hour=_int("SWITCHBOARD_INBOUND_EMAILS_PER_SENDER_PER_HOUR", 30),
        inbound_emails_per_tenant_per_hour=_int("SWITCHBOARD_INBOUND_EMAILS_PER_TENANT_PER_HOUR", 1000),
    )
