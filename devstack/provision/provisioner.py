"""provision(): every resource of the template that does not exist yet, created in dependency order."""

from __future__ import annotations

import graphlib
from dataclasses import dataclass
from typing import Any

import boto3

from .context import Clients, Context, Log
from .intrinsics import Resolver, is_active, references
from .resource_types import AWS_ONLY, AWS_ONLY_MARK, RESOURCE_TYPES, check_supported
from .template import Template, load_template


def _creation_order(resources: dict[str, Any], aws_only: frozenset[str] = frozenset()) -> list[str]:
    """`aws_only`: resources not provisioned here, whose dependants wait for nothing locally."""
    graph: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        explicit = ({depends_on} if isinstance(depends_on, str) else set(depends_on)) - aws_only
        if not explicit <= resources.keys():
            raise ValueError(f"{logical_id} DependsOn unknown resources {sorted(explicit - resources.keys())}")
        implicit = {name for name in references(resource.get("Properties", {})) if name in resources}
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


def _context(client: Clients, stack: str, stage: str, template: Template, log: Log) -> Context:
    region = client("sts").meta.region_name
    account_id = client("sts").get_caller_identity()["Account"]
    partition = "aws"  # Switchboard runs in the commercial partition only
    pseudo_parameters = {
        "AWS::StackName": stack, "AWS::AccountId": account_id, "AWS::Region": region, "AWS::Partition": partition,
    }
    resolver = Resolver(template, pseudo_parameters, _parameter_values(template, {"Stage": stage}))
    return Context(client, resolver, template, log, region, account_id, partition)


@dataclass(frozen=True)
class ProvisionedStack:
    """What provision() created or found, keyed by the template's logical ids."""

    stack: str
    physical_ids: dict[str, str]  # logical id -> table name, KMS key id, alias name, secret ARN, bucket name
    arns: dict[str, str]  # logical id -> ARN, for every resource that has one
    outputs: dict[str, str]  # the template's Outputs, resolved

    def env(self) -> dict[str, str]:
        """The environment the Chalice functions read their resource names from."""
        return {"SWITCHBOARD_STACK": self.stack, "SWITCHBOARD_EXPORT_BUCKET": self.outputs["ExportBucketName"],
                "SWITCHBOARD_UPLOAD_BUCKET": self.outputs["UploadBucketName"],
                "SWITCHBOARD_ATTACHMENT_BUCKET": self.outputs["AttachmentBucketName"]}


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

    Raises ValueError before creating anything for a resource type or property this package
    cannot apply and for a dependency cycle; for an unsupported intrinsic function when met.
    """
    template = load_template() if template is None else template
    resources: dict[str, Any] = {logical_id: resource for logical_id, resource in template.get("Resources", {}).items()
                                 if resource.get("Type", AWS_ONLY_MARK) not in AWS_ONLY}
    check_supported(resources)
    order = _creation_order(resources, frozenset(template.get("Resources", {}).keys() - resources.keys()))
    ctx = _context(Clients(session or boto3.session.Session(), endpoint_url), stack, stage, template, log)
    resolver = ctx.resolver
    for logical_id in order:
        resource = resources[logical_id]
        if not is_active(resolver, resource):
            resolver.skipped.add(logical_id)
            continue
        props = resolver.resolve(resource.get("Properties", {}))
        resolver.resources[logical_id] = RESOURCE_TYPES[resource["Type"]].provision(ctx, logical_id, props)
    outputs = {
        name: resolver.resolve(output["Value"])
        for name, output in template.get("Outputs", {}).items()
        if is_active(resolver, output)
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
