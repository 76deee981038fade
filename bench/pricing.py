"""AWS list prices the cost model converts counts with, and the arithmetic (pure).

Region us-east-1, on-demand, no free tier, first pricing tier. Each price names its page. They are the
published prices as of PRICES_AS_OF (DynamoDB on-demand after its 2024-11-01 reduction); the bench has
no internet and does not re-check them at run time: update this table when AWS changes a price.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from .metering import Tally

PRICES_AS_OF = "2025-06"
SOURCE = "AWS public pricing pages, us-east-1"


class Price:
    def __init__(self, usd: float, per: float, unit: str, page: str) -> None:
        self.usd, self.per, self.unit, self.page = usd, per, unit, page

    def of(self, quantity: float) -> float:
        return self.usd * quantity / self.per


PRICES = {
    "lambda_requests": Price(0.20, 1e6, "requests", "https://aws.amazon.com/lambda/pricing/"),
    "lambda_gb_seconds": Price(0.0000166667, 1, "GB-second (x86)", "https://aws.amazon.com/lambda/pricing/"),
    "apigw_ws_messages": Price(1.00, 1e6, "WebSocket messages (32 KB steps)",
                               "https://aws.amazon.com/api-gateway/pricing/"),
    "apigw_ws_connection_minutes": Price(0.25, 1e6, "connection minutes", "https://aws.amazon.com/api-gateway/pricing/"),
    "apigw_rest_requests": Price(3.50, 1e6, "REST API requests", "https://aws.amazon.com/api-gateway/pricing/"),
    "dynamodb_write_units": Price(0.625, 1e6, "write request units (on-demand)",
                                  "https://aws.amazon.com/dynamodb/pricing/on-demand/"),
    "dynamodb_read_units": Price(0.125, 1e6, "read request units (on-demand)",
                                 "https://aws.amazon.com/dynamodb/pricing/on-demand/"),
    "kms_requests": Price(0.03, 1e4, "requests", "https://aws.amazon.com/kms/pricing/"),
    "kms_keys": Price(1.00, 1, "customer managed key-month", "https://aws.amazon.com/kms/pricing/"),
    "s3_writes": Price(0.005, 1e3, "PUT, COPY, POST, LIST requests", "https://aws.amazon.com/s3/pricing/"),
    "s3_reads": Price(0.0004, 1e3, "GET and other requests", "https://aws.amazon.com/s3/pricing/"),
    "sqs_requests": Price(0.40, 1e6, "standard queue requests", "https://aws.amazon.com/sqs/pricing/"),
    "ses_emails": Price(0.10, 1e3, "emails", "https://aws.amazon.com/ses/pricing/"),
    "secrets": Price(0.40, 1, "secret-month", "https://aws.amazon.com/secrets-manager/pricing/"),
    "secrets_requests": Price(0.05, 1e4, "API calls", "https://aws.amazon.com/secrets-manager/pricing/"),
    "cloudwatch_alarms": Price(0.10, 1, "standard alarm-month", "https://aws.amazon.com/cloudwatch/pricing/"),
    "cloudwatch_logs_ingest": Price(0.50, 1, "GB ingested", "https://aws.amazon.com/cloudwatch/pricing/"),
    "cloudwatch_logs_storage": Price(0.03, 1, "GB-month stored", "https://aws.amazon.com/cloudwatch/pricing/"),
}
# The comparison the issue names: Amazon Connect chat, per message (the figure).
AMAZON_CONNECT_CHAT_PER_MESSAGE = 0.010
# .chalice/config.json, stage prod.
LAMBDA_MEMORY_GB = 1024 / 1024
# A stated model, not a measurement: in-process moto answers without a network; on AWS each request is
# a round trip the handler waits on (DynamoDB's single-digit milliseconds). Billed duration = the handler's
# CPU time, moto's answers excluded (bench/metering.py), + this per AWS request.
AWS_ROUND_TRIP_SECONDS = 0.005
# What every invocation writes to CloudWatch Logs: START, END and REPORT lines and our one line a request.
LOG_BYTES_PER_INVOCATION = 400
LOG_RETENTION_MONTHS = 3  # infra/template.yaml: 90 days in prod

# The floor the issue sets for one delivered message: 3 WebSocket messages (in, delivery, ack),
# 1 Lambda request, 1 write unit and 2 eventually consistent reads (1 read unit).
FLOOR_PER_MESSAGE = (PRICES["apigw_ws_messages"].of(3) + PRICES["lambda_requests"].of(1)
                     + PRICES["dynamodb_write_units"].of(1) + PRICES["dynamodb_read_units"].of(1))
TARGET_PER_MESSAGE = 1.5 * FLOOR_PER_MESSAGE


def usd_of(counts: dict[str, float]) -> dict[str, float]:
    """Each priced quantity in dollars (keys of PRICES)."""
    return {name: PRICES[name].of(quantity) for name, quantity in counts.items() if quantity}


def priced_quantities(tally: Tally, connection_minutes: float = 0.0) -> dict[str, float]:
    """A metering.Tally (and the connection minutes it implies) as the quantities AWS bills."""
    calls: Counter = tally.calls
    aws_requests = sum(calls.values())
    seconds = tally.handler_cpu_seconds + AWS_ROUND_TRIP_SECONDS * aws_requests
    s3_writes = sum(n for op, n in calls.items() if op.startswith("s3.") and not op.startswith(("s3.Get", "s3.Head")))
    return {
        "lambda_requests": tally.invocations,
        "apigw_rest_requests": tally.rest_requests,
        "lambda_gb_seconds": seconds * LAMBDA_MEMORY_GB,
        "apigw_ws_messages": tally.ws_messages_in + tally.ws_messages_out,
        "apigw_ws_connection_minutes": connection_minutes,
        "dynamodb_write_units": tally.write_units,
        "dynamodb_read_units": tally.read_units,
        "kms_requests": sum(n for op, n in calls.items() if op.startswith("kms.")),
        "s3_writes": s3_writes,
        "s3_reads": sum(n for op, n in calls.items() if op.startswith("s3.")) - s3_writes,
        "sqs_requests": sum(n for op, n in calls.items() if op.startswith("sqs.")),
        "ses_emails": sum(n for op, n in calls.items() if op.startswith(("ses.", "sesv2."))),
        "secrets_requests": sum(n for op, n in calls.items() if op.startswith("secretsmanager.")),
        "cloudwatch_logs_ingest": tally.invocations * LOG_BYTES_PER_INVOCATION / 1e9,
    }


def template_resources(template: Path) -> Counter:
    """Resource types of infra/template.yaml (the file has CloudFormation tags, so counted as text)."""
    return Counter(re.findall(r"^\s+Type: (AWS::[\w:]+)\s*$", template.read_text(), re.MULTILINE))
