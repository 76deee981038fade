"""Create the resources of infra/template.yaml through boto3, for moto (local stack and tests).

moto's own CloudFormation drops properties that matter here (KMS KeySpec, table TTL, S3 Object
Lock...), so this module resolves the template's intrinsics itself and calls each service's API
with every property the template sets. A resource type or property this module does not know
raises ValueError before anything is created: a template change must not be silently ignored
locally while it takes effect on AWS.

Provisioning is idempotent: resources are found again by name (KMS keys through their alias), so
re-running against the same endpoint creates nothing twice and returns the same physical ids.
"""

from __future__ import annotations

import graphlib
import json
import re
import secrets
import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import boto3
import yaml
from botocore.client import BaseClient
from botocore.exceptions import ClientError

DEFAULT_TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "template.yaml"

Template = dict[str, Any]
Log = Callable[[str], None]
T = TypeVar("T")


# --- Loading -------------------------------------------------------------------------------


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation's short-form tags (!Ref, !Sub, !GetAtt...)."""


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "GetAtt" and isinstance(value, str):
        # "X.Attr.Sub" names resource X's attribute "Attr.Sub": split at the first dot only.
        value = value.split(".", 1)
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    return {f"Fn::{tag_suffix}": value}


def _construct_timestamp_as_string(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    # CloudFormation keeps an unquoted 2012-10-17 (policy Version) a string; YAML would make a date.
    return loader.construct_scalar(node)


_TemplateLoader.add_multi_constructor("!", _construct_intrinsic)
_TemplateLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_string)


def load_template(path: Path = DEFAULT_TEMPLATE) -> Template:
    """Parse a CloudFormation YAML template, turning short-form tags into the long form."""
    with Path(path).open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=_TemplateLoader)  # safe: _TemplateLoader is a SafeLoader


# --- Intrinsic functions -------------------------------------------------------------------

_SUB_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_NO_VALUE = object()  # what Ref AWS::NoValue resolves to: the enclosing property is dropped


def _sub_names(template_string: str) -> Iterator[str]:
    """The names a Fn::Sub string refers to, without the ${!Literal} escapes."""
    for match in _SUB_PLACEHOLDER.finditer(template_string):
        if not match.group(1).startswith("!"):
            yield match.group(1)


def _getatt_target(value: Any) -> tuple[str, str]:
    logical_id, attribute = value.split(".", 1) if isinstance(value, str) else value
    return logical_id, attribute


def _sub_arguments(argument: Any) -> tuple[str, dict[str, Any]]:
    return (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])


def _references(value: Any) -> Iterator[str]:
    """Every name a value refers to through Ref, Fn::GetAtt or Fn::Sub (resources or not)."""
    if isinstance(value, list):
        for item in value:
            yield from _references(item)
    elif isinstance(value, dict):
        if "Ref" in value:
            yield value["Ref"]
        elif "Fn::GetAtt" in value:
            yield _getatt_target(value["Fn::GetAtt"])[0]
        elif "Fn::Sub" in value:
            text, variables = _sub_arguments(value["Fn::Sub"])
            yield from (name.split(".", 1)[0] for name in _sub_names(text) if name not in variables)
            yield from _references(list(variables.values()))
        else:
            yield from _references(list(value.values()))


@dataclass(frozen=True)
class _Resource:
    """A provisioned resource: what Ref returns and what Fn::GetAtt can ask for."""

    physical_id: str
    attributes: Mapping[str, str]


