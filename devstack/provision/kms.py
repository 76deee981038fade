"""AWS::KMS::Key and AWS::KMS::Alias: a key is found again through the template's alias for it."""

from __future__ import annotations

import json
from typing import Any

from .context import Context, ResourceType, unless_missing
from .intrinsics import Resource, is_active, references


def _alias_name_of_key(ctx: Context, key_logical_id: str) -> str:
    """The name of the template's alias for a key: a KMS key has no name to find it by."""
    for resource in ctx.template["Resources"].values():
        if (
            resource.get("Type") == "AWS::KMS::Alias"
            and is_active(ctx.resolver, resource)
            and set(references(resource["Properties"]["TargetKeyId"])) == {key_logical_id}
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


def _provision_key(ctx: Context, logical_id: str, props: dict[str, Any]) -> Resource:
    kms = ctx.client("kms")
    alias_name = _alias_name_of_key(ctx, logical_id)
    arguments = _create_key_arguments(logical_id, props)  # checked even when the key exists
    response = unless_missing(lambda: kms.describe_key(KeyId=alias_name), "NotFoundException")
    created = response is None
    if response is None:
        response = kms.create_key(**arguments)
        if props.get("EnableKeyRotation"):
            kms.enable_key_rotation(KeyId=response["KeyMetadata"]["KeyId"])
    key = response["KeyMetadata"]
    resource = Resource(key["KeyId"], {"Arn": key["Arn"], "KeyId": key["KeyId"]})
    return ctx.reported(created, f"KMS key {key['KeyId']} ({alias_name})", resource)


def _provision_alias(ctx: Context, logical_id: str, props: dict[str, Any]) -> Resource:
    kms = ctx.client("kms")
    name = props["AliasName"]
    created = unless_missing(lambda: kms.describe_key(KeyId=name), "NotFoundException") is None
    if created:
        kms.create_alias(AliasName=name, TargetKeyId=props["TargetKeyId"])
    arn = f"arn:{ctx.partition}:kms:{ctx.region}:{ctx.account_id}:{name}"
    return ctx.reported(created, f"alias {name}", Resource(name, {"Arn": arn}))


RESOURCE_TYPES = {
    "AWS::KMS::Key": ResourceType(
        frozenset({"Description", "KeySpec", "KeyUsage", "KeyPolicy", "EnableKeyRotation"}), _provision_key
    ),
    "AWS::KMS::Alias": ResourceType(frozenset({"AliasName", "TargetKeyId"}), _provision_alias),
}
