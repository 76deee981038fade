"""The bench's arithmetic (request units from item sizes, prices), and its cost model and audit export
at a tiny size."""
from __future__ import annotations

import math
import re

import pytest

from bench import capacity, pricing
from bench.metering import Tally


def test_item_size_counts_names_and_values_by_dynamodb_rules():
    assert capacity.item_size({"id": {"S": "abc"}}) == 2 + 3
    assert capacity.item_size({"n": {"N": "12345"}}) == 1 + 4  # 5 digits: 3 bytes + 1
    assert capacity.item_size({"ok": {"BOOL": True}, "no": {"NULL": True}}) == 2 + 1 + 2 + 1
    assert capacity.item_size({"b": {"B": "AAEC"}}) == 1 + 3  # base64 of 3 raw bytes
    assert capacity.item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)
    assert capacity.item_size({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}) == 1 + 3 + (2 + 1) + (2 + 1)
    assert capacity.item_size({"s": {"S": "é"}}) == 1 + 2  # UTF-8 bytes, not characters


def test_read_units_round_up_per_4kb_halve_when_eventual_and_double_in_transactions():
    assert capacity.read_units(0, consistent=True) == 1
    assert capacity.read_units(4096, consistent=False) == 0.5
    assert capacity.read_units(4097, consistent=True) == 2
    assert capacity.read_units(100, consistent=False, transactional=True) == 2


def test_write_units_take_the_larger_item_and_double_in_transactions():
    small, large = {"k": {"S": "x"}}, {"k": {"S": "x" * 1500}}
    assert capacity.write_units(None, small) == 1
    assert capacity.write_units(large, small) == 2
    assert capacity.write_units(small, large, transactional=True) == 4


def test_an_index_is_written_only_when_its_projection_changes_and_a_moved_key_costs_two():
    keys, table_keys = ["team"], ["id"]
    before = {"id": {"S": "1"}, "team": {"S": "a"}, "seq": {"N": "1"}}
    after = {**before, "seq": {"N": "2"}}
    moved = {**before, "team": {"S": "b"}}
    keys_only = {"ProjectionType": "KEYS_ONLY"}
    everything = {"ProjectionType": "ALL"}

    def units(old: dict, new: dict, projection: dict) -> int:
        return capacity.index_write_units(capacity.project(old, keys, table_keys, projection),
                                          capacity.project(new, keys, table_keys, projection), keys)

    assert units(before, after, keys_only) == 0
    assert units(before, after, everything) == 1
    assert units(before, moved, keys_only) == 2
    assert units({"id": {"S": "1"}}, before, keys_only) == 1  # enters a sparse index
    assert capacity.project({"id": {"S": "1"}}, keys, table_keys, everything) is None


def test_prices_convert_counts_to_dollars():
    assert pricing.PRICES["dynamodb_write_units"].of(1e6) == pytest.approx(0.625)
    assert math.isclose(pricing.FLOOR_PER_MESSAGE, 3 / 1e6 + 0.2 / 1e6 + 0.625 / 1e6 + 0.125 / 1e6)
    tally = Tally(invocations=2, handler_cpu_seconds=0.1, read_units=4, write_units=8, ws_messages_in=1,
                  ws_messages_out=2)
    tally.calls.update({"dynamodb.GetItem": 2, "kms.Decrypt": 1})
    quantities = pricing.priced_quantities(tally, connection_minutes=10)
    assert quantities["lambda_gb_seconds"] == pytest.approx(0.1 + 3 * pricing.AWS_ROUND_TRIP_SECONDS)
    assert quantities["apigw_ws_messages"] == 3 and quantities["kms_requests"] == 1
    assert pricing.usd_of(quantities)["dynamodb_read_units"] == pytest.approx(4 * 0.125 / 1e6)


