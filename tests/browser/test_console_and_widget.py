"""The agent console and the visitor widget in headless Chromium, against the local stack."""
from __future__ import annotations

import gzip
import json
import re

import pytest
import requests
from playwright.sync_api import expect
from websockets.sync.client import connect

from tests.browser.conftest import WIDGET, Shop, online_agent, screenshot, visitor_says

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

REFUND = "I've started your refund; you'll see it within 5 working days."


def open_widget(page, url: str) -> None:
    page.goto(url)
    page.click(f"{WIDGET} .bubble")


def texts(page, selector: str) -> list[str]:
    return page.locator(selector).all_inner_texts()


def conversation_ids(shop: Shop) -> list[str]:
    return [item["conversation_id"] for item in shop.call("GET", "/v1/conversations").json()["items"]]


def test_agent_and_visitor_chat_close_and_rate(stack, contexts):
    shop = Shop(stack, "Lamps")
    shop.add_agent("alex@lamps.com", "Alex Agent")
    shop.settings(survey_delay_seconds=0)
    assert shop.call("POST", "/v1/canned-responses", {"shortcut": "refund", "text": REFUND}).status_code == 201
    agent, visitor = contexts(), contexts()
    urls: list[str] = []
    sockets: list[str] = []
    for page in (agent, visitor):
        page.on("request", lambda request: urls.append(request.url))
        page.on("websocket", lambda socket: sockets.append(socket.url))

    online_agent(shop, agent, "alex@lamps.com")
    open_widget(visitor, shop.demo_url)
    visitor_says(visitor, "Hello, my lamp arrived broken")

    # A new chat: an unread badge and the news in the title.
    badge = agent.wait_for_selector("#mine button.conversation .unread")
    assert badge.inner_text() == "1"
    expect(agent).to_have_title(re.compile("New message"))
    agent.click("#mine button.conversation")
    agent.wait_for_selector("#messages li.visitor >> text=Hello, my lamp arrived broken")
    assert agent.locator("#mine .unread").count() == 0

    # Typing shows on the other side.
    visitor.type(f"{WIDGET} textarea[aria-label=Message]", "Are you", delay=30)
    agent.wait_for_selector("#typing", state="visible")
    visitor.fill(f"{WIDGET} textarea[aria-label=Message]", "")

    # A canned response by shortcut, sent, seen by the visitor, and marked read.
    agent.fill("#reply", "/ref")
    visitor.wait_for_selector(f"{WIDGET} .typing >> text=The agent is typing…")
    agent.click("#canned button.suggestion")
    assert agent.input_value("#reply") == REFUND
    agent.click("#send")
    visitor.wait_for_selector(f"{WIDGET} li.message.agent >> text={json.dumps(REFUND)}")
    agent.wait_for_selector("#messages li.own.seen")
    assert texts(visitor, f"{WIDGET} li.message.agent .who") == ["Alex Agent"]

    # The visitor panel: tags and notes saved through the API.
    agent.fill("#visitor-tags", "vip, lamps")
    agent.fill("#visitor-notes", "Wants a replacement")
    agent.click("#visitor-save")
    agent.wait_for_selector("#visitor-saved >> text=Saved.")
    (conversation_id,) = conversation_ids(shop)
    visitor_id = shop.call("GET", f"/v1/conversations/{conversation_id}").json()["visitor_id"]
    profile = shop.call("GET", f"/v1/visitors/{visitor_id}").json()
    assert (profile["tags"], profile["notes"]) == (["vip", "lamps"], "Wants a replacement")
    screenshot(agent, "console")
    screenshot(visitor, "widget")

    # Close, then the survey the job sends, answered in the widget.
    agent.select_option("#resolution", "resolved")
    agent.click("#close-conversation")
    visitor.wait_for_selector(f"{WIDGET} .notice >> text=This chat has ended")
    agent.wait_for_selector("#chat-status >> text=closed (resolved)")
    # The run (or the stack's own schedule, whichever comes first) sends it; the widget shows it arrived.
    requests.post(f"{stack.base}/dev/jobs/send-surveys", timeout=30).raise_for_status()
    visitor.click(f"{WIDGET} .star[aria-label='5 of 5']")
    visitor.fill(f"{WIDGET} textarea[aria-label=Comment]", "Quick and kind")
    visitor.click(f"{WIDGET} .send-survey")
    visitor.wait_for_selector(f"{WIDGET} .survey-status >> text=Thank you for your feedback!")
    screenshot(visitor, "widget-survey")
    survey = shop.call("GET", f"/v1/conversations/{conversation_id}/survey").json()
    assert (survey["rating"], survey["comment"]) == (5, "Quick and kind")

    # Session tokens travelled in headers and bodies; the only URLs holding one are the WebSocket
    # connects. (The survey's own one-purpose token is in its contract path, POST /v1/surveys/{token}.)
    agent_token = json.loads(agent.evaluate("sessionStorage.getItem('switchboard.console')"))["token"]
    saved = visitor.evaluate(f"localStorage.getItem('switchboard:{shop.widget_key}')")
    visitor_token = json.loads(saved)["visitor_token"]
    assert urls and not [url for url in urls if "token=" in url or agent_token in url or visitor_token in url]
    assert all(url.startswith(stack.ws + "/?token=") for url in sockets) and len(sockets) == 2


