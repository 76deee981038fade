"""Attachments on moto: presigned upload, the check through the queue, sending, downloading, erasure."""
from __future__ import annotations

import base64
import json
import threading

import pytest

import app as app_module
from chalicelib.attachments import checking, sealing, service, uploads
from chalicelib.runtime import runtime
from devstack.harness import Api, Party, agent, run_sweep, widget_session
from devstack.queues import consumer_named, deliver_once
from tests.attachment_files import DOCX, docx, exe, png
from tests.helpers import all_items, audit_events, error_of, use_limits

UPLOADS = "switchboard-test-uploads-123456789012"
FILES = "switchboard-test-attachments-123456789012"


@pytest.fixture
def chat(api: Api, tenant: dict) -> dict:
    """A visitor (Vera) in a conversation assigned to an agent (Sam)."""
    session = widget_session(api, tenant, name="Vera").json_body
    vera = Party(session["visitor_token"])
    vera.send(action="message.send", client_msg_id="v1", text="hello")
    conversation_id = vera.of_type("ack")[0]["conversation_id"]
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    sam.new_frames()
    vera.new_frames()
    return {"vera": vera, "sam": sam, "visitor_token": session["visitor_token"], "conversation_id": conversation_id,
            "sam_token": api.login(tenant["tenant_id"], "sam@acme.com")}


def start(api: Api, chat: dict, token: str | None = None, **body) -> object:
    body = {"filename": "screenshot.png", "content_type": "image/png", "size": len(png()), **body}
    return api.call("POST", f"/v1/conversations/{chat['conversation_id']}/attachments", body,
                    token=token or chat["visitor_token"])


def post_file(upload: dict, data: bytes) -> None:
    """The browser's part, as the object it leaves in quarantine (the form POST itself is exercised
    against the embedded S3 in tests/e2e/test_attachments_e2e.py)."""
    runtime().client("s3").put_object(Bucket=UPLOADS, Key=upload["fields"]["key"], Body=data)


def run_checks() -> None:
    """The upload queue's consumer, as Lambda's event source mapping runs it (S3 told the queue)."""
    deliver_once(consumer_named(app_module.app, app_module, "attachment_uploads"), runtime().client("sqs"))


def uploaded(api: Api, chat: dict, data: bytes | None = None, **body) -> str:
    data = png() if data is None else data
    answer = start(api, chat, size=len(data), **body)
    assert answer.status_code == 201, answer.body
    post_file(answer.json_body["upload"], data)
    return answer.json_body["attachment_id"]


def download(api: Api, attachment_id: str, token: str, range_: str | None = None) -> object:
    headers = {"Accept": "application/octet-stream", **({"Range": range_} if range_ else {})}
    return api.call("GET", f"/v1/attachments/{attachment_id}", token=token, headers=headers)