def test_an_invocation_is_charged_its_own_cpu_time_and_not_moto_answering_it():
    import time

    import boto3
    from moto import mock_aws

    from bench.metering import Meter

    def handler() -> None:
        client = boto3.client("dynamodb", region_name="us-east-1")
        for number in range(30):
            client.put_item(TableName="t", Item={"id": {"S": str(number)}})

    meter = Meter()
    with mock_aws(), meter.installed():
        boto3.client("dynamodb", region_name="us-east-1").create_table(
            TableName="t", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        with meter.phase("measured") as tally:
            started = time.thread_time()
            meter.invoke(handler)
            spent = time.thread_time() - started
    assert tally.calls["dynamodb.PutItem"] == 30 and tally.write_units == 30
    assert tally.write_units_by == {"t (standard)": 30}
    # Counted once: what moto and the meter took is out of the handler's time, and nothing else is.
    assert 0 < tally.moto_cpu_seconds < spent and 0 < tally.handler_cpu_seconds < spent
    assert tally.handler_cpu_seconds + tally.moto_cpu_seconds == pytest.approx(spent, rel=0.05)


def test_the_cost_model_runs_through_the_real_handlers_at_a_tiny_size():
    from bench import cost

    result = cost.run(3, progress=lambda line: None)
    per = result["per_message"]
    # A steady-state message: one WebSocket frame in, an ack and one delivery out, two single-item
    # writes (the claim, the message); only an agent's first reply is a transaction.
    assert per["lambda_invocations"] == 1 and per["ws_messages"] == 3
    assert "dynamodb.TransactWriteItems" not in per and per["write_units"] == 3
    assert sum(result["write_units_per_message_by"].values()) == pytest.approx(per["write_units"])
    assert per["handler_cpu_ms"] > 0 and per["moto_cpu_ms_excluded"] > 0
    assert result["phases"]["export"]["calls"]["s3.CompleteMultipartUpload"] == 1
    assert 0 < result["usd_per_message"] < result["usd_per_message_all_in"]


def test_the_export_section_seeds_one_chain_in_chunks_and_exports_all_of_it(monkeypatch):
    # On the embedded AWS in its own process; the write child refuses a chain that does not link up,
    # so chunks that lost their predecessor's hash would fail here.
    from bench import export

    monkeypatch.setattr(export, "SEED_CHUNK", 70)
    lines: list[str] = []
    measured = export.run([150], progress=lines.append)["150"]
    assert measured["event_count"] == 150 and measured["events_per_second"] > 0
    assert measured["peak_rss_mb"] >= measured["rss_before_mb"] > 0
    assert re.findall(r"seeded (\d+) of 150", "\n".join(lines)) == ["70", "140", "150"]


def test_the_reconcile_section_measures_both_jobs_flat_behind_a_growing_history():
    # Read units would grow with the history if the jobs read it (an agent-index walk); requests alone
    # would not, while one Query page holds it all.
    from bench import reconcile

    measured = reconcile.run([1, 40], progress=lambda line: None)
    assert measured["flat"] is True
    for job in ("reconcile-capacity", "hand-back"):
        assert measured[job]["1"]["read_units"] > 0 and measured[job]["1"] == measured[job]["40"]


def test_modelled_time_overlaps_waits_and_runs_one_thread_at_a_time():
    from bench.audit_append import ModelledTime

    clock, seen = ModelledTime(start=1000.0), []

    def job(name: str, waits: list[float]) -> None:
        for seconds in waits:
            clock.sleep(seconds)
            seen.append((name, round(clock.elapsed, 3)))

    clock.run([lambda: job("a", [0.01, 0.01]), lambda: job("b", [0.015]), lambda: job("c", [0.03])])
    assert seen == [("a", 0.01), ("b", 0.015), ("a", 0.02), ("c", 0.03)]  # overlapping, in modelled order
    assert clock.elapsed == pytest.approx(0.03) and clock.now() == pytest.approx(1000.03)


def test_the_audit_append_section_runs_both_designs_at_a_tiny_size():
    from bench import audit_append

    result = audit_append.run([1, 4], progress=lambda line: None, appends_per_writer=3)
    alone = result["group_commit"]["1"]
    # One writer: a GetItem and a transaction an append, each one modelled round trip.
    assert alone["requests_per_append"] == {"dynamodb.GetItem": 1.0, "dynamodb.TransactWriteItems": 1.0, "total": 2.0}
    assert alone["appends_per_second"] == 1000 / (2 * audit_append.ROUND_TRIP_MS)
    for design in audit_append.DESIGNS:
        for figures in result[design].values():
            assert figures["chain_intact"] and figures["failed"] == 0
            assert figures["appends"] == 3 * figures["writers"]
    assert result["group_commit"]["4"]["requests_per_append"]["dynamodb.PutItem"] > 0  # some waited
