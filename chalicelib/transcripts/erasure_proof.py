"""Prove, from the key store itself, that an erased visitor's text cannot be opened any more.

    python -m chalicelib.transcripts.erasure_proof --receipt RECEIPT.json [--receipt PART.json ...]
        --public-key KEY.pem --tables-prefix STACK [--endpoint-url URL] [--region REGION]

For an auditor with read-only access to the account's tables (docs/audit.md, Proof of forgetting): it
trusts nothing the receipt says until the audit key's signature vouches for it, then reads the store
(GetItem and Query only; it never writes) and checks that
0. the parts given (a receipt too large for one audit event comes in parts: the route's answer holds
   them all, or give each part's file) are every part of one receipt, and agree;
1. the visitor is a tombstone that holds no wrapped key (so none of the visitor keys named remains);
2. every conversation the store holds for the visitor is named by the receipt, and none holds a
   wrapped key any more;
3. every ciphertext left for those conversations (messages, survey comments) names a key id the
   receipt names (its row's tenant and conversation, which its associated data binds, and its
   key_version), and each of those conversation keys was wrapped under a visitor key the receipt names;
4. none of those conversations keeps an email threading record (the visitor's Message-IDs: email.md).
So nothing left can be opened by a key that still exists. Exits 0 with a report, 1 naming the first
thing that fails, 2 on unusable arguments or a store it cannot read. Needs boto3 and cryptography.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ..audit.chain import ERASURE_RECEIPT
from ..audit.verify import Invalid, Unusable, _signed_digest, load_public_key
from ..audit.verify_receipts import as_part, assemble
from .key_ids import conversation_key_id, visitor_key_id

PERSONAL_FIELDS = ("name", "email", "locale", "team", "notes", "known_as", "user_id")
CLOSE_MARKER = "closed"  # the close's own row in the messages table: nothing sealed (message_store.py)


class KeyStore:
    """The account's tables as an auditor reads them: GetItem (consistent) and Query, nothing else."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._ddb, self._prefix = client, prefix
        self.reads = 0

    def table(self, name: str) -> str:
        return f"{self._prefix}-{name}"

    def get(self, name: str, key: dict[str, str], fields: list[str]) -> dict[str, Any] | None:
        self.reads += 1
        item = self._ddb.get_item(TableName=self.table(name), Key={k: {"S": v} for k, v in key.items()},
                                  ConsistentRead=True, **_projection(fields))
        found: dict[str, Any] | None = item.get("Item")
        return found

    def query(self, name: str, key: str, value: str, fields: list[str], index: str | None = None,
              ) -> Iterator[dict[str, Any]]:
        projection = _projection(fields)
        projection["ExpressionAttributeNames"]["#k"] = key
        request = {"TableName": self.table(name), "KeyConditionExpression": "#k = :v",
                   "ExpressionAttributeValues": {":v": {"S": value}}, **projection,
                   **({"IndexName": index} if index else {"ConsistentRead": True})}
        while True:
            self.reads += 1
            page = self._ddb.query(**request)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _projection(fields: list[str]) -> dict[str, Any]:
    """Only the fields named (never a sealed blob), each by placeholder (some are reserved words)."""
    return {"ProjectionExpression": ", ".join(f"#f{n}" for n in range(len(fields))),
            "ExpressionAttributeNames": {f"#f{n}": field for n, field in enumerate(fields)}}


