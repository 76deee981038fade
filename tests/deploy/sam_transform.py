"""Print the CloudFormation that AWS's SAM transform makes of a template (JSON on stdout).

Run by tests/deploy with .venv-deploy's Python, where aws-sam-translator lives. CodeUri points
at an S3 object, as after `aws cloudformation package`; nothing here calls AWS.
"""
from __future__ import annotations

import json
import sys

from cfnlint.decode import decode
from samtranslator.translator.transform import transform


class NoManagedPolicies:
    """The template names no AWS managed policy, so none need looking up in IAM."""

    def load(self) -> dict[str, str]:
        return {}


def main(path: str, *parameters: str) -> None:
    template, errors = decode(path)
    if errors:
        raise SystemExit(f"cannot read {path}: {errors}")
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://deploy-bucket/deployment.zip"
    values = dict(parameter.split("=", 1) for parameter in parameters)
    json.dump(transform(template, values, NoManagedPolicies()), sys.stdout, default=str)


if __name__ == "__main__":
    main(*sys.argv[1:])
