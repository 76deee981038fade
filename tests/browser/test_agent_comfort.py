"""Agent comfort on the Conversations screen, in Chinese (in English too when screenshots are taken; the
refused permission's test is in English): desktop notifications and the tone
for a new assignment and for news while the tab is hidden (switched off, they stop), the unread count in
the tab's title, the keyboard shortcuts pressed for real and their `?` dialog, the screen reader's
announcer; and, in Chinese, no English left and no accessibility violation."""
from __future__ import annotations

import json
import re
from contextlib import ExitStack

import pytest
import requests
from playwright.sync_api import expect
from websockets.sync.client import connect

from chalicelib.i18n import text
from tests.browser.checks import assert_accessible, assert_no_english
from tests.browser.conftest import FLOW_LOCALES, Shop, online_agent, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# Runs before the console's own scripts (through the DevTools protocol, so the console's CSP, which
# forbids inline scripts, does not apply): records each Notification made and each tone played, and
# lets the test hide the tab (headless Chromium's tab is never hidden by itself).
OBSERVE = """
window.__notifications = [];
window.__shown = [];
window.__tones = 0;
window.__hidden = false;
const RealNotification = window.Notification;
window.Notification = class extends RealNotification {
  constructor(title, options = {}) {
    super(title, options);
    window.__notifications.push({title, body: options.body || "", tag: options.tag || ""});
    window.__shown.push(this);
  }
};
Object.defineProperty(Document.prototype, "hidden", {configurable: true, get: () => window.__hidden});
Object.defineProperty(Document.prototype, "visibilityState", {configurable: true,
                      get: () => (window.__hidden ? "hidden" : "visible")});
const realStart = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) { window.__tones += 1; return realStart.apply(this, args); };
"""
# Alerts for one conversation within this long are one alert (console-notify.js COALESCE_MS).
COALESCE_MS = 3000


def hide(page, hidden: bool) -> None:
    page.evaluate("(hidden) => { window.__hidden = hidden; document.dispatchEvent(new Event('visibilitychange')); }",
                  hidden)


def notifications(page) -> list[dict]:
    return page.evaluate("window.__notifications")


def tones(page) -> int:
    return page.evaluate("window.__tones")


class Visitor:
    """A visitor on the widget's WebSocket (no widget page needed to write to the agent)."""

    def __init__(self, shop: Shop, name: str, sockets: ExitStack, **profile) -> None:
        session = requests.post(f"{shop.stack.base}/v1/widget/{shop.widget_key}/sessions",
                                json={"name": name, **profile}, timeout=30).json()
        self.socket = sockets.enter_context(
            connect(f"{session['ws_url']}/?token={session['visitor_token']}", open_timeout=10))
        self.sent = 0

    def says(self, words: str) -> None:
        self.sent += 1
        self.socket.send(json.dumps({"action": "message.send", "client_msg_id": f"m{self.sent}", "text": words}))
        while json.loads(self.socket.recv(timeout=10))["type"] != "ack":
            pass


@pytest.fixture
def visitors(stack):
    """Visitor(shop, name): each one's socket closed at the end of the test."""
    with ExitStack() as sockets:
        yield lambda shop, name, **profile: Visitor(shop, name, sockets, **profile)


def selected(page) -> str | None:
    return page.locator("#mine button.conversation.selected").get_attribute("data-conversation-id")


def focused_id(page) -> str:
    return page.evaluate("document.activeElement ? document.activeElement.id : ''")


