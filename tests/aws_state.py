"""One in-process AWS provisioned from the template for the whole run, emptied before each test.

Provisioning infra/template.yaml costs about 150 moto calls (half a second); every test needs the same
resources, empty. So the first test provisions them, and each later test starts from those resources
with their data removed: DynamoDB items, S3 objects and uploads, SQS messages, sent emails, what was
posted to WebSocket connections. A test that changes the resources themselves (deletes a queue, puts
a new secret version, disables a key) or resets moto changes their fingerprint, and the next test
provisions afresh, as every test used to.
"""
from __future__ import annotations

import copy
import functools
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID as ACCOUNT  # the account moto answers as

REGION = "us-east-1"


class ProvisionedAws:
    def __init__(self) -> None:
        self._fingerprint: tuple[Any, ...] | None = None
        self.provisions = 0  # how many times the template was provisioned (tests/unit/test_aws_state.py)

    @contextmanager
    def running(self, session: Any) -> Iterator[None]:
        """moto on, with the template's resources and no data, for the length of the block."""
        from moto import mock_aws

        from devstack.moto_kms_sign import kms_sign_as_aws
        from devstack.moto_queries import partition_queries
        from devstack.moto_serialization import plain_attribute_values

        mock = mock_aws()
        mock.start(reset=False)
        try:
            if self._fingerprint is not None and _fingerprint() == self._fingerprint:
                _remove_data()
            else:
                self._provision(mock, session)
            # KMS Sign refuses and signs as on AWS. A Query reads one partition and an item's attribute values
            # are written out as they are, the same answers moto gives (tests/unit/test_moto_queries.py,
            # test_moto_serialization.py) at a fraction of the CPU: moto sorted the whole table for every
            # Query and spent about a millisecond serializing each item answered.
            with kms_sign_as_aws(), partition_queries(), plain_attribute_values():
                yield
        finally:
            mock.stop(remove_data=False)

    def _provision(self, mock: Any, session: Any) -> None:
        from devstack.provision import provision

        mock.reset()
        provision(session, stack="switchboard-test", template=copy.deepcopy(_parsed_template()))
        self.provisions += 1
        self._fingerprint = _fingerprint()


@functools.cache
def _parsed_template() -> Any:
    """Parsed once: the YAML costs more than a quarter of a second."""
    from devstack.provision.template import load_template

    return load_template()


def _backends() -> dict[str, Any]:
    from moto.dynamodb.models import dynamodb_backends
    from moto.kms.models import kms_backends
    from moto.s3.models import s3_backends
    from moto.secretsmanager.models import secretsmanager_backends
    from moto.ses.models import ses_backends
    from moto.sqs.models import sqs_backends

    return {"dynamodb": dynamodb_backends[ACCOUNT][REGION], "kms": kms_backends[ACCOUNT][REGION],
            "s3": s3_backends[ACCOUNT]["aws"], "secretsmanager": secretsmanager_backends[ACCOUNT][REGION],
            "ses": ses_backends[ACCOUNT][REGION], "sqs": sqs_backends[ACCOUNT][REGION]}


def _fingerprint() -> tuple[Any, ...]:
    """What provisioning made, as plain values: equal only if the resources are as provisioned."""
    b = _backends()
    return (
        tuple((name, table.table_arn, repr(table.schema), repr([index.describe() for index in table.global_indexes]),
               repr([index.describe() for index in table.indexes]), repr(table.ttl))
              for name, table in sorted(b["dynamodb"].tables.items())),
        tuple((key_id, key.key_state, key.enabled, key.policy, tuple(sorted(key.aliases)))
              for key_id, key in sorted(b["kms"].keys.items())),
        tuple((name, repr(bucket.versioning_status), repr(bucket.encryption), repr(bucket.rules))
              for name, bucket in sorted(b["s3"].buckets.items())),
        tuple((name, repr({k: v for k, v in queue.attributes.items() if not k.startswith("Approximate")}))
              for name, queue in sorted(b["sqs"].queues.items())),
        tuple((name, tuple(sorted(secret.versions)), secret.default_version_id, secret.deleted_date)
              for name, secret in sorted(b["secretsmanager"].secrets.items())),
        tuple(sorted(b["ses"].email_identities)), tuple(sorted(b["ses"].config_sets)),
    )


def _remove_data() -> None:
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    b = _backends()
    for table in b["dynamodb"].tables.values():
        table.items = defaultdict(dict)
    for bucket in b["s3"].buckets.values():
        for key in bucket.keys.values():
            if hasattr(key, "dispose"):
                key.dispose()
        for upload in bucket.multiparts.values():
            upload.dispose()
        bucket.keys.clear()
        bucket.multiparts.clear()
    for queue in b["sqs"].queues.values():
        queue._messages = []
        queue._pending_messages = set()
        queue.deleted_messages = set()
    ses = b["ses"]
    ses.sent_messages, ses.sent_message_count, ses.rejected_messages_count = [], 0, 0
    apigatewaymanagementapi_backends[ACCOUNT][REGION].reset()


PROVISIONED = ProvisionedAws()  # one per test process
