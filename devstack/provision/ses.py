"""AWS::SES::EmailIdentity and AWS::SES::ConfigurationSet, through SES v2."""

from __future__ import annotations

from typing import Any

from .context import Context, ResourceType, required_name, unless_missing
from .intrinsics import Resource


def _provision_email_identity(ctx: Context, logical_id: str, props: dict[str, Any]) -> Resource:
    sesv2 = ctx.client("sesv2")
    identity = required_name(props, "EmailIdentity", logical_id)
    created = unless_missing(lambda: sesv2.get_email_identity(EmailIdentity=identity), "NotFoundException") is None
    if created:
        sesv2.create_email_identity(EmailIdentity=identity)
    return ctx.reported(created, f"SES identity {identity}", Resource(identity, {}))


def _provision_configuration_set(ctx: Context, logical_id: str, props: dict[str, Any]) -> Resource:
    sesv2 = ctx.client("sesv2")
    name = required_name(props, "Name", logical_id)
    found = unless_missing(lambda: sesv2.get_configuration_set(ConfigurationSetName=name), "NotFoundException")
    if found is None:
        sesv2.create_configuration_set(ConfigurationSetName=name)
    return ctx.reported(found is None, f"SES configuration set {name}", Resource(name, {}))


RESOURCE_TYPES = {
    "AWS::SES::EmailIdentity": ResourceType(frozenset({"EmailIdentity"}), _provision_email_identity),
    "AWS::SES::ConfigurationSet": ResourceType(frozenset({"Name"}), _provision_configuration_set),
}