PAYLOADS = ['<img src=x onerror="window.__pwned=1">', "<script>window.__pwned=2</script>",
            '"><svg onload="window.__pwned=3">']


def test_message_text_is_shown_as_text_never_as_markup(stack, contexts):
    shop = Shop(stack, "Rugs")
    shop.add_agent("alex@rugs.com", "Alex Agent")
    agent, visitor = contexts(), contexts()
    online_agent(shop, agent, "alex@rugs.com")
    open_widget(visitor, shop.demo_url)
    for payload in PAYLOADS:
        visitor_says(visitor, payload)
    agent.click("#mine button.conversation")
    for payload in PAYLOADS:
        agent.fill("#reply", payload)
        agent.click("#send")
    # (The pages' CSP forbids eval, so waits go through locators rather than wait_for_function.)
    expect(visitor.locator(f"{WIDGET} li.message.agent")).to_have_count(3)
    expect(agent.locator("#messages li.message:not(.sending)")).to_have_count(6)

    assert texts(agent, "#messages li.message .text") == PAYLOADS + PAYLOADS
    assert texts(visitor, f"{WIDGET} li.message .text") == PAYLOADS + PAYLOADS
    for page, scope in ((agent, "#messages"), (visitor, f"{WIDGET} .log")):
        assert page.evaluate("window.__pwned") is None
        assert page.locator(f"{scope} img, {scope} script, {scope} svg").count() == 0


class FlakyNetwork:
    """The page's WebSockets pass through Playwright: cut() drops them on the page's side (the
    server is not told, as when a laptop leaves the Wi-Fi) and refuses new ones until restore()."""

    def __init__(self, page) -> None:
        self.down = False
        self.routes = []
        page.route_web_socket(re.compile(r"^ws://"), self._route)

    def _route(self, route) -> None:
        if self.down:
            route.close(code=1001, reason="offline")
            return
        route.connect_to_server()
        self.routes.append(route)

    def cut(self) -> None:
        self.down = True
        for route in self.routes:
            route.close(code=1001, reason="offline")
        self.routes.clear()

    def restore(self) -> None:
        self.down = False


def test_console_reconnects_and_resumes_and_the_widget_keeps_its_visitor(stack, contexts):
    shop = Shop(stack, "Vases")
    shop.add_agent("alex@vases.com", "Alex Agent")
    agent, visitor = contexts(), contexts()
    network = FlakyNetwork(agent)
    online_agent(shop, agent, "alex@vases.com")
    open_widget(visitor, shop.demo_url)
    visitor_says(visitor, "one")
    agent.click("#mine button.conversation")
    agent.wait_for_selector("#messages li.visitor >> text=one")

    # The agent loses the network; the visitor goes on writing; the agent writes too.
    network.cut()
    agent.wait_for_selector("#connection[data-state=reconnecting]")
    for text in ("two", "three", "four"):
        visitor_says(visitor, text)
    agent.fill("#reply", "written while offline")
    agent.click("#send")
    network.restore()
    agent.wait_for_selector("#connection[data-state=online]", timeout=30000)
    expect(agent.locator("#messages li.message:not(.sending)")).to_have_count(5)
    assert texts(agent, "#messages li.message .text") == ["one", "two", "three", "four", "written while offline"]
    visitor.wait_for_selector(f"{WIDGET} li.message.agent >> text=written while offline")

    # A new page load: the same visitor, the open chat and its history come back.
    storage = f"localStorage.getItem('switchboard:{shop.widget_key}')"
    before = json.loads(visitor.evaluate(storage))
    visitor.reload()
    visitor.click(f"{WIDGET} .bubble")
    expect(visitor.locator(f"{WIDGET} li.message")).to_have_count(5)
    assert texts(visitor, f"{WIDGET} li.message .text") == ["one", "two", "three", "four", "written while offline"]
    after = json.loads(visitor.evaluate(storage))
    assert (after["visitor_id"], after["conversation_id"]) == (before["visitor_id"], before["conversation_id"])
    visitor_says(visitor, "five")
    agent.wait_for_selector("#messages li.visitor >> text=five")
    assert texts(agent, "#messages li.message .text")[-1] == "five"
    assert len(conversation_ids(shop)) == 1

    # The console reloaded: still signed in (this tab's session), the chat and all of it back.
    agent.reload()
    agent.wait_for_selector("#connection[data-state=online]")
    agent.click("#mine button.conversation")
    expect(agent.locator("#messages li.message")).to_have_count(6)


