"""Webhooks on moto: the admin routes, events delivered only to subscribed webhooks, signed, retried with
backoff for a day then dead, claimed so a duplicate never sends twice, and nothing added to a chat
message but one SQS send when someone subscribes. The receiver is a real server on 127.0.0.1."""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import boto3
import pytest

import app as app_module
from chalicelib.storage.webhooks import DeliveryModel
from chalicelib.webhooks import delivery
from devstack.harness import Api, agent, visitor
from devstack.moto_sqs_clock import sqs_on_clock
from devstack.queues import consumer_named, deliver_once
from tests.helpers import audit_events, counted_requests, error_of, use_limits
from tests.webhook_receiver import Receiver, receiver

DAY = 24 * 3600


@pytest.fixture
def hooks(aws, clock) -> Iterator[None]:
    """The local stack's allowance (http://127.0.0.1), and SQS delays on the test's clock."""
    use_limits(outbound_allow_loopback=True)
    with sqs_on_clock(clock):
        yield


@pytest.fixture
def endpoint(hooks) -> Iterator[Receiver]:
    with receiver() as got:
        yield got


def consume() -> int:
    return deliver_once(consumer_named(app_module.app, app_module, "webhook_events"), boto3.client("sqs"))


def add(api: Api, tenant: dict, url: str, events: list[str]) -> dict:
    answer = api.call("POST", "/v1/webhooks", {"url": url, "events": events}, token=tenant["admin_token"])
    assert answer.status_code == 201, answer.json_body
    return answer.json_body


def deliveries(api: Api, tenant: dict, webhook_id: str) -> list[dict]:
    answer = api.call("GET", f"/v1/webhooks/{webhook_id}/deliveries", token=tenant["admin_token"])
    assert answer.status_code == 200, answer.json_body
    return answer.json_body["items"]


def chat(api: Api, tenant: dict) -> str:
    """A visitor says hello, Sam answers and closes: created, assigned, 2 messages, closed."""
    sam = agent(api, tenant, "sam@acme.com")
    sam.send(action="presence.set", status="online")
    vera = visitor(api, tenant, name="Vera")
    vera.send(action="message.send", client_msg_id="v1", text="my card ends 4242")
    [assigned] = sam.of_type("conversation.assigned")
    conversation_id = assigned["conversation_id"]
    sam.send(action="message.send", conversation_id=conversation_id, client_msg_id="s1", text="hello Vera")
    sam.send(action="conversation.close", conversation_id=conversation_id, resolution="resolved")
    return conversation_id


# --- The routes --------------------------------------------------------------------------------
def test_an_admin_adds_lists_and_deletes_webhooks_the_secret_shown_once_and_audited(api: Api, tenant: dict, hooks):
    made = add(api, tenant, "https://crm.example.com/hooks?token=x", ["message.created", "conversation.closed"])
    assert made["secret"].startswith("whsec_") and made["events"] == ["conversation.closed", "message.created"]
    listed = api.call("GET", "/v1/webhooks", token=tenant["admin_token"]).json_body
    assert [hook["webhook_id"] for hook in listed["items"]] == [made["webhook_id"]]
    assert "secret" not in listed["items"][0]
    assert made["secret"].encode() not in repr(boto3.client("dynamodb").scan(
        TableName="switchboard-test-webhooks")).encode()  # stored wrapped, never as it was shown
    assert api.call("DELETE", f"/v1/webhooks/{made['webhook_id']}", token=tenant["admin_token"]).status_code == 204
    assert api.call("GET", "/v1/webhooks", token=tenant["admin_token"]).json_body["items"] == []
    [created] = audit_events(tenant["tenant_id"], "webhook.created")
    assert created["target"] == made["webhook_id"] and made["secret"] not in repr(created)
    assert created["details"]["host"] == "crm.example.com" and "token" not in repr(created)
    assert len(audit_events(tenant["tenant_id"], "webhook.deleted")) == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"url": "https://crm.example.com/", "events": ["conversation.exploded"]}, "events"),
    ({"url": "https://crm.example.com/", "events": []}, "events"),
    ({"url": "http://crm.example.com/", "events": ["message.created"]}, "url"),
    ({"url": "https://user:pw@crm.example.com/", "events": ["message.created"]}, "url"),
    ({"url": "https://10.0.0.7/", "events": ["message.created"]}, "url"),
    ({"url": "https://[::ffff:169.254.169.254]/", "events": ["message.created"]}, "url"),
    ({"url": "ftp://crm.example.com/", "events": ["message.created"]}, "url"),
])
def test_bad_webhooks_are_refused_with_the_field_and_nothing_written(api: Api, tenant: dict, aws, body: dict,
                                                                    field: str):
    answer = api.call("POST", "/v1/webhooks", body, token=tenant["admin_token"])
    assert answer.status_code == 400, answer.json_body
    assert field in error_of(answer)["message"]
    assert api.call("GET", "/v1/webhooks", token=tenant["admin_token"]).json_body["items"] == []