def objects(bucket: str) -> list[str]:
    return [o["Key"] for o in runtime().client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


# --- Starting an upload ------------------------------------------------------------------------------
def test_the_upload_policy_allows_one_key_up_to_the_declared_size_for_minutes(api: Api, tenant: dict, chat: dict):
    answer = start(api, chat, size=5000)
    assert answer.status_code == 201
    body = answer.json_body
    assert body["status"] == "pending" and body["attachment_id"].startswith("att_")
    fields = body["upload"]["fields"]
    assert fields["key"] == f"uploads/{tenant['tenant_id']}/{body['attachment_id']}"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", 1, 5000] in policy["conditions"]
    assert {"bucket": UPLOADS} in policy["conditions"] and {"key": fields["key"]} in policy["conditions"]
    assert UPLOADS in body["upload"]["url"] and body["expires_in"] == 300


def test_too_large_and_unaccepted_types_are_refused_before_any_upload(api: Api, tenant: dict, chat: dict):
    too_big = start(api, chat, size=10 * 1024 * 1024 + 1)
    assert too_big.status_code == 413 and error_of(too_big)["code"] == "attachment_too_large"
    api.call("PUT", "/v1/settings", {"attachments_max_bytes": 2048}, token=tenant["admin_token"])
    assert error_of(start(api, chat, size=2049)) == {
        "code": "attachment_too_large", "message": "size: larger than this workspace's limit of 2048 bytes",
        "details": {"max_bytes": 2048}}
    config = api.call("GET", f"/v1/widget/{tenant['widget_key']}/config").json_body
    assert config["attachments_max_bytes"] == 2048 and "image/png" in config["attachment_types"]
    for content_type in ("application/x-msdownload", "text/html", "image/svg+xml", "application/zip", ""):
        refused = start(api, chat, content_type=content_type, size=100)
        assert refused.status_code in (400, 415), content_type
        if content_type:
            assert error_of(refused)["code"] == "unsupported_media_type"
    assert error_of(start(api, chat, filename="../../etc/\x00passwd"))["code"] == "invalid_input"
    assert objects(UPLOADS) == []


def test_only_those_who_read_the_conversation_may_attach(api: Api, tenant: dict, chat: dict):
    stranger = widget_session(api, tenant).json_body["visitor_token"]
    assert start(api, chat, token=stranger).status_code == 404  # another visitor's conversation
    api.add_agent(tenant["admin_token"], "ann@acme.com")
    assert start(api, chat, token=api.login(tenant["tenant_id"], "ann@acme.com")).status_code == 404
    other = api.signup(name="Other", email="boss@other.com")
    assert start(api, chat, token=api.login(other["tenant_id"], "boss@other.com")).status_code == 404
    api.add_agent(tenant["admin_token"], "cleo@acme.com", role="compliance")
    assert start(api, chat, token=api.login(tenant["tenant_id"], "cleo@acme.com")).status_code == 403
    for token in (chat["visitor_token"], chat["sam_token"], tenant["admin_token"]):
        assert start(api, chat, token=token).status_code == 201


# --- The check -------------------------------------------------------------------------------------
def test_an_upload_is_checked_through_the_queue_sealed_and_sent_to_the_other_side(api: Api, tenant: dict,
                                                                                  chat: dict):
    attachment_id = uploaded(api, chat, filename="Screen shot «1».png")
    assert objects(UPLOADS) == [f"uploads/{tenant['tenant_id']}/{attachment_id}"]
    run_checks()
    assert objects(UPLOADS) == []  # out of quarantine
    [stored] = objects(FILES)
    sealed = runtime().client("s3").get_object(Bucket=FILES, Key=stored)["Body"].read()
    assert png() not in sealed and b"IHDR" not in sealed and len(sealed) == len(png()) + sealing.OVERHEAD
    status = api.call("GET", f"/v1/attachments/{attachment_id}/status", token=chat["visitor_token"]).json_body
    assert status["status"] == "ready" and status["filename"] == "Screen shot «1».png" and status["size"] == len(png())

    chat["vera"].send(action="message.send", conversation_id=chat["conversation_id"], client_msg_id="v2", text="",
                      attachment_ids=[attachment_id])
    [ack] = chat["vera"].of_type("ack")
    ref = {"attachment_id": attachment_id, "filename": "Screen shot «1».png", "content_type": "image/png",
           "size": len(png())}
    [new] = chat["sam"].of_type("message.new")
    assert new["seq"] == ack["seq"] and new["text"] == "" and new["attachments"] == [ref]
    messages = api.call("GET", f"/v1/conversations/{chat['conversation_id']}/messages",
                        token=tenant["admin_token"]).json_body["items"]
    assert messages[-1]["attachments"] == [ref] and messages[0]["attachments"] == []
    chat["sam"].send(action="messages.sync", conversation_id=chat["conversation_id"], after_seq=0)
    assert [f.get("attachments") for f in chat["sam"].of_type("message.new")][-1] == [ref]

    for token in (chat["visitor_token"], chat["sam_token"], tenant["admin_token"]):
        got = download(api, attachment_id, token)
        assert got.status_code == 200 and got.body == png()
        assert got.headers["Content-Type"] == "image/png" and got.headers["X-Content-Type-Options"] == "nosniff"
        assert got.headers["Content-Disposition"].startswith("inline; filename=\"Screen shot _1_.png\"; filename*=")
        assert "private" in got.headers["Cache-Control"]
    # The admin sees every conversation: the read is on the trail, as a transcript read is.
    [read] = audit_events(tenant["tenant_id"], "attachment.read")
    assert read["target"] == chat["conversation_id"] and read["details"] == {"attachment_id": attachment_id}


def test_a_file_that_is_not_what_it_claims_is_rejected_and_deleted(api: Api, tenant: dict, chat: dict):
    disguised = uploaded(api, chat, exe(), filename="cat.png")
    run_checks()
    assert objects(UPLOADS) == [] and objects(FILES) == []
    status = api.call("GET", f"/v1/attachments/{disguised}/status", token=chat["visitor_token"]).json_body
    assert status["status"] == "rejected"
    chat["vera"].send(action="message.send", conversation_id=chat["conversation_id"], client_msg_id="v2",
                      text="look", attachment_ids=[disguised])
    [error] = chat["vera"].of_type("error")
    assert error["code"] == "attachment_rejected" and error["ref"] == "v2"
    assert chat["sam"].of_type("message.new") == []
    assert download(api, disguised, chat["visitor_token"]).status_code == 404

    a_png_named_pdf = uploaded(api, chat, png(), filename="invoice.pdf", content_type="application/pdf")
    assert checking.check(tenant["tenant_id"], a_png_named_pdf) == "rejected"
    document = uploaded(api, chat, docx(), filename="cv.docx", content_type=DOCX)
    assert checking.check(tenant["tenant_id"], document) == "ready"


def test_a_file_larger_than_declared_is_rejected_by_the_check_too(api: Api, tenant: dict, chat: dict):
    # S3 refuses it by the policy (content-length-range); moto does not enforce policies, so this shows
    # the check's own size test.
    answer = start(api, chat, size=10)
    post_file(answer.json_body["upload"], png())
    assert checking.check(tenant["tenant_id"], answer.json_body["attachment_id"]) == "rejected"


def test_sending_before_the_check_is_a_clear_error_and_the_status_read_runs_a_check_due(
        api: Api, tenant: dict, chat: dict):
    answer = start(api, chat)
    attachment_id = answer.json_body["attachment_id"]
    send = {"action": "message.send", "conversation_id": chat["conversation_id"], "attachment_ids": [attachment_id]}
    status = f"/v1/attachments/{attachment_id}/status"
    for _ in range(2):  # not uploaded; then uploaded, the queue has not run the check yet
        chat["vera"].send(**send, client_msg_id="v2")
        [error] = chat["vera"].of_type("error")
        assert error["code"] == "attachment_not_ready" and error["ref"] == "v2"
        post_file(answer.json_body["upload"], png())
    assert api.call("GET", status, token=chat["visitor_token"]).json_body["status"] == "ready"  # checked now
    chat["vera"].send(**send, client_msg_id="v2")
    assert chat["vera"].of_type("ack")[0]["client_msg_id"] == "v2"
    assert chat["sam"].of_type("message.new")[0]["attachments"][0]["attachment_id"] == attachment_id
    run_checks()
    assert len(objects(FILES)) == 1  # the queue's later check writes nothing again


@pytest.mark.parametrize("frame", [
    {"text": ""}, {"text": "", "attachment_ids": []}, {"text": "x", "attachment_ids": ["a"] * 11},
    {"text": "x", "attachment_ids": [1]}, {"text": "x", "attachment_ids": ["../x"]},
])
def test_a_message_says_something_and_names_at_most_ten_files(chat: dict, frame: dict):
    chat["vera"].send(action="message.send", conversation_id=chat["conversation_id"], client_msg_id="m", **frame)
    assert chat["vera"].of_type("error")[0]["code"] == "invalid_frame"


def test_files_of_another_conversation_cannot_be_sent(api: Api, tenant: dict, chat: dict):
    attachment_id = uploaded(api, chat)
    run_checks()
    other = Party(widget_session(api, tenant).json_body["visitor_token"])
    other.send(action="message.send", client_msg_id="o1", text="hi")
    theirs = other.of_type("ack")[0]["conversation_id"]
    other.send(action="message.send", conversation_id=theirs, client_msg_id="o2", text="",
               attachment_ids=[attachment_id])
    assert other.of_type("error")[0]["code"] == "attachment_not_found"


def test_two_checks_of_one_upload_write_it_once(api: Api, tenant: dict, chat: dict, monkeypatch):
    from botocore.client import BaseClient

    attachment_id = uploaded(api, chat)
    puts: list[str] = []
    make_api_call = BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        if operation_name == "PutObject":
            puts.append(api_params["Bucket"])
        return make_api_call(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def racer() -> None:
        barrier.wait()
        results.append(checking.check(tenant["tenant_id"], attachment_id))

    threads = [threading.Thread(target=racer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert puts == [FILES]  # one sealed write; the loser saw the claim
    assert "ready" in results and len(results) == 2
    assert checking.check(tenant["tenant_id"], attachment_id) == "ready" and puts == [FILES]  # redelivered: nothing


# --- Reading --------------------------------------------------------------------------------------
def test_no_one_else_reads_a_file(api: Api, tenant: dict, chat: dict):
    attachment_id = uploaded(api, chat)
    run_checks()
    stranger = widget_session(api, tenant).json_body["visitor_token"]
    api.add_agent(tenant["admin_token"], "ann@acme.com")
    ann = api.login(tenant["tenant_id"], "ann@acme.com")
    other = api.signup(name="Other", email="boss@other.com")
    boss = api.login(other["tenant_id"], "boss@other.com")
    for token in (stranger, ann, boss):
        assert download(api, attachment_id, token).status_code == 404
        assert api.call("GET", f"/v1/attachments/{attachment_id}/status", token=token).status_code == 404
    assert download(api, attachment_id, "garbage").status_code == 401


def test_a_large_file_is_read_in_ranges_that_open_only_their_segments(api: Api, tenant: dict, chat: dict,
                                                                      monkeypatch):
    monkeypatch.setattr(sealing, "SEGMENT_BYTES", 1000)
    monkeypatch.setattr(service, "PIECE_BYTES", 2500)
    data = "".join(f"line {n:05d}\n" for n in range(600)).encode()  # 6600 bytes: 7 segments
    attachment_id = uploaded(api, chat, data, filename="log.txt", content_type="text/plain")
    run_checks()
    token = chat["visitor_token"]
    first = download(api, attachment_id, token)
    assert first.status_code == 206 and first.body == data[:2500]
    assert first.headers["Content-Range"] == f"bytes 0-2499/{len(data)}"
    assert first.headers["Content-Type"] == "application/octet-stream"
    assert first.headers["Content-Disposition"].startswith("attachment; ")
    middle = download(api, attachment_id, token, "bytes=999-1001")
    assert middle.status_code == 206 and middle.body == data[999:1002]
    tail = download(api, attachment_id, token, "bytes=-10")
    assert tail.body == data[-10:] and tail.headers["Content-Range"] == f"bytes {len(data) - 10}-{len(data) - 1}/6600"
    pieces, at = b"", 0
    while at < len(data):
        piece = download(api, attachment_id, token, f"bytes={at}-")
        pieces, at = pieces + piece.body, at + len(piece.body)
    assert pieces == data
    for bad in ("bytes=6600-", "bytes=5-1", "items=0-1", "bytes=0-1,4-5", "bytes=x-"):
        refused = download(api, attachment_id, token, bad)
        assert refused.status_code == 416 and error_of(refused)["code"] == "range_not_satisfiable", bad


def test_an_erased_visitors_files_are_gone(api: Api, tenant: dict, chat: dict):
    attachment_id = uploaded(api, chat)
    run_checks()
    assert api.call("DELETE", f"/v1/visitors/{widget_visitor_id(api, chat)}",
                    token=tenant["admin_token"]).status_code == 202
    gone = download(api, attachment_id, tenant["admin_token"])
    assert gone.status_code == 410 and error_of(gone)["code"] == "gone"
    assert objects(FILES) == []  # unreadable already; deleted as well


def widget_visitor_id(api: Api, chat: dict) -> str:
    return api.call("GET", f"/v1/conversations/{chat['conversation_id']}",
                    token=chat["sam_token"]).json_body["visitor_id"]


def test_the_message_path_adds_one_batch_read_for_its_files(api: Api, tenant: dict, chat: dict, monkeypatch):
    from pynamodb.connection.base import Connection

    ids = [uploaded(api, chat) for _ in range(2)]
    run_checks()
    calls: list[str] = []
    dispatch = Connection.dispatch

    def recording(self, operation_name, operation_kwargs):
        calls.append(operation_name)
        return dispatch(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", recording)
    send = {"action": "message.send", "conversation_id": chat["conversation_id"]}
    chat["vera"].send(**send, client_msg_id="plain", text="no files")
    plain = list(calls)
    calls.clear()
    chat["vera"].send(**send, client_msg_id="files", text="two files", attachment_ids=ids)
    assert chat["vera"].of_type("ack")[-1]["client_msg_id"] == "files"
    assert sorted(calls) == sorted([*plain, "BatchGetItem"])


# --- Limits ---------------------------------------------------------------------------------------
@pytest.mark.frozen_clock
def test_a_visitor_starts_a_bounded_number_of_uploads_an_hour_staff_are_not_counted(api: Api, tenant: dict,
                                                                                      chat: dict):
    use_limits(attachments_per_visitor_per_hour=2)
    assert [start(api, chat).status_code for _ in range(3)] == [201, 201, 429]
    refused = start(api, chat)
    assert error_of(refused)["code"] == "rate_limited" and int(refused.headers["Retry-After"]) > 0
    assert start(api, chat, token=chat["sam_token"]).status_code == 201


def test_a_conversation_holds_a_bounded_number_of_files_and_none_once_closed(api: Api, tenant: dict, chat: dict,
                                                                              monkeypatch):
    monkeypatch.setattr(uploads, "MAX_PER_CONVERSATION", 2)
    assert [start(api, chat, token=chat["sam_token"]).status_code for _ in range(3)] == [201, 201, 409]
    assert error_of(start(api, chat, token=chat["sam_token"]))["code"] == "too_many_attachments"
    assert len(objects(UPLOADS)) == 0 and len(all_items()["switchboard-test-attachments"]) == 2
    chat["sam"].send(action="conversation.close", conversation_id=chat["conversation_id"], resolution="resolved")
    monkeypatch.setattr(uploads, "MAX_PER_CONVERSATION", 100)
    assert error_of(start(api, chat, token=chat["sam_token"]))["code"] == "conversation_closed"


def test_the_largest_file_is_a_setting_within_bounds(api: Api, tenant: dict):
    settings = api.call("GET", "/v1/settings", token=tenant["admin_token"]).json_body
    assert settings["attachments_max_bytes"] == 10 * 1024 * 1024
    for refused in (0, 1023, 25 * 1024 * 1024 + 1, "10MB"):
        answer = api.call("PUT", "/v1/settings", {"attachments_max_bytes": refused}, token=tenant["admin_token"])
        assert answer.status_code == 400, refused
    changed = api.call("PUT", "/v1/settings", {"attachments_max_bytes": 1024 * 1024}, token=tenant["admin_token"])
    assert changed.json_body["attachments_max_bytes"] == 1024 * 1024


def test_the_access_bundle_lists_the_files_of_the_visitors_conversations(api: Api, tenant: dict, chat: dict):
    import io
    import zipfile

    from tests.functional.test_access_exports import compliance_token, exported

    attachment_id = uploaded(api, chat, filename="receipt.png")
    uploaded(api, chat, exe(), filename="virus.png")  # rejected: never listed
    run_checks()
    token = compliance_token(api, tenant)
    _, bundle = exported(api, token, widget_visitor_id(api, chat))
    listed = json.loads(zipfile.ZipFile(io.BytesIO(bundle)).read("attachments.json"))
    assert [(a["attachment_id"], a["filename"], a["content_type"], a["size"], a["uploaded_by"]["kind"])
            for a in listed["attachments"]] == [(attachment_id, "receipt.png", "image/png", len(png()), "visitor")]
    assert "not in this bundle" in listed["note"]


def test_a_sealed_file_moved_reordered_or_cut_short_does_not_open(api: Api, tenant: dict, chat: dict, monkeypatch,
                                                                  caplog):
    monkeypatch.setattr(sealing, "SEGMENT_BYTES", 100)
    data = b"0123456789abcdefghijklmnopqrstuvwxyz" * 7 + b"tail"  # 256 bytes: 3 segments
    attachment_id = uploaded(api, chat, data, filename="a.txt", content_type="text/plain")
    run_checks()
    [key] = objects(FILES)
    s3 = runtime().client("s3")
    sealed = s3.get_object(Bucket=FILES, Key=key)["Body"].read()
    stride = 100 + sealing.OVERHEAD
    first, second, last = sealed[:stride], sealed[stride:2 * stride], sealed[2 * stride:]
    assert download(api, attachment_id, chat["visitor_token"]).body == data
    for doctored in (second + first + last, first + second, first + second + first[:len(last)]):
        s3.put_object(Bucket=FILES, Key=key, Body=doctored)
        with caplog.at_level("ERROR", logger="switchboard.attachments"):
            refused = download(api, attachment_id, chat["visitor_token"])
        assert refused.status_code == 500 and error_of(refused)["code"] == "internal_error"
        assert "attachment_corrupted" in caplog.text and attachment_id in caplog.text
        caplog.clear()
    other = uploaded(api, chat, data, filename="b.txt", content_type="text/plain")  # another file's segments
    run_checks()
    theirs = next(k for k in objects(FILES) if k.endswith(other))
    s3.put_object(Bucket=FILES, Key=key, Body=s3.get_object(Bucket=FILES, Key=theirs)["Body"].read())
    assert download(api, attachment_id, chat["visitor_token"]).status_code == 500


def test_retention_shreds_the_files_with_the_text(api: Api, tenant: dict, chat: dict, clock):
    attachment_id = uploaded(api, chat)
    run_checks()
    chat["sam"].send(action="conversation.close", conversation_id=chat["conversation_id"], resolution="resolved")
    api.call("PUT", "/v1/settings", {"retention_days": 1}, token=tenant["admin_token"])
    assert download(api, attachment_id, chat["visitor_token"]).status_code == 200
    clock.advance(2 * 86400)
    assert run_sweep("retention")["shredded"] == 1
    admin = api.login(tenant["tenant_id"], "admin@acme.com")  # the tokens of two days ago have lapsed
    gone = download(api, attachment_id, admin)
    assert gone.status_code == 410 and error_of(gone)["code"] == "gone"
    assert api.call("GET", f"/v1/attachments/{attachment_id}/status", token=admin).status_code == 410
