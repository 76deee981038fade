"""devstack.provision: what exists on moto after provision() is what infra/template.yaml declares.

Expectations are read from the template, never restated here, so these tests fail when the
template and the provisioned reality disagree.

What moto 5.2.5 cannot show, and so is not asserted:
- that AWS would reject rotation of an asymmetric key (moto enables it; provision refuses itself,
  see test_rotation_of_an_asymmetric_key_is_refused);
- that a key policy is enforced (moto stores it verbatim; we check the stored document);
- DeletionPolicy / UpdateReplacePolicy, which only mean something to CloudFormation.
Everything else the template sets is reported by moto: describe_table includes SSEDescription,
DeletionProtectionEnabled and StreamSpecification; TTL, PITR, key spec/usage/rotation, aliases,
object lock, versioning, bucket encryption and the public access block all read back.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devstack.provision import AWS_ONLY, AWS_ONLY_MARK, ProvisionedStack, load_template, provision

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
REGION = "us-east-1"


def logical_ids(resource_type: str) -> list[str]:
    return [logical_id for logical_id, resource in RESOURCES.items() if resource.get("Type") == resource_type]


def properties(logical_id: str) -> dict[str, Any]:
    return RESOURCES[logical_id]["Properties"]


@dataclass(frozen=True)
class Expected:
    """Template values as AWS would see them once deployed.

    Deliberately handles only the intrinsic forms the template uses (Sub over pseudo parameters,
    Ref, GetAtt Arn, If on a Stage comparison) and fails on anything else: it must stay a
    simple, independent reading of the template, not a second copy of provision's resolver.
    """

    stack: ProvisionedStack
    account_id: str
    stage: str = "dev"

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(item) for item in value]
        if not isinstance(value, dict):
            return value
        if value.keys() == {"Fn::Sub"}:
            return re.sub(r"\$\{(AWS::\w+)\}", lambda match: self._pseudo()[match.group(1)], value["Fn::Sub"])
        if value.keys() == {"Ref"}:
            return self._pseudo().get(value["Ref"]) or self.stack.physical_ids[value["Ref"]]
        if value.keys() == {"Fn::GetAtt"}:
            logical_id, attribute = value["Fn::GetAtt"]
            assert attribute == "Arn", f"teach the test GetAtt {attribute}"
            return self.stack.arns[logical_id]
        if value.keys() == {"Fn::If"}:
            condition, if_true, if_false = value["Fn::If"]
            parameter, compared = TEMPLATE["Conditions"][condition]["Fn::Equals"]
            assert parameter == {"Ref": "Stage"}, f"teach the test condition {condition}"
            return self(if_true if self.stage == compared else if_false)
        return {key: self(item) for key, item in value.items()}

    def _pseudo(self) -> dict[str, str]:
        return {
            "AWS::StackName": self.stack.stack, "AWS::AccountId": self.account_id,
            "AWS::Region": REGION, "AWS::Partition": "aws",
        }


@pytest.fixture(scope="module")
def session() -> Iterator[boto3.session.Session]:
    # One moto account for the module, so the whole template is provisioned once (~1 s); tests
    # that provision something else use their own stack name, hence their own resource names.
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
        with mock_aws():
            yield boto3.session.Session()


@pytest.fixture(scope="module")
def stack(session: boto3.session.Session) -> ProvisionedStack:
    return provision(session)


@pytest.fixture(scope="module")
def expected(session: boto3.session.Session, stack: ProvisionedStack) -> Expected:
    return Expected(stack, session.client("sts").get_caller_identity()["Account"])


# --- The template, provisioned ---------------------------------------------------------------


def index_definitions(indexes: list[dict[str, Any]]) -> dict[str, tuple[Any, Any]]:
    return {index["IndexName"]: (index["KeySchema"], index["Projection"]) for index in indexes}


@pytest.mark.parametrize("logical_id", logical_ids("AWS::DynamoDB::Table"))
def test_table_matches_template(session, stack, expected, logical_id: str) -> None:
    props = expected(properties(logical_id))
    assert stack.physical_ids[logical_id] == props["TableName"]

    table = session.client("dynamodb").describe_table(TableName=props["TableName"])["Table"]

    assert table["KeySchema"] == props["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(props["AttributeDefinitions"], key=str)
    assert index_definitions(table.get("GlobalSecondaryIndexes", [])) == index_definitions(
        props.get("GlobalSecondaryIndexes", [])
    )
    assert index_definitions(table.get("LocalSecondaryIndexes", [])) == index_definitions(
        props.get("LocalSecondaryIndexes", [])
    )
    assert table["BillingModeSummary"]["BillingMode"] == props["BillingMode"]
    sse_enabled = table.get("SSEDescription", {}).get("Status") == "ENABLED"
    assert sse_enabled == props.get("SSESpecification", {}).get("SSEEnabled", False)
    stream = table.get("StreamSpecification", {})
    assert stream.get("StreamViewType") == props.get("StreamSpecification", {}).get("StreamViewType")
    assert table["DeletionProtectionEnabled"] == props.get("DeletionProtectionEnabled", False)
    assert stack.arns[logical_id] == table["TableArn"]


@pytest.mark.parametrize("logical_id", logical_ids("AWS::DynamoDB::Table"))
def test_table_time_to_live_matches_template(session, expected, logical_id: str) -> None:
    props = expected(properties(logical_id))
    ttl = props.get("TimeToLiveSpecification", {"Enabled": False})

    description = session.client("dynamodb").describe_time_to_live(TableName=props["TableName"])

    status = description["TimeToLiveDescription"]
    assert status["TimeToLiveStatus"] == ("ENABLED" if ttl["Enabled"] else "DISABLED")
    assert status.get("AttributeName") == ttl.get("AttributeName")


@pytest.mark.parametrize("logical_id", logical_ids("AWS::DynamoDB::Table"))
def test_table_point_in_time_recovery_matches_template(session, expected, logical_id: str) -> None:
    props = expected(properties(logical_id))
    declared = props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled", False)

    backups = session.client("dynamodb").describe_continuous_backups(TableName=props["TableName"])

    status = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
    assert status == ("ENABLED" if declared else "DISABLED")


def test_prod_stage_turns_on_what_the_template_ties_to_it(session, expected) -> None:
    prod = provision(session, stack="switchboard-prod", stage="prod")
    expected_prod = Expected(prod, expected.account_id, stage="prod")
    dynamodb = session.client("dynamodb")

    for logical_id in logical_ids("AWS::DynamoDB::Table"):
        props = expected_prod(properties(logical_id))
        table = dynamodb.describe_table(TableName=props["TableName"])["Table"]
        assert table["DeletionProtectionEnabled"] == props.get("DeletionProtectionEnabled", False), logical_id


@pytest.mark.parametrize("logical_id", logical_ids("AWS::KMS::Key"))
def test_kms_key_matches_template(session, stack, expected, logical_id: str) -> None:
    props = expected(properties(logical_id))
    kms = session.client("kms")
    key_id = stack.physical_ids[logical_id]

    key = kms.describe_key(KeyId=key_id)["KeyMetadata"]

    assert key["KeySpec"] == props["KeySpec"]
    assert key["KeyUsage"] == props["KeyUsage"]
    assert key["Description"] == props["Description"]
    assert key["Arn"] == stack.arns[logical_id]
    assert json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]) == props["KeyPolicy"]
    if "EnableKeyRotation" in props:
        assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] == props["EnableKeyRotation"]


@pytest.mark.parametrize("logical_id", logical_ids("AWS::KMS::Alias"))
def test_alias_resolves_to_its_key(session, stack, expected, logical_id: str) -> None:
    props = expected(properties(logical_id))
    assert stack.physical_ids[logical_id] == props["AliasName"]

    key = session.client("kms").describe_key(KeyId=props["AliasName"])["KeyMetadata"]

    assert key["KeyId"] == props["TargetKeyId"]


@pytest.mark.parametrize("logical_id", logical_ids("AWS::SecretsManager::Secret"))
def test_secret_matches_template(session, stack, expected, logical_id: str) -> None:
    props = expected(properties(logical_id))
    secretsmanager = session.client("secretsmanager")

    secret = secretsmanager.describe_secret(SecretId=props["Name"])
    value = secretsmanager.get_secret_value(SecretId=props["Name"])["SecretString"]

    assert stack.physical_ids[logical_id] == secret["ARN"]
    assert secret["Description"] == props["Description"]
    generated = props["GenerateSecretString"]
    assert len(value) == generated["PasswordLength"]
    if generated.get("ExcludePunctuation"):
        assert not set(value) & set(string.punctuation)


@pytest.mark.parametrize("logical_id", logical_ids("AWS::S3::Bucket"))
def test_bucket_matches_template(session, stack, expected, logical_id: str) -> None:
    props = expected(properties(logical_id))
    s3 = session.client("s3")
    bucket = props["BucketName"]
    assert stack.physical_ids[logical_id] == bucket

    if "ObjectLockConfiguration" in props:
        lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
        assert lock["ObjectLockEnabled"] == props["ObjectLockConfiguration"]["ObjectLockEnabled"]
        declared_retention = props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
        retention = lock["Rule"]["DefaultRetention"]
        assert {key: retention[key] for key in declared_retention} == declared_retention

    if "VersioningConfiguration" in props:
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == props["VersioningConfiguration"]["Status"]

    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    declared_rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert [(rule["ApplyServerSideEncryptionByDefault"], rule.get("BucketKeyEnabled", False)) for rule in rules] == [
        (rule["ServerSideEncryptionByDefault"], rule.get("BucketKeyEnabled", False)) for rule in declared_rules
    ]

    if "CorsConfiguration" in props:
        [cors] = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
        [declared_cors] = props["CorsConfiguration"]["CorsRules"]
        assert (cors["AllowedMethods"], cors["AllowedOrigins"], cors["MaxAgeSeconds"]) == (
            declared_cors["AllowedMethods"], declared_cors["AllowedOrigins"], declared_cors["MaxAge"])

    if "NotificationConfiguration" in props:
        [queue] = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
        [declared_queue] = props["NotificationConfiguration"]["QueueConfigurations"]
        assert (queue["Events"], queue["QueueArn"]) == ([declared_queue["Event"]], declared_queue["Queue"])
        if "Filter" in declared_queue:
            assert queue["Filter"]["Key"]["FilterRules"] == declared_queue["Filter"]["S3Key"]["Rules"]

    public_access = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert public_access == props["PublicAccessBlockConfiguration"]


@pytest.mark.parametrize("logical_id", logical_ids("AWS::SQS::Queue"))
def test_queue_matches_template(session, stack, expected, logical_id: str) -> None:
    props = expected(properties(logical_id))
    sqs = session.client("sqs")
    url = sqs.get_queue_url(QueueName=props["QueueName"])["QueueUrl"]
    assert stack.physical_ids[logical_id] == url
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    for name, value in props.items():
        if name == "QueueName":
            continue
        stored = attributes[name]
        if isinstance(value, dict):
            assert {key: str(item) for key, item in json.loads(stored).items()} == {
                key: str(item) for key, item in value.items()}
        else:
            assert stored.lower() == str(value).lower()


def test_outputs_and_env_come_from_the_template(stack, expected) -> None:
    declared = {name: expected(output["Value"]) for name, output in TEMPLATE["Outputs"].items()}

    assert stack.outputs == declared
    assert stack.env() == {
        "SWITCHBOARD_STACK": declared["StackPrefix"],
        "SWITCHBOARD_EXPORT_BUCKET": declared["ExportBucketName"],
        "SWITCHBOARD_UPLOAD_BUCKET": declared["UploadBucketName"],
        "SWITCHBOARD_ATTACHMENT_BUCKET": declared["AttachmentBucketName"],
    }


def resource_counts(session: boto3.session.Session) -> dict[str, int]:
    return {
        "tables": len(session.client("dynamodb").list_tables()["TableNames"]),
        "keys": len(session.client("kms").list_keys()["Keys"]),
        "aliases": len(session.client("kms").list_aliases()["Aliases"]),
        "secrets": len(session.client("secretsmanager").list_secrets()["SecretList"]),
        "buckets": len(session.client("s3").list_buckets()["Buckets"]),
    }


def test_provisioning_again_creates_nothing_and_returns_the_same_ids(session, stack) -> None:
    before = resource_counts(session)
    lines: list[str] = []

    again = provision(session, log=lines.append)

    assert again == stack
    assert resource_counts(session) == before
    # Completions of Chalice's functions and the operations resources exist only on AWS.
    aws_only = [logical_id for logical_id, resource in RESOURCES.items()
                if resource.get("Type", AWS_ONLY_MARK) in AWS_ONLY]
    assert {"AuditExport", "RerouteStale", "AlarmTopic", "FunctionErrorsAlarm", "AuditVerifyLogs"} <= set(aws_only)
    assert not set(aws_only) & again.physical_ids.keys()
    assert len(lines) == len(RESOURCES) - len(aws_only)
    assert not [line for line in lines if line.startswith("created")]


# --- Template handling on tiny templates -----------------------------------------------------

KEY_WITH_ALIAS = {
    "Key": {"Type": "AWS::KMS::Key", "Properties": {"Description": "test key"}},
    "KeyAlias": {
        "Type": "AWS::KMS::Alias",
        "Properties": {"AliasName": {"Fn::Sub": "alias/${AWS::StackName}"}, "TargetKeyId": {"Ref": "Key"}},
    },
}


def test_load_template_turns_short_forms_into_long_forms(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Conditions:\n"
        "  A: !Equals [!Ref Stage, prod]\n"
        "  B: !Not [!Condition A]\n"
        "  C: !And [!Condition A, !Or [!Condition B, !Condition A]]\n"
        "Outputs:\n"
        "  Arn: {Value: !GetAtt Table.Arn}\n"
        "  Stream: {Value: !GetAtt [Table, StreamArn]}\n"
        "  Sub: {Value: !Sub '${AWS::StackName}-x'}\n"
        "  SubVars: {Value: !Sub ['${N}', {N: !Ref Table}]}\n"
        "  Join: {Value: !Join ['-', [a, !If [A, b, c]]]}\n"
        "  Version: {Value: 2012-10-17}\n"
    )

    template = load_template(path)

    assert template["Conditions"] == {
        "A": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "B": {"Fn::Not": [{"Condition": "A"}]},
        "C": {"Fn::And": [{"Condition": "A"}, {"Fn::Or": [{"Condition": "B"}, {"Condition": "A"}]}]},
    }
    assert {name: output["Value"] for name, output in template["Outputs"].items()} == {
        "Arn": {"Fn::GetAtt": ["Table", "Arn"]},
        "Stream": {"Fn::GetAtt": ["Table", "StreamArn"]},
        "Sub": {"Fn::Sub": "${AWS::StackName}-x"},
        "SubVars": {"Fn::Sub": ["${N}", {"N": {"Ref": "Table"}}]},
        "Join": {"Fn::Join": ["-", ["a", {"Fn::If": ["A", "b", "c"]}]]},
        "Version": "2012-10-17",  # a string, as in CloudFormation, not a date
    }


def test_sub_getatt_join_and_if_resolve_in_dependency_order(session) -> None:
    # The secret comes first in the file but refers to the table, which must be created first.
    template = {
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
            "IsNotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
            "Always": {"Fn::Or": [{"Condition": "IsProd"}, {"Fn::And": [{"Condition": "IsNotProd"}]}]},
        },
        "Resources": {
            "Secret": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {
                    "Name": {"Fn::Sub": ["${AWS::StackName}/${Suffix}", {"Suffix": {"Ref": "Stage"}}]},
                    "SecretString": {"Fn::Sub": "${Table}|${Table.Arn}|${!Literal}|${AWS::Region}"},
                },
            },
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "TableName": {"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, "table"]]},
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                    "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
                },
            },
        },
        "Outputs": {
            "TableArn": {"Value": {"Fn::GetAtt": ["Table", "Arn"]}},
            "StreamArn": {"Value": {"Fn::GetAtt": ["Table", "StreamArn"]}},
            "Account": {"Value": {"Fn::Sub": "${AWS::AccountId}:${AWS::Partition}"}},
            "Chosen": {"Value": {"Fn::If": ["Always", "yes", "no"]}},
        },
    }

    resolved = provision(session, stack="resolve", template=template)

    table = session.client("dynamodb").describe_table(TableName="resolve-table")["Table"]
    secret = session.client("secretsmanager").get_secret_value(SecretId="resolve/dev")
    account = session.client("sts").get_caller_identity()["Account"]
    assert secret["SecretString"] == f"resolve-table|{table['TableArn']}|${{Literal}}|{REGION}"
    assert resolved.outputs == {
        "TableArn": table["TableArn"],
        "StreamArn": table["LatestStreamArn"],
        "Account": f"{account}:aws",
        "Chosen": "yes",
    }


def test_resource_whose_condition_is_false_is_skipped(session) -> None:
    template = {
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
        "Resources": {
            **KEY_WITH_ALIAS,
            "ProdOnlySecret": {
                "Type": "AWS::SecretsManager::Secret",
                "Condition": "IsProd",
                "Properties": {"Name": "conditional/prod-only", "SecretString": "x"},
            },
        },
        "Outputs": {"ProdOnly": {"Condition": "IsProd", "Value": {"Ref": "ProdOnlySecret"}}},
    }

    dev = provision(session, stack="conditional", stage="dev", template=template)

    assert set(dev.physical_ids) == {"Key", "KeyAlias"}
    assert dev.outputs == {}
    secrets = session.client("secretsmanager").list_secrets()["SecretList"]
    assert "conditional/prod-only" not in {secret["Name"] for secret in secrets}


def test_unsupported_resource_type_is_named_and_nothing_is_created(session) -> None:
    template = {"Resources": {**KEY_WITH_ALIAS, "Cache": {"Type": "AWS::ElastiCache::CacheCluster", "Properties": {}}}}
    aliases_before = session.client("kms").list_aliases()["Aliases"]

    with pytest.raises(ValueError, match=r"unsupported resource type AWS::ElastiCache::CacheCluster"):
        provision(session, stack="unsupported", template=template)

    assert session.client("kms").list_aliases()["Aliases"] == aliases_before


def test_unsupported_property_is_named(session) -> None:
    key = {"Type": "AWS::KMS::Key", "Properties": {"MultiRegion": True}}

    with pytest.raises(ValueError, match=r"MultiRegion"):
        provision(session, stack="unsupported-property", template={"Resources": {**KEY_WITH_ALIAS, "Key": key}})


def test_rotation_of_an_asymmetric_key_is_refused(session) -> None:
    key = {
        "Type": "AWS::KMS::Key",
        "Properties": {"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY", "EnableKeyRotation": True},
    }

    with pytest.raises(ValueError, match=r"rotation"):
        provision(session, stack="rotation", template={"Resources": {**KEY_WITH_ALIAS, "Key": key}})


def test_key_without_alias_is_refused(session) -> None:
    # Without an alias a second run could not find the key and would create another one.
    with pytest.raises(ValueError, match=r"Key has no AWS::KMS::Alias"):
        provision(session, stack="no-alias", template={"Resources": {"Key": KEY_WITH_ALIAS["Key"]}})


def test_circular_dependency_is_refused(session) -> None:
    template = {
        "Resources": {
            "A": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "a-bucket"}, "DependsOn": "B"},
            "B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Fn::Sub": "${A}-b"}}},
        }
    }

    with pytest.raises(ValueError, match=r"circular"):
        provision(session, stack="cycle", template=template)


def test_stage_must_be_an_allowed_value(session) -> None:
    with pytest.raises(ValueError, match=r"Stage"):
        provision(session, stack="bad-stage", stage="staging")
