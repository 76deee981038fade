"""What every resource type's provisioner is given, and the helpers they share.

A provisioner is a function (Context, logical id, resolved properties) -> Resource that finds the
resource by its name or creates it; ResourceType pairs it with the properties it knows how to
apply, so an unknown one is refused before anything is created.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from .intrinsics import Resolver, Resource
from .template import Template

Log = Callable[[str], None]
T = TypeVar("T")


class Clients:
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
class Context:
    client: Clients
    resolver: Resolver
    template: Template
    log: Log
    region: str
    account_id: str
    partition: str

    def reported(self, created: bool, what: str, resource: Resource) -> Resource:
        self.log(f"{'created' if created else 'found'} {what}")
        return resource


Provisioner = Callable[[Context, str, dict[str, Any]], Resource]


@dataclass(frozen=True)
class ResourceType:
    properties: frozenset[str]  # every property the provisioner applies; any other is refused
    provision: Provisioner


def unless_missing(call: Callable[[], T], *missing_codes: str) -> T | None:
    """The call's result, or None when the service says the resource does not exist."""
    try:
        return call()
    except ClientError as error:
        if error.response["Error"]["Code"] in missing_codes:
            return None
        raise


def required_name(props: dict[str, Any], key: str, logical_id: str) -> str:
    # Only a named resource can be found again on the next run; CFN's generated names can't.
    if key not in props:
        raise ValueError(f"{logical_id} needs an explicit {key} to be provisioned idempotently")
    return props[key]
