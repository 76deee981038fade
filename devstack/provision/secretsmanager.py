"""AWS::SecretsManager::Secret: its value given, or generated here as Secrets Manager would."""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from typing import Any

from .context import Context, ResourceType, required_name, unless_missing
from .intrinsics import Resource

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


def _provision_secret(ctx: Context, logical_id: str, props: dict[str, Any]) -> Resource:
    secretsmanager = ctx.client("secretsmanager")
    name = required_name(props, "Name", logical_id)
    response = unless_missing(lambda: secretsmanager.describe_secret(SecretId=name), "ResourceNotFoundException")
    created = response is None
    if response is None:
        if "SecretString" in props:
            value = props["SecretString"]
        else:  # on AWS, CloudFormation has Secrets Manager generate it; create_secret needs the value
            value = _generate_password(props["GenerateSecretString"])
        optional = {key: props[key] for key in ("Description", "KmsKeyId") if key in props}
        response = secretsmanager.create_secret(Name=name, SecretString=value, **optional)
    arn = response["ARN"]  # CFN's Ref of a secret is its ARN
    return ctx.reported(created, f"secret {name}", Resource(arn, {"Arn": arn}))


RESOURCE_TYPES = {
    "AWS::SecretsManager::Secret": ResourceType(
        frozenset({"Name", "Description", "KmsKeyId", "SecretString", "GenerateSecretString"}), _provision_secret
    ),
}