def test_plain_http_to_loopback_only_where_the_local_stack_allows_it(api: Api, tenant: dict, aws):
    body = {"url": "http://127.0.0.1:9/hooks", "events": ["message.created"]}
    assert api.call("POST", "/v1/webhooks", body, token=tenant["admin_token"]).status_code == 400
    use_limits(outbound_allow_loopback=True)
    assert api.call("POST", "/v1/webhooks", body, token=tenant["admin_token"]).status_code == 201


def test_a_tenant_has_at_most_ten_webhooks(api: Api, tenant: dict, aws):
    for n in range(10):
        add(api, tenant, f"https://crm.example.com/{n}", ["message.created"])
    answer = api.call("POST", "/v1/webhooks", {"url": "https://crm.example.com/x", "events": ["message.created"]},
                      token=tenant["admin_token"])
    assert (answer.status_code, error_of(answer)["code"]) == (409, "webhook_limit_reached")


def test_another_tenants_webhook_is_missing(api: Api, tenant: dict, aws):
    theirs = add(api, tenant, "https://crm.example.com/", ["message.created"])
    other = signed_up_other(api)
    for method, path in (("DELETE", f"/v1/webhooks/{theirs['webhook_id']}"),
                         ("POST", f"/v1/webhooks/{theirs['webhook_id']}/test"),
                         ("GET", f"/v1/webhooks/{theirs['webhook_id']}/deliveries")):
        assert api.call(method, path, token=other["admin_token"]).status_code == 404
    assert api.call("GET", "/v1/webhooks", token=other["admin_token"]).json_body["items"] == []
    assert len(api.call("GET", "/v1/webhooks", token=tenant["admin_token"]).json_body["items"]) == 1


def signed_up_other(api: Api) -> dict:
    other = api.signup("Globex", "admin@globex.com")
    other["admin_token"] = api.login(other["tenant_id"], "admin@globex.com")
    return other


def test_agents_cannot_touch_webhooks(api: Api, tenant: dict, aws):
    api.add_agent(tenant["admin_token"], "sam@acme.com")
    sam = api.login(tenant["tenant_id"], "sam@acme.com")
    assert api.call("GET", "/v1/webhooks", token=sam).status_code == 403
    assert api.call("POST", "/v1/webhooks", {"url": "https://crm.example.com/", "events": ["message.created"]},
                    token=sam).status_code == 403
    hook = add(api, tenant, "https://crm.example.com/", ["message.created"])
    assert api.call("POST", f"/v1/webhooks/{hook['webhook_id']}/test", token=sam).status_code == 403


# --- Events to deliveries ----------------------------------------------------------------------
def test_each_webhook_gets_the_events_it_subscribes_to_signed_and_without_message_text(
        api: Api, tenant: dict, endpoint: Receiver):
    messages = add(api, tenant, endpoint.url + "/messages", ["message.created"])
    lifecycle = add(api, tenant, endpoint.url + "/lifecycle",
                    ["conversation.created", "conversation.assigned", "conversation.closed"])
    conversation_id = chat(api, tenant)
    assert consume() == 5
    got = endpoint.wait_for(5)
    by_type = Counter(received.event["type"] for received in got)
    assert by_type == {"message.created": 2, "conversation.created": 1, "conversation.assigned": 1,
                       "conversation.closed": 1}
    secrets = {"message.created": messages["secret"]}
    for received in got:
        event = received.event
        assert set(event) == {"event_id", "type", "created_at", "tenant_id", "data"}
        assert event["tenant_id"] == tenant["tenant_id"] and event["data"]["conversation_id"] == conversation_id
        assert received.signed_by(secrets.get(event["type"], lifecycle["secret"]))
        assert b"4242" not in received.body and b"hello Vera" not in received.body
    [closed] = [r.event for r in got if r.event["type"] == "conversation.closed"]
    assert closed["data"]["resolution"] == "resolved" and closed["data"]["status"] == "closed"
    assert [d["status"] for d in deliveries(api, tenant, messages["webhook_id"])] == ["succeeded"] * 2
    assert {d["attempts"] for d in deliveries(api, tenant, lifecycle["webhook_id"])} == {1}