@pytest.mark.parametrize("locale", FLOW_LOCALES)  # the same flow in English (tests/browser/conftest.py)
def test_notifications_unread_title_and_keyboard_shortcuts(stack, contexts, visitors, locale):
    say = lambda key, **params: text(locale, key, **params)  # noqa: E731
    suffix = "" if locale == "en" else f".{locale}"
    name = "Kettles" if locale == "en" else "Teapots"
    shop = Shop(stack, name)
    email = f"alex@{name.lower()}.com"
    shop.add_agent(email, "Alex Agent")
    page = contexts(locale=locale)
    page.context.grant_permissions(["notifications"], origin=stack.base)
    page.add_init_script(OBSERVE)
    online_agent(shop, page, email)

    # Desktop notifications are off until asked for; the tone is on.
    expect(page.locator("#alerts-desktop")).not_to_be_checked()
    expect(page.locator("#alerts-sound")).to_be_checked()
    page.check("#alerts-desktop")

    # A new assignment: a notification naming the visitor, the tone, the unread count in the title.
    ann = visitors(shop, "Ann Lee")
    ann.says("Hello, is anyone there?")
    expect(page.locator("#mine button.conversation")).to_have_count(1)
    expect(page.locator("#mine .unread")).to_have_text("1")
    expect(page).to_have_title(re.compile(re.escape(say("console-title.unread", count=1,
                                                          product=say("console-title.product")))))
    assert notifications(page) == [{"title": say("console-notify.assigned_title"),
                                    "body": say("console-notify.assigned_body", name="Ann Lee"),
                                    "tag": notifications(page)[0]["tag"]}]
    assert tones(page) > 0
    # The announcer tells a screen reader about it (the list itself is not a live region).
    expect(page.locator("#chat-announcer")).to_contain_text("Ann Lee")
    assert page.locator("#chat-announcer").get_attribute("aria-live") == "polite"

    # A new message while the tab is hidden: "new message" and who, never what (on a shared screen)...
    page.wait_for_timeout(COALESCE_MS)
    hide(page, True)
    ann.says("My kettle leaks")
    expect(page.locator("#mine .unread")).to_have_text("2")
    expect(page).to_have_title(re.compile(r"[(（]2[)）]"))
    assert notifications(page)[1:] == [{"title": say("console-notify.message_title", name="Ann Lee"),
                                        "body": say("console-notify.message_hidden"),
                                        "tag": notifications(page)[0]["tag"]}]
    # ...unless the agent asks for the text.
    page.check("#alerts-preview")
    page.wait_for_timeout(COALESCE_MS)
    ann.says("It is the blue one")
    expect(page.locator("#mine .unread")).to_have_text("3")
    assert notifications(page)[-1]["body"] == "It is the blue one"

    # While the tab is shown, a message is no desktop notification.
    hide(page, False)
    page.wait_for_timeout(COALESCE_MS)
    ann.says("Are you there?")
    expect(page.locator("#mine .unread")).to_have_text("4")
    assert len(notifications(page)) == 3
    # A click on a notification opens its conversation.
    page.evaluate("window.__shown[2].onclick()")
    expect(page.locator("#chat-title")).to_have_text("Ann Lee")
    expect(page.locator("#mine .unread")).to_have_count(0)

    # Both switched off (and remembered): a new assignment and a hidden tab stay quiet.
    page.uncheck("#alerts-desktop")
    page.uncheck("#alerts-sound")
    page.reload()
    page.wait_for_selector("#connection[data-state=online]")
    expect(page.locator("#alerts-desktop")).not_to_be_checked()
    expect(page.locator("#alerts-sound")).not_to_be_checked()
    expect(page.locator("#alerts-preview")).to_be_checked()
    hide(page, True)
    bo = visitors(shop, "Bo Chen")
    bo.says("A question about a teapot")
    expect(page.locator("#mine button.conversation")).to_have_count(2)
    ann.says("Hello again")
    expect(page.locator("#mine .unread").first).to_have_text(re.compile(r"\d"))
    page.wait_for_timeout(500)  # time for any alert the frames would (wrongly) raise
    assert (notifications(page), tones(page)) == ([], 0)
    hide(page, False)

    # Keyboard shortcuts, pressed for real. Single keys off the text fields...
    first, second = page.locator("#mine button.conversation").evaluate_all(
        "(buttons) => buttons.map((button) => button.dataset.conversationId)")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("j")
    expect(page.locator("#mine button.conversation.selected")).to_have_attribute("data-conversation-id", first)
    assert page.evaluate("document.activeElement.dataset.conversationId") == first
    page.keyboard.press("j")
    expect(page.locator("#mine button.conversation.selected")).to_have_attribute("data-conversation-id", second)
    page.keyboard.press("k")
    expect(page.locator("#mine button.conversation.selected")).to_have_attribute("data-conversation-id", first)
    # ...the Alt keys everywhere, in the reply box too, where a single key is just typed.
    page.keyboard.press("Alt+r")
    assert focused_id(page) == "reply"
    page.keyboard.type("jk?")
    assert page.input_value("#reply") == "jk?" and selected(page) == first
    expect(page.locator("#shortcuts")).to_have_count(0)
    page.fill("#reply", "")
    page.keyboard.press("Alt+ArrowDown")
    expect(page.locator("#mine button.conversation.selected")).to_have_attribute("data-conversation-id", second)
    page.keyboard.press("Alt+ArrowUp")
    expect(page.locator("#mine button.conversation.selected")).to_have_attribute("data-conversation-id", first)
    # However fast the keys, the visitor panel is the open conversation's.
    expect(page.locator("#visitor h2")).to_have_text("Ann Lee")
    page.keyboard.press("Alt+t")
    assert focused_id(page) == "transfer-to"
    page.wait_for_selector("#messages li.visitor >> text=Hello again")
    screenshot(page, f"conversations{suffix}")
    if locale != "en":
        assert_no_english(page, within="#conversations")
        assert_accessible(page, context="#conversations")

    # `?` opens the list of shortcuts as a modal dialog; Esc closes it and the focus comes back.
    page.locator("#mine button.conversation").first.focus()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name=say("console-shortcuts.title"))
    expect(dialog).to_be_visible()
    assert focused_id(page) == "shortcuts-close"
    for action in ("next", "previous", "reply", "transfer", "close", "help"):
        expect(dialog.locator(f"tr[data-action={action}]")).to_contain_text(say(f"console-shortcuts.{action}"))
    screenshot(page, f"shortcuts{suffix}")
    if locale != "en":
        assert_no_english(page, within="#shortcuts")
    assert_accessible(page, context="#shortcuts")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts")).to_have_count(0)
    assert page.evaluate("document.activeElement.dataset.conversationId") == first
    # And from its button, by mouse.
    page.click("#shortcuts-open")
    expect(dialog).to_be_visible()
    page.click("#shortcuts-close")
    expect(page.locator("#shortcuts")).to_have_count(0)
    assert focused_id(page) == "shortcuts-open"

    # Alt+C closes the open conversation (resolved, as the form says).
    page.keyboard.press("Alt+c")
    closed = say("console-chat.closed_with", resolution=say("console-chat.resolved"))
    expect(page.locator("#chat-status")).to_have_text(closed)
    expect(page.locator("#mine button.conversation")).to_have_count(1)


