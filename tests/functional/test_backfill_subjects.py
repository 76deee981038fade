"""The one-off migration that gives audit events from before the subject-index their subject_key
(chalicelib/audit/backfill_subjects.py, docs/deploy.md): events written without it (the old writer,
simulated by removing the attribute) are missing from a visitor's access bundle until it has run, and
there after; a second run sets nothing; the chain is untouched; an interrupted run resumes. On moto."""
from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.audit import backfill_subjects
from chalicelib.audit.chain import EVENT_FIELDS
from devstack.harness import Api, run_job
from tests.functional.test_access_exports import compliance_token, exported, served_visitor
from tests.helpers import audit_events

EVENTS = "switchboard-test-audit-events"


def forget_subject_keys() -> int:
    """As the writer before the subject-index left them: no event has a subject_key. How many had one."""
    ddb = boto3.client("dynamodb")
    keyed = [item for item in ddb.scan(TableName=EVENTS)["Items"] if "subject_key" in item]
    for item in keyed:
        ddb.update_item(TableName=EVENTS, Key={"tenant_id": item["tenant_id"], "seq": item["seq"]},
                        UpdateExpression="REMOVE subject_key")
    return len(keyed)


def bundle_events(api: Api, token: str, visitor_id: str) -> list[dict]:
    _, zipped = exported(api, token, visitor_id)
    with zipfile.ZipFile(io.BytesIO(zipped)) as files:
        return [json.loads(line) for line in files.read("audit-events.jsonl").splitlines()]


def backfill(capsys, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = backfill_subjects.main(["--tables-prefix", "switchboard-test", *args])
    return code, capsys.readouterr().out


def test_the_backfill_puts_old_events_back_in_access_bundles_and_a_second_run_sets_nothing(
        api: Api, tenant: dict, clock, capsys):
    t = tenant["tenant_id"]
    visitor_id, conversation_id = served_visitor(api, tenant, clock)
    token = compliance_token(api, tenant)
    old = forget_subject_keys()
    about = [e for e in audit_events(t) if e["target"] in (visitor_id, conversation_id)]
    assert [e["action"] for e in about] == ["conversation.assigned", "conversation.closed", "visitor.updated"]
    assert old == 3
    chain = audit_events(t)
    # Only the export's own request (written since) is found: the older events are missing.
    assert [e["action"] for e in bundle_events(api, token, visitor_id)] == ["visitor.access_export_requested"]

    code, out = backfill(capsys, "--segments", "3", "--page-size", "4")
    assert code == 0, out
    assert out.splitlines()[-1] == (f"DONE {EVENTS}: {len(audit_events(t))} event(s) scanned in 3 segment(s), "
                                    f"subject_key set on {old}")  # the export's events had theirs
    progress = [line for line in out.splitlines() if line.startswith("segment ")]
    assert len(progress) > 3 and all("; resume token " in line for line in progress)  # page by page
    assert sum("(done)" in line for line in progress) == 3
    # The chain is as it was: only subject_key, which is not hashed, was set.
    assert "subject_key" not in EVENT_FIELDS and audit_events(t)[:len(chain)] == chain
    assert run_job("audit-verify")["broken"] == []
    # Every event about the visitor and their conversation, but the download of this very bundle.
    events = bundle_events(api, token, visitor_id)
    assert events == [e for e in audit_events(t) if e["target"] in (visitor_id, conversation_id)][:-1]
    assert {e["action"] for e in about} <= {e["action"] for e in events}

    code, out = backfill(capsys, "--segments", "2")
    assert code == 0 and out.splitlines()[-1].endswith("subject_key set on 0"), out


def test_an_interrupted_backfill_resumes_from_its_token(api: Api, tenant: dict, clock, capsys, monkeypatch):
    served_visitor(api, tenant, clock)
    old = forget_subject_keys()
    real_client = boto3.client

    def failing_once(*args, **kwargs):
        """The client the run makes, whose second UpdateItem is refused (throttled, say)."""
        client, updates = real_client(*args, **kwargs), []

        def refuse(**_):
            updates.append(1)
            if len(updates) == 2:
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException",
                                             "Message": "slow down"}}, "UpdateItem")

        client.meta.events.register("before-call.dynamodb.UpdateItem", refuse)
        return client

    monkeypatch.setattr(backfill_subjects.boto3, "client", failing_once)
    code, out = backfill(capsys, "--page-size", "2")
    assert code == 1 and "segment 1/1 failed: slow down" in out, out
    last = out.splitlines()[-1]
    assert last.startswith(f"STOPPED {EVENTS}: ") and "--segments 1 --resume " in last
    token = last.rsplit(" ", 1)[-1]
    monkeypatch.setattr(backfill_subjects.boto3, "client", real_client)
    code, out = backfill(capsys, "--resume", token)
    assert code == 0, out
    done = int(out.splitlines()[-1].rsplit(" ", 1)[-1])
    assert 0 < done < old  # the resumed run starts where the first one's last page began
    assert backfill(capsys)[1].splitlines()[-1].endswith("subject_key set on 0")
    keyed = [i for i in boto3.client("dynamodb").scan(TableName=EVENTS)["Items"] if "subject_key" in i]
    assert len(keyed) == old


@pytest.mark.parametrize("args, message", [
    (["--segments", "2", "--resume", "bm90IGEgdG9rZW4="], "not one this printed"),
    (["--segments", "0"], "--segments must be 1 to 64"),
])
def test_unusable_arguments_are_refused_before_anything_is_read(args: list[str], message: str, capsys):
    assert backfill_subjects.main(["--tables-prefix", "switchboard-test", *args]) == 2
    assert message in capsys.readouterr().err


def test_a_token_for_another_number_of_segments_is_refused(capsys):
    token = backfill_subjects.Progress(3, {0: None, 1: "done", 2: None}).token()
    assert backfill_subjects.main(["--tables-prefix", "switchboard-test", "--resume", token]) == 2
    assert "give --segments 3" in capsys.readouterr().err
