"""Create the resources of infra/template.yaml through boto3, for moto (local stack and tests).

moto's own CloudFormation drops properties that matter here (KMS KeySpec, table TTL, S3 Object
Lock...), so this package resolves the template's intrinsics itself and calls each service's API
with every property the template sets. A resource type or property this package does not know
raises ValueError before anything is created: a template change must not be silently ignored
locally while it takes effect on AWS.

Provisioning is idempotent: resources are found again by name (KMS keys through their alias), so
re-running against the same endpoint creates nothing twice and returns the same physical ids.

Modules:
- template: reading the YAML, short-form tags included;
- intrinsics: Ref, Fn::GetAtt, Fn::Sub, Fn::If, Fn::Join and Conditions, resolved;
- provisioner: provision(), which creates the resources in dependency order;
- resource_types: the types provisioned locally and those that exist only on AWS;
- context: what each type's provisioner is given, and their shared helpers;
- dynamodb, kms, secretsmanager, s3, sqs, ses: one per service, its resource types' provisioners.
"""

from .provisioner import ProvisionedStack, provision
from .resource_types import AWS_ONLY, AWS_ONLY_MARK
from .template import DEFAULT_TEMPLATE, Template, load_template

__all__ = ["AWS_ONLY", "AWS_ONLY_MARK", "DEFAULT_TEMPLATE", "ProvisionedStack", "Template", "load_template",
           "provision"]
