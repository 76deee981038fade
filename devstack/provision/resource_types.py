"""Which of the template's resource types are provisioned locally, and which exist only on AWS.

Each provisioned type comes from the module named after its service, with the properties it
applies; anything else in the template fails check_supported() before a resource is created.
"""

from __future__ import annotations

from typing import Any

from . import dynamodb, kms, s3, secretsmanager, ses, sqs
from .context import ResourceType

RESOURCE_TYPES: dict[str, ResourceType] = {
    **dynamodb.RESOURCE_TYPES,
    **kms.RESOURCE_TYPES,
    **secretsmanager.RESOURCE_TYPES,
    **s3.RESOURCE_TYPES,
    **sqs.RESOURCE_TYPES,
    **ses.RESOURCE_TYPES,
}

# Not provisioned locally, by name rather than silently: operations resources (the local stack has
# no CloudWatch, SNS or IAM to speak of; SES's bounce and complaint events, which go to SNS, are
# stood in for by POST /dev/ses-events) and entries without a Type, which complete a resource
# Chalice generates (`make package` merges the two) and exist only on AWS with the functions.
# Bucket policies too: moto applies them without their conditions, so the TLS-only deny would refuse
# every request, and the local stack speaks plain HTTP anyway. Queue policies too: moto's SQS takes any
# sender, S3's notifications included.
AWS_ONLY_MARK = "(completes a Chalice resource)"
AWS_ONLY = frozenset({AWS_ONLY_MARK, "AWS::CloudWatch::Alarm", "AWS::Logs::LogGroup", "AWS::Logs::MetricFilter",
                      "AWS::SNS::Topic", "AWS::SNS::Subscription", "AWS::IAM::Policy",
                      "AWS::SES::ConfigurationSetEventDestination", "AWS::S3::BucketPolicy",
                      # SES receives no mail locally (POST /dev/inbound-email stores it in the bucket as
                      # SES's rule would); moto delivers S3's notifications whatever a queue's policy says.
                      "AWS::SES::ReceiptRuleSet", "AWS::SES::ReceiptRule", "AWS::SQS::QueuePolicy"})


def check_supported(resources: dict[str, Any]) -> None:
    """Fail before creating anything if a resource would be provisioned incompletely."""
    for logical_id, resource in resources.items():
        resource_type = RESOURCE_TYPES.get(resource["Type"])
        if resource_type is None:
            raise ValueError(f"unsupported resource type {resource['Type']} ({logical_id})")
        unsupported = resource.get("Properties", {}).keys() - resource_type.properties
        if unsupported:
            raise ValueError(f"unsupported properties of {resource['Type']} {logical_id}: {sorted(unsupported)}")