def load_receipt(paths: list[str], public_key: Any) -> dict[str, Any]:
    """The whole receipt from files each holding the signed receipt as GET /v1/visitors/{id}/erasure-receipt
    answers it (part 1 with its `further_parts`), one signed part (an export's visitor.erasure_receipt
    event holds one in its details), or a list of them. Every part of one receipt, or Invalid."""
    parts: list[tuple[str, dict[str, Any]]] = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as stream:
                held = json.load(stream)
        except (OSError, ValueError) as err:
            raise Unusable(f"cannot read receipt file {path}: {err}") from None
        if isinstance(held, dict) and isinstance(held.get("further_parts"), list):
            held = [{k: v for k, v in held.items() if k != "further_parts"}, *held["further_parts"]]
        signed_parts = held if isinstance(held, list) else [held]
        for n, signed in enumerate(signed_parts, start=1):
            what = f"the receipt in {path}" if len(signed_parts) == 1 else f"part {n} given in {path}"
            parts.append((what, as_part(_signed_digest(signed, public_key, ERASURE_RECEIPT, what))))
    if not parts:
        raise Invalid(f"no receipt in {', '.join(paths)}")
    ids = sorted({str(part["receipt_id"]) for _, part in parts})
    if len(ids) > 1:
        raise Invalid(f"the parts given are of {len(ids)} receipts ({', '.join(ids)}), not one")
    receipt, missing = assemble(parts)
    if missing:
        raise Invalid(f"receipt {receipt['receipt_id']} has {receipt['parts']} parts and part(s) "
                      f"{', '.join(map(str, missing))} were not given: the conversations they name are unaccounted for")
    return receipt


def prove(receipt: dict[str, Any], store: KeyStore) -> list[str]:
    t, v = receipt["tenant_id"], receipt["visitor_id"]
    visitor_keys = set(receipt["visitor_keys"])
    named = {c["conversation_id"]: set(c["keys"]) for c in receipt["conversations"]}
    lines = [_visitor(store, t, v, visitor_keys)]
    found = {item["conversation_id"]["S"] for item in store.query(
        "conversations", "visitor_key", f"{t}#{v}", ["conversation_id"], index="visitor-index")}
    unnamed = sorted(found - set(named))
    if unnamed:
        raise Invalid(f"conversation {unnamed[0]} of visitor {v} is in the store but not named by the receipt")
    messages = comments = 0
    for conversation_id, keys in sorted(named.items()):
        for key in keys:
            version = key.rsplit("|", 1)[-1]
            if key != conversation_key_id(t, conversation_id, int(version)) or \
                    visitor_key_id(t, v, int(version)) not in visitor_keys:
                raise Invalid(f"the receipt names key {key} for conversation {conversation_id}, which is not one "
                              f"of its keys wrapped under a visitor key the receipt names")
        _conversation(store, t, v, conversation_id)
        _no_thread(store, t, conversation_id)
        for item in store.query("messages", "conversation_key", f"{t}#{conversation_id}",
                                ["seq", "key_version", "sender_kind"]):
            if item["sender_kind"]["S"] != CLOSE_MARKER:
                _bound(keys, t, conversation_id, int(item["key_version"]["N"]), f"message seq {item['seq']['N']}")
                messages += 1
        survey = store.get("surveys", {"tenant_id": t, "conversation_id": conversation_id}, ["comment_key_version"])
        if survey and "comment_key_version" in survey:
            _bound(keys, t, conversation_id, int(survey["comment_key_version"]["N"]), "the survey comment")
            comments += 1
    return lines + [
        f"  conversations  {len(named)} named, {len(found)} in the store for the visitor, none unnamed; "
        "none holds a wrapped key",
        "  email threads  none left for those conversations",
        f"  ciphertexts    {messages} message(s) and {comments} survey comment(s) left, each bound to a key id "
        "the receipt names"]


def _visitor(store: KeyStore, t: str, v: str, visitor_keys: set[str]) -> str:
    item = store.get("visitors", {"tenant_id": t, "visitor_id": v}, ["erased_at", "data_keys", *PERSONAL_FIELDS])
    if item is None:
        return f"  visitor        {v}: no item at all, so no wrapped key; {len(visitor_keys)} visitor key(s) named"
    if "erased_at" not in item:
        raise Invalid(f"visitor {v} is not erased in the store (no erased_at)")
    held = sorted(item.get("data_keys", {}).get("M", {}))
    if held:
        key = visitor_key_id(t, v, int(held[0]))
        said = ", which the receipt names destroyed" if key in visitor_keys else ", not named by the receipt"
        raise Invalid(f"visitor {v} still holds wrapped key {key}{said}")
    kept = [field for field in PERSONAL_FIELDS if field in item]
    if kept:
        raise Invalid(f"visitor {v}'s tombstone still has personal fields: {', '.join(kept)}")
    return (f"  visitor        {v}: tombstone since {item['erased_at']['S']}, no personal field, no wrapped key; "
            f"the {len(visitor_keys)} visitor key(s) named are gone")


