"""What each Lambda function asks of AWS, and what its role's policy allows.

Calls are recorded as the code makes them, boto3's and pynamodb's alike (both end in botocore's
`_make_api_call`; presigned URLs in `generate_presigned_url`), each with the Lambda function that
made it: Chalice's REST app is `api_handler`, every other handler is named after its function.
Each call then becomes the IAM requests AWS would authorize (action, resource ARN, context keys),
and a small evaluator answers them from the policy documents of the packaged template.
"""
from __future__ import annotations

import contextlib
import contextvars
import fnmatch
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from botocore.client import BaseClient
from botocore.signers import RequestSigner, S3PostPresigner
from chalice.app import Chalice, EventSourceHandler

REGION, ACCOUNT = "us-east-1", "123456789012"
LAMBDA_FUNCTION: contextvars.ContextVar[str | None] = contextvars.ContextVar("lambda_function", default=None)


@dataclass
class Call:
    function: str
    service: str  # botocore's service name
    operation: str
    params: dict[str, Any]


@contextlib.contextmanager
def recording(enter_container: Callable[[str], None]) -> Iterator[list[Call]]:
    """Every AWS call made inside a Lambda handler while the block runs, with its function.

    Each function runs in a container of its own (`enter_container(name)` switches to it), as on
    AWS: what one function cached (a secret, a key) another still has to fetch itself."""
    calls: list[Call] = []

    def as_function(name_of: Callable[[Any], str], original: Callable[..., Any]) -> Callable[..., Any]:
        def invoke(self: Any, *args: Any, **kwargs: Any) -> Any:
            if LAMBDA_FUNCTION.get() is None:
                enter_container(name_of(self))
            token = LAMBDA_FUNCTION.set(LAMBDA_FUNCTION.get() or name_of(self))
            try:
                return original(self, *args, **kwargs)
            finally:
                LAMBDA_FUNCTION.reset(token)
        return invoke

    def api_call(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        function = LAMBDA_FUNCTION.get()
        if function is not None:
            calls.append(Call(function, self.meta.service_model.service_name, operation, params))
        return make_api_call(self, operation, params)

    def presign(self: RequestSigner, request_dict: dict[str, Any], operation_name: str, *args: Any,
                **kwargs: Any) -> str:
        function = LAMBDA_FUNCTION.get()
        if function is not None:
            # Whoever fetches the URL acts with this function's credentials.
            url = urlparse(request_dict["url"])
            calls.append(Call(function, self._service_id.hyphenize(), operation_name,
                              {"Bucket": url.hostname.split(".")[0], "Key": url.path.lstrip("/")}))
        return generate_presigned_url(self, request_dict, operation_name, *args, **kwargs)

    def presign_post(self: S3PostPresigner, request_dict: dict[str, Any], fields: dict[str, str], *args: Any,
                     **kwargs: Any) -> dict[str, Any]:
        function = LAMBDA_FUNCTION.get()
        if function is not None:
            # The browser that posts the form acts with this function's credentials: a PutObject.
            calls.append(Call(function, "s3", "PutObject",
                              {"Bucket": urlparse(request_dict["url"]).hostname.split(".")[0], "Key": fields["key"]}))
        return generate_presigned_post(self, request_dict, fields, *args, **kwargs)

    make_api_call, generate_presigned_url = BaseClient._make_api_call, RequestSigner.generate_presigned_url
    generate_presigned_post = S3PostPresigner.generate_presigned_post
    rest_call, event_call = Chalice.__call__, EventSourceHandler.__call__
    BaseClient._make_api_call = api_call
    RequestSigner.generate_presigned_url = presign
    S3PostPresigner.generate_presigned_post = presign_post
    Chalice.__call__ = as_function(lambda app: "api_handler", rest_call)
    EventSourceHandler.__call__ = as_function(lambda handler: handler.func.__name__, event_call)
    try:
        yield calls
    finally:
        BaseClient._make_api_call, RequestSigner.generate_presigned_url = make_api_call, generate_presigned_url
        S3PostPresigner.generate_presigned_post = generate_presigned_post
        Chalice.__call__, EventSourceHandler.__call__ = rest_call, event_call


# --- Calls as IAM requests ----------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()  # condition keys AWS sets, e.g. kms:EncryptionContext:tenant_id

    def __str__(self) -> str:
        return f"{self.action} on {self.resource}" + (f" with {dict(self.context)}" if self.context else "")


@dataclass
class Names:
    """Physical ARNs of the resources the code names by id, alias or URL."""
    key_arns: dict[str, str] = field(default_factory=dict)  # KeyId or alias -> key ARN
    data_key: str = ""  # what a Decrypt without KeyId opens: the only symmetric key
    secret_arns: dict[str, str] = field(default_factory=dict)  # SecretId -> ARN
    ws_api: str = "test"
    ws_stage: str = "dev"


_TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                     "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
_S3_ACTIONS = {"CreateMultipartUpload": "PutObject", "UploadPart": "PutObject",
               "CompleteMultipartUpload": "PutObject", "AbortMultipartUpload": "AbortMultipartUpload",
               "PutObject": "PutObject", "GetObject": "GetObject", "HeadObject": "GetObject",
               "ListParts": "ListMultipartUploadParts", "DeleteObject": "DeleteObject"}
_CONNECTION_METHODS = {"PostToConnection": "POST", "GetConnection": "GET", "DeleteConnection": "DELETE"}


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def requests_of(call: Call, names: Names) -> list[Request]:
    p, op = call.params, call.operation
    if call.service == "dynamodb":
        if op in ("TransactWriteItems", "TransactGetItems"):
            return [Request(f"dynamodb:{_TRANSACT_ACTIONS[kind]}", table_arn(item[kind]["TableName"]))
                    for item in p["TransactItems"] for kind in item]
        if op in ("BatchWriteItem", "BatchGetItem"):
            return [Request(f"dynamodb:{op}", table_arn(table)) for table in p["RequestItems"]]
        index = f"/index/{p['IndexName']}" if p.get("IndexName") else ""
        return [Request(f"dynamodb:{op}", table_arn(p["TableName"]) + index)]
    if call.service == "kms":
        context = tuple((f"kms:EncryptionContext:{k}", v) for k, v in sorted(p.get("EncryptionContext", {}).items()))
        keys = tuple(("kms:EncryptionContextKeys", k) for k, _ in sorted(p.get("EncryptionContext", {}).items()))
        return [Request(f"kms:{op}", names.key_arns[p["KeyId"]] if "KeyId" in p else names.data_key, context + keys)]
    if call.service == "s3" and op == "DeleteObjects":  # authorized as a DeleteObject of each key
        return [Request("s3:DeleteObject", f"arn:aws:s3:::{p['Bucket']}/{o['Key']}") for o in p["Delete"]["Objects"]]
    if call.service == "s3":
        arn = f"arn:aws:s3:::{p['Bucket']}/{p['Key']}"
        if op == "PutObject" and "ObjectLockMode" in p:  # S3 authorizes the retention an object is put with too
            return [Request("s3:PutObject", arn), Request("s3:PutObjectRetention", arn)]
        return [Request(f"s3:{_S3_ACTIONS[op]}", arn)]
    if call.service == "sqs":
        name = p["QueueName"] if "QueueName" in p else p["QueueUrl"].rstrip("/").rsplit("/", 1)[1]
        return [Request(f"sqs:{op}", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}")]
    if call.service == "secretsmanager":
        return [Request(f"secretsmanager:{op}", names.secret_arns[p["SecretId"]])]
    if call.service == "ses":
        domain = re.sub(r".*@", "", p["Source"]).rstrip(">")
        sending = [Request(f"ses:{op}", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{domain}")]
        if "ConfigurationSetName" in p:  # SES authorizes the configuration set a message names too
            sending.append(Request(f"ses:{op}", f"arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/"
                                                f"{p['ConfigurationSetName']}"))
        return sending
    if call.service == "apigatewaymanagementapi":
        return [Request("execute-api:ManageConnections",
                        f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{names.ws_api}/{names.ws_stage}/"
                        f"{_CONNECTION_METHODS[op]}/@connections/{p['ConnectionId']}")]
    raise AssertionError(f"no IAM mapping for {call.service}:{op}; add one here")


# --- Policies ------------------------------------------------------------------------------------
class Template:
    """Resolves the intrinsic functions of a (SAM-transformed) template for one stack in moto."""

    def __init__(self, resources: dict[str, Any], stack: str, parameters: dict[str, str],
                 physical: dict[str, str]) -> None:
        self.resources = resources
        self.refs = {"AWS::StackName": stack, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                     "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", **parameters, **physical}

    def ref(self, name: str) -> str:
        if name in self.refs:
            return self.refs[name]
        properties = self.resources[name]["Properties"]
        for key in ("TableName", "QueueName", "BucketName", "FunctionName", "LogGroupName", "TopicName"):
            if key in properties:
                return self.resolve(properties[key])
        raise AssertionError(f"cannot resolve Ref {name}")

    def arn(self, name: str) -> str:
        kind, value = self.resources[name]["Type"], self.ref(name)
        return {"AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{value}",
                "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{value}",
                "AWS::S3::Bucket": f"arn:aws:s3:::{value}",
                "AWS::Logs::LogGroup": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{value}:*",
                "AWS::KMS::Key": value}.get(kind) or self._unresolvable(name)

    @staticmethod
    def _unresolvable(name: str) -> str:
        raise AssertionError(f"cannot resolve the ARN of {name}")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(function, argument)] = value.items()
            if function == "Ref":
                return self.ref(argument)
            if function == "Fn::GetAtt":
                assert argument[1] == "Arn", argument
                return self.arn(argument[0])
            if function == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                return re.sub(r"\$\{([^}]+)\}", lambda m: self._sub(m.group(1), variables), text)
            if function == "Fn::Join":
                return argument[0].join(self.resolve(argument[1]))
            assert not function.startswith("Fn::"), f"{function} is not supported in policies"
        return {key: self.resolve(item) for key, item in value.items()}

    def _sub(self, name: str, variables: dict[str, Any]) -> str:
        if name in variables:
            return self.resolve(variables[name])
        if name.endswith(".Arn"):
            return self.arn(name[:-4])
        return self.ref(name)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass
class Statement:
    actions: list[str]
    resources: list[str]
    conditions: dict[str, dict[str, Any]]

    def allows(self, request: Request) -> bool:
        return (any(fnmatch.fnmatchcase(request.action.lower(), a.lower()) for a in self.actions)
                and any(fnmatch.fnmatchcase(request.resource, r) for r in self.resources)
                and all(_holds(operator, key, expected, request)
                        for operator, tests in self.conditions.items() for key, expected in tests.items()))


def _holds(operator: str, key: str, expected: Any, request: Request) -> bool:
    present = [value for name, value in request.context if name == key]
    wanted = [str(value) for value in _listed(expected)]
    if operator == "StringEquals":
        return len(present) == 1 and present[0] in wanted
    if operator == "ForAllValues:StringEquals":
        return all(value in wanted for value in present)
    if operator == "Null":
        return (not present) == (str(expected).lower() == "true")
    raise AssertionError(f"condition operator {operator} is not understood here; add it")


def statements(document: dict[str, Any]) -> list[Statement]:
    found = []
    for statement in _listed(document["Statement"]):
        assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        found.append(Statement(_listed(statement["Action"]), _listed(statement["Resource"]),
                               statement.get("Condition", {})))
    return found