def test_a_test_event_goes_to_that_webhook_alone_signed_and_listed(api: Api, tenant: dict, endpoint: Receiver):
    tested = add(api, tenant, endpoint.url, ["conversation.closed"])
    other = add(api, tenant, endpoint.url, ["conversation.closed"])
    answer = api.call("POST", f"/v1/webhooks/{tested['webhook_id']}/test", token=tenant["admin_token"])
    assert answer.status_code == 202
    assert consume() == 1
    [received] = endpoint.received  # the consumer sent it before it returned
    assert received.signed_by(tested["secret"]) and not received.signed_by(other["secret"])
    assert received.event["type"] == "webhook.test" and received.event["event_id"] == answer.json_body["event_id"]
    assert received.event["data"] == {"webhook_id": tested["webhook_id"]}
    [listed] = deliveries(api, tenant, tested["webhook_id"])
    assert (listed["type"], listed["status"], listed["event_id"]) == ("webhook.test", "succeeded",
                                                                      answer.json_body["event_id"])


def test_tests_of_one_webhook_are_limited_to_six_a_minute(api: Api, tenant: dict, endpoint: Receiver):
    hook = add(api, tenant, endpoint.url, ["conversation.closed"])
    path = f"/v1/webhooks/{hook['webhook_id']}/test"
    codes = [api.call("POST", path, token=tenant["admin_token"]).status_code for _ in range(7)]
    assert codes == [202] * 6 + [429]
    assert consume() == 6


def test_another_tenants_events_never_reach_a_webhook(api: Api, tenant: dict, endpoint: Receiver):
    other = signed_up_other(api)
    add(api, other, endpoint.url, ["message.created"])
    chat(api, tenant)
    assert consume() == 0 and endpoint.received == []


def test_a_deleted_webhook_gets_nothing_more(api: Api, tenant: dict, endpoint: Receiver):
    hook = add(api, tenant, endpoint.url, ["conversation.created"])
    visitor(api, tenant).send(action="message.send", client_msg_id="v1", text="hi")
    api.call("DELETE", f"/v1/webhooks/{hook['webhook_id']}", token=tenant["admin_token"])
    assert consume() == 1  # queued while it subscribed; the consumer finds nobody to deliver to
    assert endpoint.received == []


# --- Retries -----------------------------------------------------------------------------------
def test_a_failing_receiver_is_retried_with_backoff_the_same_event_each_time(api: Api, tenant: dict, clock,
                                                                            endpoint: Receiver):
    hook = add(api, tenant, endpoint.url, ["conversation.created"])
    endpoint.script = [500, 503, 404]
    visitor(api, tenant).send(action="message.send", client_msg_id="v1", text="hi")
    assert consume() == 1
    for wait in (30, 60, 120):
        [pending] = deliveries(api, tenant, hook["webhook_id"])
        assert pending["status"] == "failed" and pending["next_attempt_at"] is not None
        clock.advance(wait - 1)
        assert consume() == 0  # not due yet: SQS still holds it
        clock.advance(1)
        assert consume() == 1
    got = endpoint.wait_for(4)
    assert [r.answered for r in got] == [500, 503, 404, 200]
    assert len({r.event["event_id"] for r in got}) == 1 and len({r.body for r in got}) == 1
    [done] = deliveries(api, tenant, hook["webhook_id"])
    assert (done["status"], done["attempts"], done["last_status_code"]) == ("succeeded", 4, 200)


def test_the_backoff_doubles_to_an_hour():
    use = [delivery.retry_wait(n) for n in range(1, 11)]
    assert use == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