def test_widget_shows_the_bot_the_out_of_hours_message_and_the_queue(stack, contexts):
    shop = Shop(stack, "Clocks")
    closed_all_week = {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    shop.settings(business_hours=closed_all_week, offline_message="We are closed; we answer tomorrow.")
    assert shop.call("POST", "/v1/faq", {"question": "How long does delivery take?",
                                          "answer": "Orders arrive in 2 to 4 working days.",
                                          "keywords": ["delivery"]}).status_code == 201
    visitor = contexts()
    open_widget(visitor, shop.demo_url)
    # Out of hours the widget offers the offline form, with the tenant's own offline text.
    offline = visitor.locator(f"{WIDGET} form.offline")
    expect(offline.locator(".offline-message")).to_have_text("We are closed; we answer tomorrow.")
    offline.get_by_label("Your email").fill("olga@example.com")
    offline.get_by_label("Your message").fill("How long does delivery take?")
    offline.locator("button[type=submit]").click()
    # The bot may answer it; the message goes on to the queue all the same.
    visitor.wait_for_selector(f"{WIDGET} li.message.bot >> text=Orders arrive in 2 to 4 working days.")
    visitor.wait_for_selector(f"{WIDGET} li.message.system >> text=We are closed; we answer tomorrow.")
    visitor.wait_for_selector(f"{WIDGET} .notice >> text=You are number 1 in the queue")
    screenshot(visitor, "widget-out-of-hours")


def test_widget_refused_on_a_page_outside_allowed_origins(stack, contexts):
    shop = Shop(stack, "Mugs")
    shop.settings(allowed_origins=["https://mugs.example.org"])
    # localhost is another origin than the stack's own 127.0.0.1, like a tenant's site would be.
    other_site = shop.demo_url.replace("127.0.0.1", "localhost")
    visitor = contexts()
    open_widget(visitor, other_site)
    visitor.wait_for_selector(f"{WIDGET} .notice >> text=/origin/i")
    assert visitor.evaluate(f"localStorage.getItem('switchboard:{shop.widget_key}')") is None

    shop.settings(allowed_origins=["https://mugs.example.org", other_site.split("/demo")[0]])
    open_widget(visitor, other_site)
    visitor_says(visitor, "Hello from an allowed site")


def test_supervisor_dashboard_and_compliance_audit_export(stack, contexts):
    shop = Shop(stack, "Pots")
    shop.add_agent("sam@pots.com", "Sam Supervisor", role="supervisor")
    shop.add_agent("casey@pots.com", "Casey Compliance", role="compliance")
    session = requests.post(f"{stack.base}/v1/widget/{shop.widget_key}/sessions", json={}, timeout=30).json()
    with connect(f"{session['ws_url']}/?token={session['visitor_token']}", open_timeout=10) as socket:
        socket.send(json.dumps({"action": "message.send", "client_msg_id": "m1", "text": "hello"}))
        while json.loads(socket.recv(timeout=10))["type"] != "ack":
            pass

    supervisor = contexts()
    online_agent(shop, supervisor, "sam@pots.com")
    supervisor.click("#tab-dashboard")
    supervisor.wait_for_selector("#chart-by-hour")
    assert supervisor.inner_text("#figure-conversations .value") == "1"
    bars = supervisor.locator("#chart-by-hour rect.bar")
    assert bars.count() == 24
    assert sorted(int(v) for v in (bars.nth(i).get_attribute("data-value") for i in range(24))) == [0] * 23 + [1]
    assert supervisor.locator("#chart-csat rect.bar").count() == 5
    screenshot(supervisor, "console-dashboard")

    compliance = contexts()
    shop.sign_in(compliance, "casey@pots.com")
    compliance.wait_for_selector("#audit-rows tr")
    assert "agent.created" in texts(compliance, "#audit-rows td.action")
    compliance.click("#audit-export")
    link = compliance.wait_for_selector("#export-status .export-download", timeout=60000)
    screenshot(compliance, "console-audit")
    download = requests.get(link.get_attribute("href"), timeout=30)
    first_line = gzip.decompress(download.content).splitlines()[0]
    assert json.loads(first_line)["format"] == "switchboard.audit.v1"
    assert re.search(r"SHA-256 [0-9a-f]{64}", compliance.inner_text("#export-status"))


def test_agent_transfers_a_chat_to_another_team(stack, contexts):
    shop = Shop(stack, "Lights")
    shop.add_agent("alex@lights.com", "Alex Agent", teams=["support"])
    shop.add_agent("bea@lights.com", "Bea Billing", teams=["billing"])
    alex, bea, visitor = contexts(), contexts(), contexts()
    online_agent(shop, alex, "alex@lights.com")
    open_widget(visitor, shop.demo_url)
    visitor_says(visitor, "Question about my invoice")
    alex.click("#mine button.conversation")
    online_agent(shop, bea, "bea@lights.com")

    alex.select_option("#transfer-kind", "team")
    alex.fill("#transfer-to", "billing")
    alex.click("#transfer")
    expect(alex.locator("#mine button.conversation")).to_have_count(0)
    bea.click("#mine button.conversation")
    bea.wait_for_selector("#messages li.visitor >> text=Question about my invoice")
    visitor.wait_for_selector(f"{WIDGET} .notice >> text=You are chatting with Bea Billing.")
    bea.fill("#reply", "Bea from billing here")
    bea.click("#send")
    visitor.wait_for_selector(f"{WIDGET} li.message.agent >> text=Bea from billing here")