def test_a_live_message_is_read_out_and_a_refused_permission_is_explained(stack, contexts, visitors):
    shop = Shop(stack, "Toasters")
    shop.add_agent("alex@toasters.com", "Alex Agent")
    page = contexts()  # notifications not granted: headless Chromium refuses them when asked
    page.add_init_script(OBSERVE)
    online_agent(shop, page, "alex@toasters.com")
    page.check("#alerts-desktop")
    expect(page.locator("#alerts-desktop")).not_to_be_checked()
    expect(page.locator("#alerts-status")).to_have_text(text("en", "console-notify.blocked"))

    ann = visitors(shop, "Ann Lee")
    ann.says("First words")
    expect(page.locator("#mine .unread")).to_have_text("1")  # arrived before the conversation is opened
    page.click("#mine button.conversation")
    page.wait_for_selector("#messages li.visitor >> text=First words")
    expect(page.locator("#chat-announcer")).not_to_contain_text("First words")
    # Opening a conversation reads nothing out again; a message that arrives is read out, who and what.
    ann.says("Second words")
    expect(page.locator("#chat-announcer")).to_have_text("Ann Lee: Second words")
    expect(page.locator("#chat-announcer [translate=no]")).to_have_text(["Ann Lee", "Second words"])


def test_a_supervisor_reads_the_queue_and_others_chats_in_chinese(stack, contexts, visitors):
    shop = Shop(stack, "Kettlewares")
    shop.add_agent("alex@kettlewares.com", "Alex Agent", max_concurrent=1)
    shop.add_agent("sam@kettlewares.com", "Sam Supervisor", role="supervisor")
    shop.add_agent("bea@kettlewares.com", "Bea Billing", teams=["billing"])  # offline all along
    alex = contexts()
    online_agent(shop, alex, "alex@kettlewares.com")
    visitors(shop, "Ann Lee").says("My kettle whistles all the time")
    expect(alex.locator("#mine button.conversation")).to_have_count(1)
    visitors(shop, "Bo Chen", team="billing").says("Where is my invoice?")  # Bea is offline: it waits

    sam = contexts(locale="zh-CN")
    online_agent(shop, sam, "sam@kettlewares.com")
    expect(sam.locator("#queue li.queued")).to_have_count(1)
    first_in_line = text("zh-CN", "console-conversations.queue_position", position=1)
    expect(sam.locator("#queue li.queued")).to_contain_text(first_in_line)
    expect(sam.locator("#queue li.queued [translate=no]")).to_have_text("billing")
    sam.click("#all button.conversation")
    sam.wait_for_selector("#messages li.visitor >> text=My kettle whistles all the time")
    expect(sam.locator("#reply")).to_be_disabled()
    expect(sam.locator("#reply")).to_have_attribute("placeholder", text("zh-CN", "console-chat.read_only"))
    assert_no_english(sam, within="#conversations")
    assert_accessible(sam, context="#conversations")
