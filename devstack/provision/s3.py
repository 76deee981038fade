"""AWS::S3::Bucket: created (with Object Lock if asked), then versioning, lock, lifecycle, encryption, access block."""

from __future__ import annotations

from typing import Any

from .context import Context, ResourceType, required_name, unless_missing
from .intrinsics import Resource


def _bucket_encryption(encryption: dict[str, Any]) -> dict[str, Any]:
    # CFN names the default "ServerSideEncryptionByDefault", the API "ApplyServerSideEncryptionByDefault".
    rules = [
        {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
        | {key: value for key, value in rule.items() if key != "ServerSideEncryptionByDefault"}
        for rule in encryption["ServerSideEncryptionConfiguration"]
    ]
    return {"Rules": rules}


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """CFN's rule as the API takes it: "Id" is "ID", "Prefix" a Filter (none: an empty one), and
    "ExpirationInDays" an Expiration."""
    out: dict[str, Any] = {"Filter": {"Prefix": rule["Prefix"]} if "Prefix" in rule else {}}
    for key, value in rule.items():
        if key == "ExpirationInDays":
            out["Expiration"] = {"Days": value}
        elif key != "Prefix":
            out["ID" if key == "Id" else key] = value
    return out


def _notifications(config: dict[str, Any]) -> dict[str, Any]:
    """CFN's QueueConfigurations ({Event, Queue, Filter: {S3Key: {Rules}}}) as the API takes them
    ({Events: [...], QueueArn, Filter: {Key: {FilterRules}}})."""
    def queue(entry: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"Events": [entry["Event"]], "QueueArn": entry["Queue"]}
        if "Filter" in entry:
            out["Filter"] = {"Key": {"FilterRules": entry["Filter"]["S3Key"]["Rules"]}}
        return out

    unsupported = config.keys() - {"QueueConfigurations"}
    if unsupported:
        raise ValueError(f"unsupported bucket notifications: {sorted(unsupported)}")
    return {"QueueConfigurations": [queue(entry) for entry in config["QueueConfigurations"]]}


def _configure_bucket(s3: Any, name: str, props: dict[str, Any]) -> None:
    if "VersioningConfiguration" in props:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
    if "ObjectLockConfiguration" in props:
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=props["ObjectLockConfiguration"])
    if "LifecycleConfiguration" in props:
        rules = [_lifecycle_rule(rule) for rule in props["LifecycleConfiguration"]["Rules"]]
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    if "BucketEncryption" in props:
        s3.put_bucket_encryption(
            Bucket=name, ServerSideEncryptionConfiguration=_bucket_encryption(props["BucketEncryption"])
        )
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )
    if "CorsConfiguration" in props:
        # CFN's "MaxAge" and "Id" are the API's "MaxAgeSeconds" and "ID".
        renamed = {"MaxAge": "MaxAgeSeconds", "Id": "ID"}
        rules = [{renamed.get(key, key): value for key, value in rule.items()}
                 for rule in props["CorsConfiguration"]["CorsRules"]]
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
    if "NotificationConfiguration" in props:
        s3.put_bucket_notification_configuration(
            Bucket=name, NotificationConfiguration=_notifications(props["NotificationConfiguration"]))


def _provision_bucket(ctx: Context, logical_id: str, props: dict[str, Any]) -> Resource:
    s3 = ctx.client("s3")
    name = required_name(props, "BucketName", logical_id)
    # head_bucket, not create_bucket, tells: us-east-1 answers 200 to re-creating your own bucket.
    created = unless_missing(lambda: s3.head_bucket(Bucket=name), "404", "NoSuchBucket") is None
    if created:
        arguments: dict[str, Any] = {"Bucket": name}
        if ctx.region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
        if props.get("ObjectLockEnabled"):
            arguments["ObjectLockEnabledForBucket"] = True
        s3.create_bucket(**arguments)
        _configure_bucket(s3, name, props)
    arn = f"arn:{ctx.partition}:s3:::{name}"
    return ctx.reported(created, f"bucket {name}", Resource(name, {"Arn": arn}))


RESOURCE_TYPES = {
    "AWS::S3::Bucket": ResourceType(
        frozenset({
            "BucketName", "ObjectLockEnabled", "ObjectLockConfiguration", "VersioningConfiguration",
            "LifecycleConfiguration", "BucketEncryption", "PublicAccessBlockConfiguration",
            "CorsConfiguration", "NotificationConfiguration",
        }),
        _provision_bucket,
    ),
}
