"""Keys and buckets of the packaged template: only the roles of the functions that sign audit digests
may Sign with the audit key, whatever IAM grants; no key policy allows a use of a key that no
function makes; every bucket refuses requests that are not over TLS.

Key policies are evaluated here as KMS does for a caller of this account: an explicit Deny wins; an
Allow to the account root hands the decision to IAM. Chalice gives each function a role named
`{Function}Role` with a generated name; the signers' roles are told apart by the Path infra/ gives them.
"""
from __future__ import annotations

import fnmatch
from typing import Any

from tests.deploy.conftest import functions
from tests.deploy.iam import ACCOUNT, REGION, Template, statements

STACK = "switchboard-prod"
KEYS = {"DataKey": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/data",
        "AuditSigningKey": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/audit"}
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
# What a KMS key can be used for, as opposed to administered (kms:GetPublicKey reads the public half).
KMS_USES = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
            "kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext",
            "kms:GenerateMac", "kms:VerifyMac", "kms:Sign", "kms:Verify", "kms:DeriveSharedSecret")


def template(resources: dict) -> Template:
    # Names only the deployed stack knows, for resolving every role's policy.
    physical = {**KEYS, "WebsocketAPI": "wsapi",
                "TokenSigningSecret": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{STACK}/token-signing-AbCdEf"}
    return Template(resources, STACK, {"Stage": "prod", "MailDomain": "mail.example.com", "PublicUrl": "",
                                       "AlarmEmail": "", "WebSocketUrl": ""}, physical)


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_arns(resources: dict, t: Template) -> dict[str, str]:
    """Each function's role ARN as AWS would form it: the Path, then a generated name."""
    arns = {}
    for name, properties in functions(resources).items():
        role = properties["Role"]["Fn::GetAtt"][0]
        path = t.resolve(resources[role]["Properties"].get("Path", "/"))
        arns[name] = f"arn:aws:iam::{ACCOUNT}:role{path}{STACK}-{role}-1A2B3C4D5E6F"
    return arns


def granted_uses(resources: dict, t: Template, key: str) -> dict[str, set[str]]:
    """Each use of the key that a function's role policy grants, with the functions granted it."""
    uses: dict[str, set[str]] = {}
    for name, properties in functions(resources).items():
        role = resources[properties["Role"]["Fn::GetAtt"][0]]["Properties"]
        for policy in role.get("Policies", []):
            for statement in statements(t.resolve(policy["PolicyDocument"])):
                if KEYS[key] in statement.resources:
                    for use in KMS_USES:
                        if any(fnmatch.fnmatchcase(use.lower(), action.lower()) for action in statement.actions):
                            uses.setdefault(use, set()).add(name)
    return uses


def key_policy_allows(policy: dict[str, Any], action: str, principal_arn: str) -> bool:
    """Whether the key policy lets a principal of this account do action (IAM permitting)."""
    allowed = False
    for statement in listed(policy["Statement"]):
        principal = statement["Principal"]
        principals = listed(principal["AWS"]) if isinstance(principal, dict) else [principal]
        applies = (any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in listed(statement["Action"]))
                   and any(p in ("*", ROOT, principal_arn) for p in principals)
                   and all(condition_holds(operator, key, expected, principal_arn)
                           for operator, tests in statement.get("Condition", {}).items()
                           for key, expected in tests.items()))
        if applies and statement["Effect"] == "Deny":
            return False
        allowed = allowed or applies
    return allowed


def condition_holds(operator: str, key: str, expected: Any, principal_arn: str) -> bool:
    assert key == "aws:PrincipalArn", f"condition key {key} is not understood here; add it"
    matches = any(fnmatch.fnmatchcase(principal_arn, pattern) for pattern in listed(expected))
    return {"ArnLike": matches, "ArnEquals": principal_arn in listed(expected), "ArnNotLike": not matches,
            "ArnNotEquals": principal_arn not in listed(expected)}[operator]


def key_policy(resources: dict, t: Template, key: str) -> dict[str, Any]:
    return t.resolve(resources[key]["Properties"]["KeyPolicy"])


