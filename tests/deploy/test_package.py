"""`make package` and the template it builds: cfn-lint clean, the SAM transform resolves, and
every function gets the environment the code needs on AWS."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.deploy.conftest import DEPLOY_BIN, ROOT, functions

# What only the deployed stack can tell a function: names and URLs of its own resources.
SET_BY_THE_STACK = {"SWITCHBOARD_STACK", "SWITCHBOARD_EXPORT_BUCKET", "SWITCHBOARD_UPLOAD_BUCKET",
                    "SWITCHBOARD_ATTACHMENT_BUCKET", "SWITCHBOARD_WS_URL",
                    "SWITCHBOARD_WS_MANAGEMENT_ENDPOINT", "SWITCHBOARD_PUBLIC_URL", "SWITCHBOARD_MAIL_FROM",
                    "SWITCHBOARD_LOG_LEVEL", "SWITCHBOARD_INBOUND_DOMAIN"}
# Tunables whose defaults are the production values (docs/deploy.md lists them).
TUNABLES = {"SWITCHBOARD_AGENT_TOKEN_TTL", "SWITCHBOARD_VISITOR_TOKEN_TTL", "SWITCHBOARD_SIGNUP_LIMIT_PER_HOUR",
            "SWITCHBOARD_LOGIN_LIMIT_PER_MINUTE", "SWITCHBOARD_MAX_BODY_BYTES", "SWITCHBOARD_SURVEY_EVERY_MINUTES",
            "SWITCHBOARD_RECONCILE_EVERY_MINUTES", "SWITCHBOARD_MESSAGES_PER_SECOND",
            "SWITCHBOARD_TENANT_REQUESTS_PER_MINUTE", "SWITCHBOARD_WIDGET_SESSIONS_PER_MINUTE",
            "SWITCHBOARD_CONNECTIONS_PER_VISITOR", "SWITCHBOARD_CONVERSATIONS_PER_VISITOR_PER_HOUR",
            "SWITCHBOARD_EMAILS_PER_ADDRESS_PER_DAY", "SWITCHBOARD_EMAILS_PER_TENANT_PER_DAY",
            "SWITCHBOARD_EMAIL_REPLIES_PER_ADDRESS_PER_DAY",
            "SWITCHBOARD_AGENT_SESSION_MAX_SECONDS", "SWITCHBOARD_SCRYPT_N", "SWITCHBOARD_LOGIN_FREE_FAILURES",
            "SWITCHBOARD_LOGIN_MAX_DELAY_SECONDS", "SWITCHBOARD_VISITOR_REQUESTS_PER_MINUTE",
            "SWITCHBOARD_VISITOR_SOURCE_REQUESTS_PER_MINUTE", "SWITCHBOARD_TENANT_NEW_VISITORS_PER_MINUTE",
            "SWITCHBOARD_TENANT_OPEN_VISITOR_CONVERSATIONS", "SWITCHBOARD_VISITOR_SESSION_MAX_SECONDS",
            "SWITCHBOARD_WS_FRAMES_PER_SECOND", "SWITCHBOARD_EXPORT_EVENTS_PER_CHUNK",
            "SWITCHBOARD_SWEEP_ITEMS_PER_RUN", "SWITCHBOARD_WEBHOOK_RETRY_SECONDS",
            "SWITCHBOARD_ATTACHMENTS_PER_VISITOR_PER_HOUR",
            "SWITCHBOARD_INBOUND_EMAILS_PER_SENDER_PER_HOUR", "SWITCHBOARD_INBOUND_EMAILS_PER_TENANT_PER_HOUR",
            # Local stack and tests only (http://127.0.0.1 for the test issuer); never set deployed.
            "SWITCHBOARD_OUTBOUND_ALLOW_LOOPBACK"}
FUNCTIONS = {"APIHandler", "WebsocketConnect", "WebsocketMessage", "WebsocketDisconnect", "RerouteStale",
             "Retention", "SendSurveys", "AuditVerify", "AuditExport", "ReconcileCapacity", "SesFeedback",
             "AuditLoginFailures", "WebhookEvents", "SlaAlerts", "AttachmentUploads", "InboundEmail",
             "SendEmailReplies"}


def test_cfn_lint_finds_nothing_in_the_merged_template(build: Path):
    result = subprocess.run([DEPLOY_BIN / "cfn-lint", build / "sam.yaml"], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (build / "deployment.zip").stat().st_size > 1_000_000


def test_the_sam_transform_resolves_into_every_function_and_both_apis(resources: dict):
    assert set(functions(resources)) == FUNCTIONS
    types = {resource["Type"] for resource in resources.values()}
    assert {"AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api", "AWS::DynamoDB::Table", "AWS::KMS::Key",
            "AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::Events::Rule"} <= types


def test_every_environment_variable_the_code_reads_is_accounted_for():
    sources = [ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py")]
    read = {name for path in sources for name in re.findall(r"SWITCHBOARD_[A-Z_]+", path.read_text())}
    assert read == SET_BY_THE_STACK | TUNABLES, "classify the new variable here and in docs/deploy.md"


def test_every_function_gets_what_only_the_stack_can_tell_it(resources: dict):
    for name, properties in functions(resources).items():
        variables = properties["Environment"]["Variables"]
        assert SET_BY_THE_STACK <= variables.keys(), name
        assert variables["SWITCHBOARD_STACK"] == {"Ref": "AWS::StackName"}  # the names infra/ derives
        assert variables["SWITCHBOARD_EXPORT_BUCKET"] == {"Ref": "ExportBucket"}
        # A custom domain's wss:// URL when given, else the API's own (docs/deploy.md, custom domain).
        assert variables["SWITCHBOARD_WS_URL"]["Fn::If"][:2] == ["HasWebSocketUrl", {"Ref": "WebSocketUrl"}]


def test_the_queue_functions_read_this_stacks_queues(resources: dict):
    mappings = [resource["Properties"] for resource in resources.values()
                if resource["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert sorted((m["FunctionName"]["Ref"], m["EventSourceArn"]["Fn::Sub"]) for m in mappings) == [
        ("AttachmentUploads", "${AttachmentUploadQueue.Arn}"), ("AuditExport", "${AuditExportQueue.Arn}"),
        ("InboundEmail", "${InboundMailQueue.Arn}"), ("SendEmailReplies", "${EmailReplyQueue.Arn}"),
        ("WebhookEvents", "${WebhookEventQueue.Arn}")]


def test_only_the_functions_that_walk_an_audit_chain_may_run_for_lambdas_fifteen_minutes(resources: dict):
    # An export's range and a verify's backlog grow with the chain; at `make bench`'s export rate 30 s
    # would stop an export at about fifty thousand events.
    timeouts = {name: properties["Timeout"] for name, properties in functions(resources).items()}
    assert timeouts.pop("AuditExport") == timeouts.pop("AuditVerify") == 900
    assert timeouts.pop("WebhookEvents") == 120  # ten deliveries a batch, each at most 8 s (outbound/http.py)
    # An upload's check reads and seals a file of up to 25 MiB; a claim on it outlives the function.
    from chalicelib.attachments.checking import CLAIM_SECONDS

    assert timeouts.pop("AttachmentUploads") == 60 < CLAIM_SECONDS
    assert set(timeouts.values()) == {30}
    # Lambda refuses an SQS event source whose visibility timeout is shorter than the function's.
    assert resources["AuditExportQueue"]["Properties"]["VisibilityTimeout"] >= 900
    assert resources["WebhookEventQueue"]["Properties"]["VisibilityTimeout"] >= 120
    assert resources["AttachmentUploadQueue"]["Properties"]["VisibilityTimeout"] >= 60


SCHEDULED = {"RerouteStale", "Retention", "SendSurveys", "AuditVerify", "ReconcileCapacity", "AuditLoginFailures",
             "SlaAlerts"}
# SNS invokes its function asynchronously too (SES's bounces and complaints).
ASYNC_INVOKED = SCHEDULED | {"SesFeedback"}


def of_type(resources: dict, resource_type: str) -> dict[str, dict]:
    return {name: resource["Properties"] for name, resource in resources.items() if resource["Type"] == resource_type}


def test_every_function_logs_to_a_group_with_a_retention(resources: dict):
    groups = of_type(resources, "AWS::Logs::LogGroup")
    named = {group["LogGroupName"]["Fn::Sub"]: group for group in groups.values()}
    assert set(named) == {f"/aws/lambda/${{{function}}}" for function in FUNCTIONS}
    assert all(group["RetentionInDays"] == {"Fn::If": ["IsProd", 90, 14]} for group in named.values())


def test_scheduled_functions_keep_what_failed_every_retry(resources: dict):
    for name, properties in functions(resources).items():
        dead_letters = properties.get("DeadLetterConfig", {}).get("TargetArn")
        assert dead_letters == ({"Fn::GetAtt": ["FunctionDeadLetters", "Arn"]} if name in ASYNC_INVOKED else None), name
    # That each role may write to its queue is checked with the rest of its policy (test_least_privilege).


def test_ses_bounces_and_complaints_reach_the_feedback_function_through_this_stacks_topic(resources: dict):
    subscriptions = [properties for properties in of_type(resources, "AWS::SNS::Subscription").values()
                     if properties["Protocol"] == "lambda"]
    assert [(s["TopicArn"], s["Endpoint"]) for s in subscriptions] == [
        ({"Fn::Sub": "${MailFeedbackTopic}"}, {"Fn::GetAtt": ["SesFeedback", "Arn"]})]
    (destination,) = of_type(resources, "AWS::SES::ConfigurationSetEventDestination").values()
    assert destination["ConfigurationSetName"] == {"Ref": "MailConfigurationSet"}
    assert destination["EventDestination"]["SnsDestination"] == {"TopicARN": {"Ref": "MailFeedbackTopic"}}
    assert sorted(destination["EventDestination"]["MatchingEventTypes"]) == ["bounce", "complaint"]
    # The names the code uses (chalicelib/config.py) are the ones the stack creates.
    (configuration_set,) = of_type(resources, "AWS::SES::ConfigurationSet").values()
    assert configuration_set["Name"] == {"Fn::Sub": "${AWS::StackName}-mail"}
    assert resources["MailFeedbackTopic"]["Properties"]["TopicName"] == {"Fn::Sub": "${AWS::StackName}-mail-feedback"}


def alarmed_on(alarm: dict) -> list[tuple[str, str]]:
    """(metric name, its first dimension's value as JSON) of every metric an alarm watches."""
    stats = [query["MetricStat"]["Metric"] for query in alarm.get("Metrics", []) if "MetricStat" in query]
    stats += [alarm] if "MetricName" in alarm else []
    return [(stat["MetricName"], as_key((stat.get("Dimensions") or [{"Value": None}])[0]["Value"])) for stat in stats]


def as_key(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def test_alarms_watch_errors_throttles_dead_letters_and_the_audit_chain(resources: dict):
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    watched = {pair for alarm in alarms.values() for pair in alarmed_on(alarm)}
    for function in FUNCTIONS:
        function_key = as_key({"Ref": function})
        assert {("Errors", function_key), ("Throttles", function_key)} <= watched, function
    for queue in ("AuditExportDeadLetters", "FunctionDeadLetters", "AttachmentUploadDeadLetters",
                  "InboundMailDeadLetters", "EmailReplyDeadLetters"):
        assert ("ApproximateNumberOfMessagesVisible", as_key({"Fn::GetAtt": [queue, "QueueName"]})) in watched
    for table in ("ConversationsTable", "MessagesTable", "MessageIdsTable", "ConnectionsTable", "RosterTable"):
        assert {("ReadThrottleEvents", as_key({"Ref": table})),
                ("WriteThrottleEvents", as_key({"Ref": table}))} <= watched
    assert ("AuditChainBroken", as_key(None)) in watched
    assert all(alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}] for alarm in alarms.values())