class _Resolver:
    """Resolves intrinsic functions against pseudo parameters, parameters and resources so far."""

    def __init__(self, template: Template, pseudo_parameters: dict[str, str], parameters: dict[str, Any]):
        self._condition_definitions: dict[str, Any] = template.get("Conditions", {})
        self._condition_values: dict[str, bool] = {}
        self._names: dict[str, Any] = {**pseudo_parameters, "AWS::NoValue": _NO_VALUE, **parameters}
        self.resources: dict[str, _Resource] = {}
        self.skipped: set[str] = set()

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key.startswith("Fn::"):
                return self._function(key, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def is_true(self, condition: str) -> bool:
        if condition not in self._condition_values:
            if condition not in self._condition_definitions:
                raise ValueError(f"unknown condition {condition}")
            self._condition_values[condition] = self._evaluate(self._condition_definitions[condition])
        return self._condition_values[condition]

    def _evaluate(self, expression: Any) -> bool:
        (function, argument), = expression.items()
        if function == "Condition":
            return self.is_true(argument)
        if function == "Fn::Equals":
            left, right = (self.resolve(operand) for operand in argument)
            return left == right
        if function == "Fn::Not":
            return not self._evaluate(argument[0])
        if function == "Fn::And":
            return all(self._evaluate(operand) for operand in argument)
        if function == "Fn::Or":
            return any(self._evaluate(operand) for operand in argument)
        raise ValueError(f"unsupported condition function {function}")

    def _function(self, function: str, argument: Any) -> Any:
        if function == "Fn::GetAtt":
            return self._getatt(*_getatt_target(argument))
        if function == "Fn::Sub":
            return self._sub(*_sub_arguments(argument))
        if function == "Fn::If":
            condition, if_true, if_false = argument
            return self.resolve(if_true if self.is_true(condition) else if_false)
        if function == "Fn::Join":
            delimiter, items = argument
            return delimiter.join(str(item) for item in self.resolve(items))
        raise ValueError(f"unsupported intrinsic function {function}")

    def _ref(self, name: str) -> Any:
        if name in self._names:
            return self._names[name]
        return self._resource(name).physical_id

    def _getatt(self, logical_id: str, attribute: str) -> str:
        attributes = self._resource(logical_id).attributes
        if attribute not in attributes:
            raise ValueError(f"unsupported attribute {logical_id}.{attribute}")
        return attributes[attribute]

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        resolved_variables = {name: self.resolve(value) for name, value in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in resolved_variables:
                return str(resolved_variables[name])
            if "." in name and not name.startswith("AWS::"):
                return self._getatt(*_getatt_target(name))
            return str(self._ref(name))

        return _SUB_PLACEHOLDER.sub(substitute, text)

    def _resource(self, logical_id: str) -> _Resource:
        if logical_id in self.skipped:
            raise ValueError(f"{logical_id} is referenced but its Condition is false")
        if logical_id not in self.resources:
            raise ValueError(f"unknown reference {logical_id}")
        return self.resources[logical_id]


# --- Provisioning context ------------------------------------------------------------------


class _Clients:
    """One boto3 client per service, all from the same session and endpoint."""

    def __init__(self, session: boto3.session.Session, endpoint_url: str | None):
        self._session = session
        self._endpoint_url = endpoint_url
        self._clients: dict[str, BaseClient] = {}

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(service, endpoint_url=self._endpoint_url)
        return self._clients[service]


@dataclass(frozen=True)
class _Context:
    client: _Clients
    resolver: _Resolver
    template: Template
    log: Log
    region: str
    account_id: str
    partition: str

    def reported(self, created: bool, what: str, resource: _Resource) -> _Resource:
        self.log(f"{'created' if created else 'found'} {what}")
        return resource


def _is_active(resolver: _Resolver, resource_or_output: dict[str, Any]) -> bool:
    """False when the resource or output has a Condition that is false."""
    return "Condition" not in resource_or_output or resolver.is_true(resource_or_output["Condition"])


def _unless_missing(call: Callable[[], T], *missing_codes: str) -> T | None:
    """The call's result, or None when the service says the resource does not exist."""
    try:
        return call()
    except ClientError as error:
        if error.response["Error"]["Code"] in missing_codes:
            return None
        raise


def _name(props: dict[str, Any], key: str, logical_id: str) -> str:
    # Only a named resource can be found again on the next run; CFN's generated names can't.
    if key not in props:
        raise ValueError(f"{logical_id} needs an explicit {key} to be provisioned idempotently")
    return props[key]


# --- AWS::DynamoDB::Table ------------------------------------------------------------------

_TABLE_PASSTHROUGH = (
    "TableName", "BillingMode", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes", "ProvisionedThroughput", "DeletionProtectionEnabled", "TableClass",
)


def _create_table_arguments(props: dict[str, Any]) -> dict[str, Any]:
    arguments = {key: props[key] for key in _TABLE_PASSTHROUGH if key in props}
    if "SSESpecification" in props:  # CFN says SSEEnabled where the API says Enabled
        sse = dict(props["SSESpecification"])
        arguments["SSESpecification"] = {"Enabled": sse.pop("SSEEnabled"), **sse}
    if "StreamSpecification" in props:  # in CFN, declaring a view type is what enables the stream
        arguments["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    return arguments


def _provision_table(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Resource:
    dynamodb = ctx.client("dynamodb")
    name = _name(props, "TableName", logical_id)
    description = _unless_missing(lambda: dynamodb.describe_table(TableName=name), "ResourceNotFoundException")
    created = description is None
    if created:
        dynamodb.create_table(**_create_table_arguments(props))
        # The waiter describes before it sleeps: moto's tables are ACTIVE at once and cost no delay.
        dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        ttl = props.get("TimeToLiveSpecification", {})
        if ttl.get("Enabled"):
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        pitr = props.get("PointInTimeRecoverySpecification", {})
        if pitr.get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=pitr)
        description = dynamodb.describe_table(TableName=name)
    table = description["Table"]
    attributes = {"Arn": table["TableArn"]}
    if "LatestStreamArn" in table:
        attributes["StreamArn"] = table["LatestStreamArn"]
    return ctx.reported(created, f"table {name}", _Resource(name, attributes))


# --- AWS::KMS::Key and AWS::KMS::Alias -----------------------------------------------------


def _alias_name_of_key(ctx: _Context, key_logical_id: str) -> str:
    """The name of the template's alias for a key: a KMS key has no name to find it by."""
    for logical_id, resource in ctx.template["Resources"].items():
        if (
            resource.get("Type") == "AWS::KMS::Alias"
            and _is_active(ctx.resolver, resource)
            and set(_references(resource["Properties"]["TargetKeyId"])) == {key_logical_id}
        ):
            return ctx.resolver.resolve(resource["Properties"]["AliasName"])
    raise ValueError(f"KMS key {key_logical_id} has no AWS::KMS::Alias to find it again by")


def _create_key_arguments(logical_id: str, props: dict[str, Any]) -> dict[str, Any]:
    key_spec = props.get("KeySpec", "SYMMETRIC_DEFAULT")
    if props.get("EnableKeyRotation") and key_spec != "SYMMETRIC_DEFAULT":
        # AWS rejects this; moto accepts it, so say it here rather than on the first deploy.
        raise ValueError(f"{logical_id}: only SYMMETRIC_DEFAULT keys support rotation, not {key_spec}")
    arguments = {"KeySpec": key_spec, "KeyUsage": props.get("KeyUsage", "ENCRYPT_DECRYPT")}
    if "Description" in props:
        arguments["Description"] = props["Description"]
    if "KeyPolicy" in props:
        policy = props["KeyPolicy"]
        arguments["Policy"] = policy if isinstance(policy, str) else json.dumps(policy)
    return arguments


def _provision_key(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Resource:
    kms = ctx.client("kms")
    alias_name = _alias_name_of_key(ctx, logical_id)
    arguments = _create_key_arguments(logical_id, props)  # checked even when the key exists
    response = _unless_missing(lambda: kms.describe_key(KeyId=alias_name), "NotFoundException")
    created = response is None
    if created:
        response = kms.create_key(**arguments)
        if props.get("EnableKeyRotation"):
            kms.enable_key_rotation(KeyId=response["KeyMetadata"]["KeyId"])
    key = response["KeyMetadata"]
    resource = _Resource(key["KeyId"], {"Arn": key["Arn"], "KeyId": key["KeyId"]})
    return ctx.reported(created, f"KMS key {key['KeyId']} ({alias_name})", resource)


def _provision_alias(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Resource:
    kms = ctx.client("kms")
    name = props["AliasName"]
    created = _unless_missing(lambda: kms.describe_key(KeyId=name), "NotFoundException") is None
    if created:
        kms.create_alias(AliasName=name, TargetKeyId=props["TargetKeyId"])
    arn = f"arn:{ctx.partition}:kms:{ctx.region}:{ctx.account_id}:{name}"
    return ctx.reported(created, f"alias {name}", _Resource(name, {"Arn": arn}))


# --- AWS::SecretsManager::Secret -----------------------------------------------------------

# Secrets Manager's character classes, each with the GenerateSecretString flag that drops it.
_PASSWORD_CLASSES = {
    "ExcludeLowercase": string.ascii_lowercase,
    "ExcludeUppercase": string.ascii_uppercase,
    "ExcludeNumbers": string.digits,
    "ExcludePunctuation": string.punctuation,
}
_PASSWORD_OPTIONS = {*_PASSWORD_CLASSES, "PasswordLength", "ExcludeCharacters", "RequireEachIncludedType"}


def _generate_password(spec: Mapping[str, Any]) -> str:
    """A random string as Secrets Manager's GenerateSecretString would make it."""
    unsupported = spec.keys() - _PASSWORD_OPTIONS
    if unsupported:
        raise ValueError(f"unsupported GenerateSecretString options {sorted(unsupported)}")
    excluded = set(spec.get("ExcludeCharacters", ""))
    classes = [
        kept
        for flag, characters in _PASSWORD_CLASSES.items()
        if not spec.get(flag) and (kept := "".join(c for c in characters if c not in excluded))
    ]
    length = int(spec.get("PasswordLength", 32))  # Secrets Manager's default length
    # Like Secrets Manager, put at least one character of every included class in by default.
    required = classes if spec.get("RequireEachIncludedType", True) else []
    if not classes or length < len(required):
        raise ValueError(f"cannot generate a {length}-character secret from {spec}")
    random = secrets.SystemRandom()
    characters = [random.choice(chars) for chars in required]
    characters += [random.choice("".join(classes)) for _ in range(length - len(characters))]
    random.shuffle(characters)
    return "".join(characters)


def _provision_secret(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Resource:
    secretsmanager = ctx.client("secretsmanager")
    name = _name(props, "Name", logical_id)
    response = _unless_missing(lambda: secretsmanager.describe_secret(SecretId=name), "ResourceNotFoundException")
    created = response is None
    if created:
        if "SecretString" in props:
            value = props["SecretString"]
        else:  # on AWS, CloudFormation has Secrets Manager generate it; create_secret needs the value
            value = _generate_password(props["GenerateSecretString"])
        optional = {key: props[key] for key in ("Description", "KmsKeyId") if key in props}
        response = secretsmanager.create_secret(Name=name, SecretString=value, **optional)
    arn = response["ARN"]  # CFN's Ref of a secret is its ARN
    return ctx.reported(created, f"secret {name}", _Resource(arn, {"Arn": arn}))


# --- AWS::S3::Bucket -----------------------------------------------------------------------


def _bucket_encryption(encryption: dict[str, Any]) -> dict[str, Any]:
    # CFN names the default "ServerSideEncryptionByDefault", the API "ApplyServerSideEncryptionByDefault".
    rules = [
        {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
        | {key: value for key, value in rule.items() if key != "ServerSideEncryptionByDefault"}
        for rule in encryption["ServerSideEncryptionConfiguration"]
    ]
    return {"Rules": rules}


def _configure_bucket(s3: Any, name: str, props: dict[str, Any]) -> None:
    if "VersioningConfiguration" in props:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
    if "ObjectLockConfiguration" in props:
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=props["ObjectLockConfiguration"])
    if "BucketEncryption" in props:
        s3.put_bucket_encryption(
            Bucket=name, ServerSideEncryptionConfiguration=_bucket_encryption(props["BucketEncryption"])
        )
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )


def _provision_bucket(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Resource:
    s3 = ctx.client("s3")
    name = _name(props, "BucketName", logical_id)
    # head_bucket, not create_bucket, tells: us-east-1 answers 200 to re-creating your own bucket.
    created = _unless_missing(lambda: s3.head_bucket(Bucket=name), "404", "NoSuchBucket") is None
    if created:
        arguments: dict[str, Any] = {"Bucket": name}
        if ctx.region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
        if props.get("ObjectLockEnabled"):
            arguments["ObjectLockEnabledForBucket"] = True
        s3.create_bucket(**arguments)
        _configure_bucket(s3, name, props)
    arn = f"arn:{ctx.partition}:s3:::{name}"
    return ctx.reported(created, f"bucket {name}", _Resource(name, {"Arn": arn}))


# --- AWS::SQS::Queue ----------------------------------------------------------------------

_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds", "SqsManagedSseEnabled", "KmsMasterKeyId", "RedrivePolicy",
)


def _provision_queue(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Resource:
    sqs = ctx.client("sqs")
    name = _name(props, "QueueName", logical_id)
    found = _unless_missing(lambda: sqs.get_queue_url(QueueName=name), "AWS.SimpleQueueService.NonExistentQueue",
                            "QueueDoesNotExist")
    created = found is None
    if created:
        # The API takes every attribute as a string; a redrive policy as JSON text.
        attributes = {key: json.dumps(props[key]) if isinstance(props[key], dict) else
                      str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
                      for key in _QUEUE_ATTRIBUTES if key in props}
        found = sqs.create_queue(QueueName=name, Attributes=attributes)
    url = found["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # CloudFormation's Ref of a queue is its URL.
    return ctx.reported(created, f"queue {name}", _Resource(url, {"Arn": arn, "QueueName": name, "QueueUrl": url}))


# --- AWS::SES::EmailIdentity ---------------------------------------------------------------


def _provision_email_identity(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Resource:
    sesv2 = ctx.client("sesv2")
    identity = _name(props, "EmailIdentity", logical_id)
    created = _unless_missing(lambda: sesv2.get_email_identity(EmailIdentity=identity), "NotFoundException") is None
    if created:
        sesv2.create_email_identity(EmailIdentity=identity)
    return ctx.reported(created, f"SES identity {identity}", _Resource(identity, {}))


def _provision_configuration_set(ctx: _Context, logical_id: str, props: dict[str, Any]) -> _Resource:
    sesv2 = ctx.client("sesv2")
    name = _name(props, "Name", logical_id)
    found = _unless_missing(lambda: sesv2.get_configuration_set(ConfigurationSetName=name), "NotFoundException")
    if found is None:
        sesv2.create_configuration_set(ConfigurationSetName=name)
    return ctx.reported(found is None, f"SES configuration set {name}", _Resource(name, {}))


# --- Driver --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ResourceType:
    properties: frozenset[str]
    provision: Callable[[_Context, str, dict[str, Any]], _Resource]


_RESOURCE_TYPES: dict[str, _ResourceType] = {
    "AWS::DynamoDB::Table": _ResourceType(
        frozenset(_TABLE_PASSTHROUGH) | {
            "SSESpecification", "StreamSpecification", "TimeToLiveSpecification",
            "PointInTimeRecoverySpecification",
        },
        _provision_table,
    ),
    "AWS::KMS::Key": _ResourceType(
        frozenset({"Description", "KeySpec", "KeyUsage", "KeyPolicy", "EnableKeyRotation"}), _provision_key
    ),
    "AWS::KMS::Alias": _ResourceType(frozenset({"AliasName", "TargetKeyId"}), _provision_alias),
    "AWS::SecretsManager::Secret": _ResourceType(
        frozenset({"Name", "Description", "KmsKeyId", "SecretString", "GenerateSecretString"}), _provision_secret
    ),
    "AWS::S3::Bucket": _ResourceType(
        frozenset({
            "BucketName", "ObjectLockEnabled", "ObjectLockConfiguration", "VersioningConfiguration",
            "BucketEncryption", "PublicAccessBlockConfiguration",
        }),
        _provision_bucket,
    ),
    "AWS::SQS::Queue": _ResourceType(frozenset({"QueueName", *_QUEUE_ATTRIBUTES}), _provision_queue),
    "AWS::SES::EmailIdentity": _ResourceType(frozenset({"EmailIdentity"}), _provision_email_identity),
    "AWS::SES::ConfigurationSet": _ResourceType(frozenset({"Name"}), _provision_configuration_set),
}


# Not provisioned locally, by name rather than silently: operations resources (the local stack has
# no CloudWatch, SNS or IAM to speak of; SES's bounce and complaint events, which go to SNS, are
# stood in for by POST /dev/ses-events) and entries without a Type, which complete a resource
# Chalice generates (`make package` merges the two) and exist only on AWS with the functions.
# Bucket policies too: moto applies them without their conditions, so the TLS-only deny would refuse
# every request, and the local stack speaks plain HTTP anyway.
AWS_ONLY_MARK = "(completes a Chalice resource)"
AWS_ONLY = frozenset({AWS_ONLY_MARK, "AWS::CloudWatch::Alarm", "AWS::Logs::LogGroup", "AWS::Logs::MetricFilter",
                      "AWS::SNS::Topic", "AWS::SNS::Subscription", "AWS::IAM::Policy",
                      "AWS::SES::ConfigurationSetEventDestination", "AWS::S3::BucketPolicy"})


def _check_supported(resources: dict[str, Any]) -> None:
    """Fail before creating anything if a resource would be provisioned incompletely."""
    for logical_id, resource in resources.items():
        resource_type = _RESOURCE_TYPES.get(resource["Type"])
        if resource_type is None:
            raise ValueError(f"unsupported resource type {resource['Type']} ({logical_id})")
        unsupported = resource.get("Properties", {}).keys() - resource_type.properties
        if unsupported:
            raise ValueError(f"unsupported properties of {resource['Type']} {logical_id}: {sorted(unsupported)}")


def _creation_order(resources: dict[str, Any]) -> list[str]:
    graph: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        explicit = {depends_on} if isinstance(depends_on, str) else set(depends_on)
        if not explicit <= resources.keys():
            raise ValueError(f"{logical_id} DependsOn unknown resources {sorted(explicit - resources.keys())}")
        implicit = {name for name in _references(resource.get("Properties", {})) if name in resources}
        graph[logical_id] = explicit | implicit
    try:
        return list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        raise ValueError(f"circular dependency between resources {error.args[1]}") from error


def _parameter_values(template: Template, overrides: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        if name not in overrides and "Default" not in spec:
            raise ValueError(f"parameter {name} has no value")
        value = overrides.get(name, spec.get("Default"))
        if "AllowedValues" in spec and value not in spec["AllowedValues"]:
            raise ValueError(f"parameter {name}={value!r} is not one of {spec['AllowedValues']}")
        values[name] = value
    return values


def _context(client: _Clients, stack: str, stage: str, template: Template, log: Log) -> _Context:
    region = client("sts").meta.region_name
    account_id = client("sts").get_caller_identity()["Account"]
    partition = "aws"  # Switchboard runs in the commercial partition only
    pseudo_parameters = {
        "AWS::StackName": stack, "AWS::AccountId": account_id, "AWS::Region": region, "AWS::Partition": partition,
    }
    resolver = _Resolver(template, pseudo_parameters, _parameter_values(template, {"Stage": stage}))
    return _Context(client, resolver, template, log, region, account_id, partition)


@dataclass(frozen=True)
class ProvisionedStack:
    """What provision() created or found, keyed by the template's logical ids."""

    stack: str
    physical_ids: dict[str, str]  # logical id -> table name, KMS key id, alias name, secret ARN, bucket name
    arns: dict[str, str]  # logical id -> ARN, for every resource that has one
    outputs: dict[str, str]  # the template's Outputs, resolved

    def env(self) -> dict[str, str]:
        """The environment the Chalice functions read their resource names from."""
        return {"SWITCHBOARD_STACK": self.stack, "SWITCHBOARD_EXPORT_BUCKET": self.outputs["ExportBucketName"]}


def provision(
    session: boto3.session.Session | None = None,
    *,
    stack: str = "switchboard-dev",
    stage: str = "dev",
    endpoint_url: str | None = None,
    template: Template | None = None,
    log: Log = lambda line: None,
) -> ProvisionedStack:
    """Create every resource of the template that does not exist yet, in dependency order.

    Raises ValueError before creating anything for a resource type or property this module
    cannot apply and for a dependency cycle; for an unsupported intrinsic function when met.
    """
    template = load_template() if template is None else template
    resources: dict[str, Any] = {logical_id: resource for logical_id, resource in template.get("Resources", {}).items()
                                 if resource.get("Type", AWS_ONLY_MARK) not in AWS_ONLY}
    _check_supported(resources)
    order = _creation_order(resources)
    ctx = _context(_Clients(session or boto3.session.Session(), endpoint_url), stack, stage, template, log)
    resolver = ctx.resolver
    for logical_id in order:
        resource = resources[logical_id]
        if not _is_active(resolver, resource):
            resolver.skipped.add(logical_id)
            continue
        props = resolver.resolve(resource.get("Properties", {}))
        resolver.resources[logical_id] = _RESOURCE_TYPES[resource["Type"]].provision(ctx, logical_id, props)
    outputs = {
        name: resolver.resolve(output["Value"])
        for name, output in template.get("Outputs", {}).items()
        if _is_active(resolver, output)
    }
    provisioned = resolver.resources.items()
    return ProvisionedStack(
        stack=stack,
        physical_ids={logical_id: resource.physical_id for logical_id, resource in provisioned},
        arns={
            logical_id: resource.attributes["Arn"]
            for logical_id, resource in provisioned
            if "Arn" in resource.attributes
        },
        outputs=outputs,
    )
