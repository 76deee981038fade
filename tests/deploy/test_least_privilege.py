"""Least privilege: each function's role allows what its code calls, nothing it does not, and no `*`
where a narrower resource exists.

One workload goes through every entry point (every REST route, every WebSocket route and action,
the jobs, the export queue, SES's feedback topic) on in-process moto. Each AWS call is recorded
with the function that made it (tests/deploy/iam.py) and answered from the policies of the packaged
template (.chalice/policies/ as `make package` merges them), resolved for this moto stack.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace

import boto3
import pytest

from chalicelib.config import get_config
from chalicelib.runtime import Runtime, use_runtime
from chalicelib.web.routing import ROUTES
from devstack.harness import Api
from tests.deploy.conftest import functions
from tests.deploy.iam import (
    ACCOUNT,
    REGION,
    Call,
    Names,
    Request,
    Statement,
    Template,
    recording,
    requests_of,
    statements,
    table_arn,
)
from tests.deploy.workload import STACK, Workload

PARAMETERS = {"Stage": "dev", "MailDomain": "mail.switchboard.example", "PublicUrl": "", "AlarmEmail": ""}
# A `*` is allowed only where the name is not known in advance, and only there.
NARROW_WILDCARDS = {
    "execute-api": re.compile(r"^arn:aws:execute-api:[^*]+/(POST|GET|DELETE)/@connections/\*$"),  # connection ids
    "logs": re.compile(r"^arn:aws:logs:[^*]+:log-group:/aws/lambda/[^*]+:\*$"),  # log streams
    # {tenant_id}/audit/{export_id}.jsonl.gz, access/{tenant_id}/{export_id}.zip.sealed, uploads/{tenant}/{attachment};
    # the attachments bucket holds nothing but {tenant_id}/{conversation_id}/{attachment_id};
    # the inbound mail bucket, the emails SES received (SES names them).
    "s3": re.compile(r"^arn:aws:s3:::([^*/]+/(\*/audit|access|uploads)/\*|[^*/]+-(attachments|inbound-mail)-\d+/\*)$"),
}
# Grants only a failure uses (the workload succeeds), each with the code that needs it.
ERROR_PATHS = {
    # audit.exports.request_export: the queue refused the job, so the export is marked failed.
    "api_handler": [Request("dynamodb:UpdateItem", table_arn(f"{STACK}-audit-exports"))],
    # audit.exports._GzipUpload.abort: a part failed, so the multipart upload is abandoned.
    "audit_export": [Request("s3:AbortMultipartUpload", f"arn:aws:s3:::{STACK}-exports-{ACCOUNT}/t/audit/x.jsonl.gz")],
    # conversations.message_store._claim: another message took the seq a client_msg_id aimed at.
    "websocket_message": [Request("dynamodb:UpdateItem", table_arn(f"{STACK}-message-ids"))],
    # webhooks.delivery.attempt: a delivery that failed for a day is parked in the dead letters.
    "webhook_events": [Request("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK}-webhook-events-dead"),
                       Request("sqs:GetQueueUrl", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{STACK}-webhook-events-dead")],
    # attachments.checking.check after a key rotation the conversation has not written since: its key (and
    # its visitor's) at the new version is added (transcripts.keys).
    "attachment_uploads": [Request("dynamodb:UpdateItem", table_arn(f"{STACK}-conversations")),
                           Request("dynamodb:UpdateItem", table_arn(f"{STACK}-visitors"))],
    # The same, for a message that came by email.
    "inbound_email": [Request("dynamodb:UpdateItem", table_arn(f"{STACK}-message-ids"))],
}
# Grants only contention uses (the workload appends one event at a time). audit.trail.record_event: an
# appender that loses its tenant's chain head leaves its event waiting, then links the waiting events.
# audit.trail.link_waiting: audit-verify links what appenders that died left waiting.
WAITING = table_arn(f"{STACK}-audit-pending")
CONTENDED_APPEND = [Request(f"dynamodb:{action}", WAITING) for action in ("PutItem", "Query", "DeleteItem")]
LINKING_LEFTOVERS = [Request("dynamodb:DeleteItem", WAITING),
                     Request("dynamodb:PutItem", table_arn(f"{STACK}-audit-events")),
                     Request("dynamodb:PutItem", table_arn(f"{STACK}-audit-chains"))]


# --- What the roles allow ----------------------------------------------------------------------------
def physical_names(names: Names) -> dict[str, str]:
    kms, secrets = boto3.client("kms"), boto3.client("secretsmanager")
    data, audit = (kms.describe_key(KeyId=f"alias/{STACK}-{name}")["KeyMetadata"]["Arn"] for name in ("data", "audit"))
    secret = secrets.describe_secret(SecretId=f"{STACK}/token-signing")["ARN"]
    names.key_arns.update({f"alias/{STACK}-data": data, f"alias/{STACK}-audit": audit})
    names.data_key = data
    names.secret_arns[f"{STACK}/token-signing"] = secret
    return {"DataKey": data, "AuditSigningKey": audit, "TokenSigningSecret": secret, "WebsocketAPI": names.ws_api}


def chalice_name(cfn_name: str) -> str:
    return {"APIHandler": "api_handler"}.get(cfn_name) or re.sub(r"(?<!^)([A-Z])", r"_\1", cfn_name).lower()


def policies(resources: dict, template: Template) -> dict[str, list[Statement]]:
    allowed = {}
    for name, properties in functions(resources).items():
        role = resources[properties["Role"]["Fn::GetAtt"][0]]["Properties"]
        allowed[chalice_name(name)] = [statement for policy in role.get("Policies", [])
                                       for statement in statements(template.resolve(policy["PolicyDocument"]))]
    return allowed


def platform_requests(resources: dict, template: Template) -> tuple[dict[str, list[Request]], str]:
    """What Lambda does with each function's role besides its code's own calls; and the KMS key
    of the export bucket's encryption."""
    by_function: dict[str, list[Request]] = defaultdict(list)
    bucket = resources["ExportBucket"]["Properties"]
    [encryption] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    bucket_key = template.resolve(encryption["ServerSideEncryptionByDefault"]["KMSMasterKeyID"])
    for name, properties in functions(resources).items():
        requests = by_function[chalice_name(name)]
        log_group = (f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/"
                     f"{template.resolve(properties['FunctionName'])}")
        requests += [Request(f"logs:{action}", f"{log_group}:log-stream:2026/11/23/[$LATEST]0")
                     for action in ("CreateLogStream", "PutLogEvents")]
        if "DeadLetterQueue" in properties:
            requests.append(Request("sqs:SendMessage", template.resolve(properties["DeadLetterQueue"]["TargetArn"])))
        for event in properties.get("Events", {}).values():
            if event["Type"] == "SQS":
                queue = template.resolve(event["Properties"]["Queue"])
                requests += [Request(f"sqs:{action}", queue)
                             for action in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")]
    return by_function, bucket_key


def sse_kms_requests(request: Request, bucket_key: str) -> list[Request]:
    """S3 asks KMS, as the caller, for the data key of an SSE-KMS object (bucket key: context is the bucket).
    Only the export bucket is SSE-KMS; the attachment buckets are SSE-S3 (their objects are sealed already)."""
    bucket = request.resource.split("/", 1)[0]
    if not bucket.startswith(f"arn:aws:s3:::{STACK}-exports-"):
        return []
    context = (("kms:EncryptionContext:aws:s3:arn", bucket), ("kms:ViaService", f"s3.{REGION}.amazonaws.com"))
    actions = {"s3:PutObject": ("GenerateDataKey", "Decrypt"), "s3:GetObject": ("Decrypt",)}.get(request.action, ())
    return [Request(f"kms:{action}", bucket_key, context) for action in actions]


# --- The test ------------------------------------------------------------------------------------------
@pytest.fixture
def recorded(api: Api, tenant: dict, clock, boto_session) -> tuple[list[Call], Workload]:
    containers: dict[str, Runtime] = {}
    # Sweeps of one page a run: retention and send-surveys keep their cursors between runs (run_sweep).
    # The test OpenID issuer is on http://127.0.0.1 (single_sign_on), as on the local stack.
    config = replace(get_config(), sweep_items_per_run=1, outbound_allow_loopback=True)

    def enter_container(function: str) -> None:
        use_runtime(containers.setdefault(function, Runtime(config=config, clock=clock, session=boto_session)))

    workload = Workload(api, tenant, clock)
    with recording(enter_container) as calls:
        workload.run()
    return calls, workload


def test_every_function_is_allowed_what_it_calls_and_nothing_more(recorded, resources: dict):
    calls, workload = recorded
    assert workload.routes == {(spec.method, spec.path) for spec in ROUTES}, "drive the new route in the workload"
    names = Names()
    template = Template(resources, STACK, PARAMETERS, physical_names(names))
    allowed = policies(resources, template)
    assert {call.function for call in calls} == set(allowed), "an entry point went unused"

    needed, bucket_key = platform_requests(resources, template)
    for function, requests in ERROR_PATHS.items():
        needed[function] += requests
    for call in calls:
        for request in requests_of(call, names):
            needed[call.function] += [request, *sse_kms_requests(request, bucket_key)]
    for requests in needed.values():
        if Request("dynamodb:PutItem", table_arn(f"{STACK}-audit-chains")) in requests:  # it appends
            requests += CONTENDED_APPEND
    needed["audit_verify"] += LINKING_LEFTOVERS
    missing = sorted({f"{function}: {request}" for function, requests in needed.items() for request in requests
                      if not any(statement.allows(request) for statement in allowed[function])})
    assert not missing, "grant these in .chalice/policies/:\n" + "\n".join(missing)

    unused = sorted({f"{function}: {action} on {resource}"
                     for function, granted in allowed.items() for statement in granted
                     for action in statement.actions for resource in statement.resources
                     if not any(Statement([action], [resource], statement.conditions).allows(request)
                                for request in needed[function])})
    assert not unused, "nothing the workload did needs these; remove them:\n" + "\n".join(unused)


def test_no_policy_has_a_wildcard_where_a_narrower_name_exists(resources: dict):
    template = Template(resources, STACK, PARAMETERS, {"DataKey": "arn:aws:kms:us-east-1:1:key/d",
                                                       "AuditSigningKey": "arn:aws:kms:us-east-1:1:key/a",
                                                       "TokenSigningSecret": "arn:aws:secretsmanager:us-east-1:1:s",
                                                       "WebsocketAPI": "api"})
    for name, granted in policies(resources, template).items():
        for statement in granted:
            assert not any("*" in action for action in statement.actions), (name, statement.actions)
            service = statement.actions[0].split(":")[0]
            assert all(action.startswith(service + ":") for action in statement.actions), "one service a statement"
            for resource in statement.resources:
                assert "*" not in resource or (service in NARROW_WILDCARDS
                                               and NARROW_WILDCARDS[service].match(resource)), (name, resource)