def test_the_audit_metric_counts_the_line_audit_verify_logs():
    from chalicelib.audit import nightly_check

    (metric_filter,) = of_type(load_infra(), "AWS::Logs::MetricFilter").values()
    term = metric_filter["FilterPattern"].strip('"')
    assert f'"alarm": "{term}"' in Path(nightly_check.__file__).read_text()


def load_infra() -> dict:
    from devstack.provision import load_template

    return {name: resource for name, resource in load_template()["Resources"].items() if "Type" in resource}


def test_api_gateways_own_answers_take_the_contracts_error_shape(resources: dict):
    (api,) = of_type(resources, "AWS::ApiGateway::RestApi").values()
    answers = api["Body"]["x-amazon-apigateway-gateway-responses"]
    expected = {"MISSING_AUTHENTICATION_TOKEN": ("404", "not_found"), "THROTTLED": ("429", "rate_limited"),
                "REQUEST_TOO_LARGE": ("413", "payload_too_large"), "DEFAULT_4XX": (None, "bad_request"),
                "DEFAULT_5XX": (None, "internal_error")}
    assert set(answers) == set(expected)
    for response_type, (status, code) in expected.items():
        answer = answers[response_type]
        # $context.error.messageString arrives as a quoted JSON string.
        body = json.loads(answer["responseTemplates"]["application/json"].replace(
            "$context.error.messageString", '"Missing Authentication Token"'))
        assert body["error"]["code"] == code and body["error"]["message"], response_type
        assert answer.get("statusCode") == status
        assert answer["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"
    assert answers["THROTTLED"]["responseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"
