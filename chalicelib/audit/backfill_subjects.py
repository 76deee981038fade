"""Give the audit events written before the subject-index existed their `subject_key` (a one-off migration).

    python -m chalicelib.audit.backfill_subjects --tables-prefix STACK [--endpoint-url URL] [--region REGION]
        [--segments N] [--page-size N] [--resume TOKEN]

Access bundles find a visitor's events through the sparse `subject-index` of `audit-events`
(docs/audit.md, Right of access), whose key `subject_key` = "{tenant_id}#{target}" the service sets on
every event about a visitor or a conversation since that index came; older events have none and are
missing from bundles until this has run once (docs/deploy.md, Upgrade). It is a one-off migration an
operator runs, not a path the service ever takes: a paginated Scan of the whole table (in N parallel
segments), and for each event whose target is a visitor or conversation id and that has no
subject_key, one UpdateItem that sets it, only if the event exists and still has none and the same
target. So it is idempotent, safe to re-run, to interrupt and resume, and to run while the service
writes (an event written meanwhile already has its key, and the condition leaves it alone). It sets
nothing but subject_key, which is not part of the hashed event (chain.py EVENT_FIELDS): the chain and
every export verify as before. Prints progress per page (per segment: items seen, updated, and a
resume token for the whole run) and a summary; exits 0 when done, 1 when a segment failed (resume with
the last token printed), 2 on unusable arguments or a store it cannot reach. Needs boto3 and the
operator's IAM policy in docs/deploy.md (no function of the service is granted it).
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ..storage.audit import SUBJECT_ID, subject_key

KEY_FIELD = "subject_key"  # never one of chain.EVENT_FIELDS, what is hashed (a test holds it so)
DONE = "done"  # a segment's place in a resume token once it has been scanned to the end


class Unusable(Exception):
    """A resume token that is not one this printed, or one for another number of segments."""


@dataclass
class Progress:
    """Where every segment has got to (its last evaluated key, None before its first page, or DONE)
    and what it has counted; shared by the segments' threads, printed after each page."""
    segments: int
    places: dict[int, Any]
    page_size: int | None = None
    seen: dict[int, int] = field(default_factory=dict)
    updated: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def token(self) -> str:
        raw = json.dumps({"segments": self.segments, "places": {str(n): p for n, p in self.places.items()}},
                         sort_keys=True, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode()

    def page(self, segment: int, place: Any, seen: int, updated: int) -> None:
        with self.lock:
            self.places[segment] = place
            self.seen[segment] = self.seen.get(segment, 0) + seen
            self.updated[segment] = self.updated.get(segment, 0) + updated
            print(f"segment {segment + 1}/{self.segments}: seen {self.seen[segment]}, updated {self.updated[segment]}"
                  f"{' (done)' if place == DONE else ''}; resume token {self.token()}", flush=True)


def start(segments: int, resume: str | None) -> Progress:
    if resume is None:
        return Progress(segments, {n: None for n in range(segments)})
    try:
        held = json.loads(base64.urlsafe_b64decode(resume.encode()))
        places = {int(n): place for n, place in held["places"].items()}
        count = int(held["segments"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise Unusable("the resume token is not one this printed") from None
    if count != segments or sorted(places) != list(range(segments)):
        raise Unusable(f"the resume token is for {count} segment(s): give --segments {count}")
    return Progress(segments, places)


def backfill_segment(client: Any, table: str, progress: Progress, segment: int) -> None:
    """Scan one segment from where the progress has it, setting subject_key where it is missing."""
    request: dict[str, Any] = {
        "TableName": table, "Segment": segment, "TotalSegments": progress.segments,
        # Only what deciding needs; the events already keyed are read (a Scan reads all) but not sent back.
        "Select": "SPECIFIC_ATTRIBUTES",  # said outright, for the operator policy's dynamodb:Select condition
        "ProjectionExpression": "tenant_id, seq, #target", "FilterExpression": "attribute_not_exists(#key)",
        "ExpressionAttributeNames": {"#target": "target", "#key": KEY_FIELD},
        **({"Limit": progress.page_size} if progress.page_size else {})}
    place = progress.places[segment]
    while place != DONE:
        if place is not None:
            request["ExclusiveStartKey"] = place
        page = client.scan(**request)
        updated = sum(_set_key(client, table, item) for item in page.get("Items", []))
        place = page.get("LastEvaluatedKey", DONE)
        progress.page(segment, place, int(page.get("ScannedCount", 0)), updated)


def _set_key(client: Any, table: str, item: dict[str, Any]) -> bool:
    target = item.get("target", {}).get("S", "")
    if SUBJECT_ID.fullmatch(target) is None:
        return False  # not about a visitor or a conversation: stays out of the sparse index
    try:
        client.update_item(
            TableName=table, Key={"tenant_id": item["tenant_id"], "seq": item["seq"]},
            UpdateExpression="SET #key = :key",
            # Exists (an update never creates an event), still without a key, about the same subject.
            ConditionExpression="attribute_exists(seq) AND attribute_not_exists(#key) AND #target = :target",
            ExpressionAttributeNames={"#key": KEY_FIELD, "#target": "target"},
            ExpressionAttributeValues={":key": {"S": subject_key(item["tenant_id"]["S"], target)},
                                       ":target": {"S": target}})
    except ClientError as err:
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False  # set meanwhile (another run, or a segment resumed twice)
        raise
    return True


def run(client: Any, table: str, progress: Progress) -> list[str]:
    """Every segment not done, in parallel; the failures, one line each (empty when all finished)."""
    todo = [n for n in range(progress.segments) if progress.places[n] != DONE]
    with ThreadPoolExecutor(max_workers=max(1, len(todo))) as pool:
        futures = {n: pool.submit(backfill_segment, client, table, progress, n) for n in todo}
    failures = []
    for n, future in futures.items():
        error = future.exception()
        if error is not None:
            message = error.response["Error"].get("Message", error) if isinstance(error, ClientError) else error
            failures.append(f"segment {n + 1}/{progress.segments} failed: {message}")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.audit.backfill_subjects",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tables-prefix", required=True, help="the stack name the tables are named after")
    parser.add_argument("--endpoint-url", help="DynamoDB's endpoint (the local stack's moto server)")
    parser.add_argument("--region", help="the tables' region (else the environment's)")
    parser.add_argument("--segments", type=int, default=1, help="parallel Scan segments (1 to 64)")
    parser.add_argument("--page-size", type=int, help="events a Scan request reads (else DynamoDB's 1 MB page)")
    parser.add_argument("--resume", help="the last resume token an interrupted run printed")
    args = parser.parse_args(argv)
    if not 1 <= args.segments <= 64 or (args.page_size is not None and args.page_size < 1):
        print("--segments must be 1 to 64, --page-size at least 1", file=sys.stderr)
        return 2
    table = f"{args.tables_prefix}-audit-events"
    try:
        progress = start(args.segments, args.resume)
        progress.page_size = args.page_size
        client = boto3.client("dynamodb", endpoint_url=args.endpoint_url, region_name=args.region)
        client.describe_table(TableName=table)  # a wrong prefix, region or role: say so before scanning
        failures = run(client, table, progress)
    except Unusable as err:
        print(f"cannot resume: {err}", file=sys.stderr)
        return 2
    except BotoCoreError as err:
        print(f"cannot reach the store: {err}", file=sys.stderr)
        return 2
    except ClientError as err:
        print(f"cannot reach the store: {err.response['Error'].get('Message', err)}", file=sys.stderr)
        return 2
    seen, updated = sum(progress.seen.values()), sum(progress.updated.values())
    print("\n".join([*failures, f"{'STOPPED' if failures else 'DONE'} {table}: {seen} event(s) scanned in "
                     f"{args.segments} segment(s), subject_key set on {updated}"
                     + (f"; resume with --segments {args.segments} --resume {progress.token()}" if failures else "")]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