def test_only_the_roles_of_the_functions_that_sign_digests_may_sign(resources: dict):
    t = template(resources)
    signers = granted_uses(resources, t, "AuditSigningKey")["kms:Sign"]
    # audit-verify signs checkpoints, the export worker export trailers (chalicelib/audit/signing.py), the
    # API erasure receipts and the retention job its attestations (docs/audit.md, Proof of forgetting).
    assert signers == {"AuditVerify", "AuditExport", "APIHandler", "Retention"}
    policy = key_policy(resources, t, "AuditSigningKey")
    roles = role_arns(resources, t)
    for function, arn in roles.items():
        assert key_policy_allows(policy, "kms:Sign", arn) == (function in signers), function
    # Nobody else, however IAM is set: an administrator, the account, a role named like a signer's.
    for outsider in (f"arn:aws:iam::{ACCOUNT}:user/admin", ROOT, f"arn:aws:iam::{ACCOUNT}:role/ops",
                     roles["AuditVerify"].replace(f"/{REGION}/", "/eu-west-1/"),
                     f"arn:aws:iam::{ACCOUNT}:role/{STACK}-AuditVerifyRole-1A2B3C4D5E6F"):
        assert not key_policy_allows(policy, "kms:Sign", outsider), outsider
    # Explicitly denied to them, not merely not allowed: a later Allow cannot widen it.
    deny = [s for s in policy["Statement"] if s["Effect"] == "Deny" and "kms:Sign" in listed(s["Action"])]
    assert deny and deny[0]["Principal"] in ("*", {"AWS": "*"})
    # The Path that tells a signer's role is its own.
    paths = [t.resolve(r["Properties"].get("Path", "/")) for r in resources.values() if r["Type"] == "AWS::IAM::Role"]
    for function in signers:
        role = resources[functions(resources)[function]["Role"]["Fn::GetAtt"][0]]
        assert paths.count(t.resolve(role["Properties"]["Path"])) == 1, function


def test_key_policies_allow_exactly_the_uses_the_functions_make(resources: dict):
    """Not kms:*: a use no role is granted is not allowed either; and each one granted works on AWS."""
    t = template(resources)
    for key in KEYS:
        policy = key_policy(resources, t, key)
        roles = role_arns(resources, t)
        granted = granted_uses(resources, t, key)
        allowed = {use for use in KMS_USES if any(key_policy_allows(policy, use, arn) for arn in roles.values())}
        assert allowed == set(granted), key
        for use, users in granted.items():
            assert all(key_policy_allows(policy, use, roles[function]) for function in users), (key, use)
        assert key_policy_allows(policy, "kms:PutKeyPolicy", ROOT), key  # the account can still administer it
    audit_uses = granted_uses(resources, t, "AuditSigningKey")
    assert set(audit_uses) == {"kms:Sign"}  # GetPublicKey is read by kms:Get*, not a use


def test_every_bucket_refuses_requests_that_are_not_over_tls(resources: dict):
    t = template(resources)
    buckets = [name for name, resource in resources.items() if resource["Type"] == "AWS::S3::Bucket"]
    assert buckets
    policies = {resource["Properties"]["Bucket"]["Ref"]: t.resolve(resource["Properties"]["PolicyDocument"])
                for resource in resources.values() if resource["Type"] == "AWS::S3::BucketPolicy"}
    for bucket in buckets:
        arn = t.arn(bucket)
        denies = [statement for statement in listed(policies.get(bucket, {"Statement": []})["Statement"])
                  if statement["Effect"] == "Deny" and statement["Principal"] in ("*", {"AWS": "*"})
                  and listed(statement["Action"]) == ["s3:*"]
                  and {arn, f"{arn}/*"} <= set(listed(statement["Resource"]))]
        conditions = [statement["Condition"] for statement in denies]
        assert {"Bool": {"aws:SecureTransport": "false"}} in conditions, bucket
        assert {"NumericLessThan": {"s3:TlsVersion": "1.2"}} in conditions, bucket