def test_a_delivery_that_fails_for_a_day_is_dead_and_parked_in_the_dead_letters(api: Api, tenant: dict, clock,
                                                                             endpoint: Receiver):
    hook = add(api, tenant, endpoint.url, ["conversation.created"])
    endpoint.script = [500] * 100
    visitor(api, tenant).send(action="message.send", client_msg_id="v1", text="hi")
    consume()
    key = f"{tenant['tenant_id']}#{hook['webhook_id']}"

    def current() -> DeliveryModel:  # read directly: the admin's session does not last a day
        [only] = DeliveryModel.query(key, consistent_read=True)
        return only
    started, attempts = clock.now(), 1
    while current().status == "failed":
        clock.advance(delivery.retry_wait(attempts))
        while consume() == 1 and current().attempts == attempts:
            pass  # a wait over SQS's 900 s comes back early and goes round again
        attempts += 1
    dead = current()
    assert dead.status == "dead" and dead.last_status_code == 500
    assert clock.now() - started >= DAY and dead.attempts == attempts == len(endpoint.received)
    assert attempts == 7 + 24  # 30 s .. 32 min, then hourly to the end of the day
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="switchboard-test-webhook-events-dead")["QueueUrl"]
    [parked] = sqs.receive_message(QueueUrl=url).get("Messages", [])
    assert dead.delivery_id in parked["Body"]


def test_two_copies_of_one_attempt_send_once(api: Api, tenant: dict, endpoint: Receiver):
    hook = add(api, tenant, endpoint.url, ["conversation.created"])
    endpoint.script = [500]
    visitor(api, tenant).send(action="message.send", client_msg_id="v1", text="hi")
    consume()
    [first] = DeliveryModel.query(f"{tenant['tenant_id']}#{hook['webhook_id']}")
    DeliveryModel.update(first, actions=[DeliveryModel.next_attempt_at.remove()])  # due now
    address = {"tenant_id": tenant["tenant_id"], "webhook_id": hook["webhook_id"],
               "delivery_id": first.delivery_id, "attempt": 2}
    start = threading.Barrier(2)

    def duplicate() -> None:
        start.wait()
        delivery.retry(address)
    racers = [threading.Thread(target=duplicate) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert len(endpoint.received) == 2  # the first attempt and one second, not two
    [done] = deliveries(api, tenant, hook["webhook_id"])
    assert (done["status"], done["attempts"]) == ("succeeded", 2)


# --- The cost on the chat path -----------------------------------------------------------------
def test_a_message_costs_one_sqs_send_only_when_a_webhook_subscribes(api: Api, tenant: dict, hooks):
    add(api, tenant, "https://crm.example.com/", ["survey.answered"])  # a webhook, but not for messages
    vera = visitor(api, tenant)
    vera.send(action="message.send", client_msg_id="v0", text="hello")
    [ack] = [f for f in vera.new_frames() if f["type"] == "ack"]

    def one_message(client_msg_id: str) -> tuple[dict[str, int], int]:
        with counted_requests() as counted:
            vera.send(action="message.send", conversation_id=ack["conversation_id"], client_msg_id=client_msg_id,
                      text="again")
        return (dict(Counter(name for name in counted if name.startswith("sqs."))),
                sum(name.startswith("dynamodb.") for name in counted))
    unsubscribed, dynamodb = one_message("v1")
    assert unsubscribed == {}
    add(api, tenant, "https://crm.example.com/", ["message.created"])
    one_message("v2")  # the queue's URL, looked up once per container
    assert one_message("v3") == ({"sqs.SendMessage": 1}, dynamodb)  # and no DynamoDB request more


def test_a_webhook_made_in_another_container_is_seen_here_within_the_ttl(api: Api, tenant: dict, hooks, clock,
                                                                         boto_session):
    from chalicelib import events
    from chalicelib.runtime import Runtime, runtime, use_runtime

    here = runtime()
    assert events.subscribed(tenant["tenant_id"]) == frozenset()  # this container reads and keeps it
    use_runtime(Runtime(config=here.config, clock=clock, session=boto_session))  # another container
    add(api, tenant, "https://crm.example.com/", ["message.created"])
    assert events.subscribed(tenant["tenant_id"]) == {"message.created"}  # there: at once
    use_runtime(here)
    assert events.subscribed(tenant["tenant_id"]) == frozenset()
    clock.advance(events.SUBSCRIPTIONS_TTL + 1)
    assert events.subscribed(tenant["tenant_id"]) == {"message.created"}  # here: within the TTL