def _conversation(store: KeyStore, t: str, v: str, conversation_id: str) -> None:
    item = store.get("conversations", {"tenant_id": t, "conversation_id": conversation_id},
                     ["visitor_id", "data_keys"])
    if item is None:
        return  # nothing of it is left to open
    if item["visitor_id"]["S"] != v:
        raise Invalid(f"the receipt names conversation {conversation_id}, which is not visitor {v}'s")
    held = sorted(item.get("data_keys", {}).get("M", {}))
    if held:
        raise Invalid(f"conversation {conversation_id} still holds wrapped key "
                      f"{conversation_key_id(t, conversation_id, int(held[0]))}")


def _no_thread(store: KeyStore, t: str, conversation_id: str) -> None:
    left = next(store.query("email-threads", "conversation_key", f"{t}#{conversation_id}", ["thread_key"],
                            index="conversation-index"), None)
    if left is not None:
        raise Invalid(f"conversation {conversation_id} still has email threading record {left['thread_key']['S']}")


def _bound(keys: set[str], t: str, conversation_id: str, version: int, what: str) -> None:
    key = conversation_key_id(t, conversation_id, version)
    if key not in keys:
        raise Invalid(f"{what} of conversation {conversation_id} is bound to key {key}, which the receipt does not "
                      "name: a key it does not account for may still open it")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.transcripts.erasure_proof",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--receipt", required=True, action="append",
                        help="JSON from GET /v1/visitors/{visitor_id}/erasure-receipt (again for each file of parts)")
    parser.add_argument("--public-key", required=True, help="PEM from GET /v1/audit/public-keys")
    parser.add_argument("--tables-prefix", required=True, help="the stack name the tables are named after")
    parser.add_argument("--endpoint-url", help="DynamoDB's endpoint (the local stack's moto server)")
    parser.add_argument("--region", help="the tables' region (else the environment's)")
    args = parser.parse_args(argv)
    try:
        receipt = load_receipt(args.receipt, load_public_key(args.public_key))
        given = " ".join(args.receipt)
        store = KeyStore(boto3.client("dynamodb", endpoint_url=args.endpoint_url, region_name=args.region),
                         args.tables_prefix)
        lines = prove(receipt, store)
    except BotoCoreError as err:  # no region, no credentials, no endpoint
        print(f"cannot read the store: {err}", file=sys.stderr)
        return 2
    except ClientError as err:  # e.g. a role without the reads docs/audit.md lists
        print(f"cannot read the store: {err.response['Error'].get('Message', err)}", file=sys.stderr)
        return 2
    except Unusable as err:
        print(f"cannot check: {err}", file=sys.stderr)
        return 2
    except Invalid as err:
        print(f"NOT PROVEN {' '.join(args.receipt)}: {err}")
        return 1
    by = receipt["erased_by"]
    print("\n".join([
        f"PROVEN {given}: nothing left of visitor {receipt['visitor_id']} opens with a key that still exists",
        f"  receipt        signed erasure_receipt{_parts(receipt)} verified with {args.public_key}; "
        f"tenant {receipt['tenant_id']}, "
        f"erased {receipt['erased_at']} by {by['kind']} {by['id']}", *lines,
        f"  store          {store.reads} read(s) (GetItem, Query) of {store.table('*')}, nothing written"]))
    return 0


def _parts(receipt: dict[str, Any]) -> str:
    return "" if receipt["parts"] == 1 else f" ({receipt['receipt_id']}, all {receipt['parts']} parts)"


if __name__ == "__main__":
    sys.exit(main())
