"""Files in a chat, in headless Chromium against the local stack: the visitor attaches an image with the
widget's picker (on the tenant's own site, another origin) and it shows as a thumbnail in the widget and
in the console; the agent drops a PDF on the conversation and the visitor gets a chip that downloads the
same bytes; a file over the tenant's limit is refused in words and nothing is sent. In Chinese (both
sides) checked whole by axe and for English left; the server's own 413 in English in the console."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect
from websockets.sync.client import connect

from tests.attachment_files import png
from tests.browser.checks import assert_accessible, assert_no_english
from tests.browser.conftest import WIDGET, Shop, online_agent, screenshot, visitor_says
from tests.browser.widget_pages import tenant_site

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

LIMIT = 64 * 1024
# A name that is markup: shown as these characters, never parsed.
PDF_NAME = '<img src=x onerror="window.pwned=1">invoice.pdf'
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" + bytes(range(256)) + b"\n%%EOF\n"


def drop_file(page, selector: str, name: str, content_type: str, data: bytes) -> None:
    """Drops a file on the element, as a drag from the desktop would."""
    transfer = page.evaluate_handle("""([name, type, bytes]) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], name, {type}));
      return transfer;
    }""", [name, content_type, list(data)])
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def test_files_both_ways_in_chinese(stack, contexts):
    shop = Shop(stack, "Kettles")
    shop.add_agent("mei@kettles.com", "Mei Lin")
    shop.settings(attachments_max_bytes=LIMIT)
    agent, visitor = contexts(locale="zh-CN"), contexts(locale="zh-CN")
    online_agent(shop, agent, "mei@kettles.com")
    uploads: list[str] = []
    visitor.on("request", lambda request: uploads.append(request.url)
               if request.method == "POST" and request.url.endswith("/attachments") else None)
    tenant_site(visitor, shop)
    visitor.click(f"{WIDGET} .bubble")
    visitor_says(visitor, "我的水壶坏了")
    agent.click("#mine button.conversation")
    agent.wait_for_selector("#messages li.visitor >> text=我的水壶坏了")

    # The visitor picks an image: uploaded with progress, then sent with no text.
    image = png(96, 64)
    with visitor.expect_file_chooser() as chooser:
        visitor.click(f"{WIDGET} button.attach")
    chooser.value.set_files({"name": "broken.png", "mimeType": "image/png", "buffer": image})
    pending = visitor.locator(f"{WIDGET} li.pending-file.ready")
    expect(pending.locator(".file-name")).to_have_text("broken.png")
    expect(pending.locator("progress")).to_have_js_property("value", 1)
    assert_no_english(visitor, WIDGET)
    assert_accessible(visitor, WIDGET)
    visitor.focus(f"{WIDGET} .composer textarea")
    visitor.keyboard.press("Enter")
    expect(visitor.locator(f"{WIDGET} li.pending-file")).to_have_count(0)
    for page, thumbnail in ((visitor, f"{WIDGET} li.message.visitor:not(.sending) .thumbnail img"),
                            (agent, "#messages li.visitor .thumbnail img")):
        expect(page.locator(thumbnail)).to_have_js_property("naturalWidth", 96)  # decoded: a real image
        expect(page.locator(thumbnail)).to_have_attribute("src", re.compile("^blob:"))

    # The agent drops a PDF on the conversation and sends it; the visitor downloads the same bytes.
    drop_file(agent, "#messages", PDF_NAME, "application/pdf", PDF)
    expect(agent.locator("#chat li.pending-file.ready")).to_have_count(1)
    agent.click("#send")
    chip = visitor.locator(f"{WIDGET} li.message.agent .file-chip")
    expect(chip.locator(".file-name")).to_have_text(PDF_NAME)  # as characters: no <b> element made
    expect(chip.locator(".file-kind")).to_have_text("PDF 文件")
    expect(chip.locator(".file-size")).to_have_text(f"{len(PDF)} 字节")
    assert visitor.locator(f"{WIDGET} li.message.agent img").count() == 0
    with visitor.expect_download() as download:
        chip.click()
    assert Path(download.value.path()).read_bytes() == PDF
    assert visitor.evaluate("window.pwned") is None and agent.evaluate("window.pwned") is None

    # An upload that S3 holds up: shown in progress, cancelled, gone; the focus back on the picker.
    held = []

    def to_s3(url: str) -> bool:
        return not url.startswith(stack.base) and "/attachments" not in url and "upload" in url

    visitor.route(to_s3, lambda route: held.append(route))
    with visitor.expect_file_chooser() as chooser:
        visitor.click(f"{WIDGET} button.attach")
    # Cancelled once the bytes are on their way to S3 (before that, the API call is still running).
    with visitor.expect_request(lambda request: to_s3(request.url)):
        chooser.value.set_files({"name": "slow.png", "mimeType": "image/png", "buffer": png(96, 64)})
    expect(visitor.locator(f"{WIDGET} li.pending-file.uploading .state")).to_have_text("正在上传…")
    assert_no_english(visitor, WIDGET)
    assert_accessible(visitor, WIDGET)
    visitor.click(f"{WIDGET} li.pending-file .remove-file")
    expect(visitor.locator(f"{WIDGET} li.pending-file")).to_have_count(0)
    assert held and visitor.evaluate("() => document.querySelector('#switchboard-widget').shadowRoot"
                                     ".activeElement.classList.contains('attach')")
    visitor.unroute_all(behavior="ignoreErrors")

    # Over the limit: said in Chinese before any upload, and nothing is sent.
    with visitor.expect_file_chooser() as chooser:
        visitor.click(f"{WIDGET} button.attach")
    chooser.value.set_files({"name": "huge.png", "mimeType": "image/png", "buffer": b"\x89PNG" + bytes(LIMIT)})
    expect(visitor.locator(f"{WIDGET} .attachment-tray .attach-error")).to_have_text(
        "“huge.png”太大了：文件不能超过 64 千字节。")
    expect(visitor.locator(f"{WIDGET} .attachment-tray .attach-error .file-name")).to_have_text("huge.png")
    expect(visitor.locator(f"{WIDGET} li.pending-file")).to_have_count(0)
    expect(agent.locator("#messages li.message")).to_have_count(3)
    assert len(uploads) == 2  # the image's and the cancelled one's: the widget knew the limit (its config)
    for page, within in ((visitor, WIDGET), (agent, "#chat")):
        assert_no_english(page, within)
        assert_accessible(page, within)
    screenshot(agent, "attachments.zh-CN")


def visitor_sends_file(stack, session: dict, socket, conversation_id: str, name: str, data: bytes) -> None:
    """What the widget does, over the API: start the upload, post the bytes to S3, wait for the check, send."""
    auth = {"Authorization": f"Bearer {session['visitor_token']}"}
    started = requests.post(f"{stack.base}/v1/conversations/{conversation_id}/attachments", headers=auth, timeout=30,
                            json={"filename": name, "content_type": "image/png", "size": len(data)}).json()
    posted = requests.post(started["upload"]["url"], data=started["upload"]["fields"], files={"file": data}, timeout=30)
    assert posted.status_code in (200, 201, 204), posted.text
    for _ in range(50):  # checked from the upload queue, or on this read if the queue has not yet
        status = requests.get(f"{stack.base}/v1/attachments/{started['attachment_id']}/status", headers=auth,
                              timeout=30).json()["status"]
        if status != "pending":
            break
        time.sleep(0.2)
    assert status == "ready"
    socket.send(json.dumps({"action": "message.send", "client_msg_id": "m2", "conversation_id": conversation_id,
                            "text": "", "attachment_ids": [started["attachment_id"]]}))


def set_limit_in_settings(shop: Shop, admin, email: str) -> int:
    """The admin sets the largest attachment on the Settings screen, in MiB (checked there first)."""
    shop.sign_in(admin, email)
    admin.click("#tab-settings")
    size = admin.locator("#setting-attachments-max-bytes")
    expect(size).to_have_value("10")  # the default, 10 MiB
    size.fill("0.05")
    admin.click("#settings-save")
    expect(admin.locator("#setting-attachments-max-bytes-error")).to_have_text(
        "Enter a size from 0.1 to 25 MiB, with one decimal at most.")
    size.fill("0.1")
    admin.click("#settings-save")
    expect(admin.locator("#settings-status")).to_have_text("Saved.")
    limit = shop.call("GET", "/v1/settings").json()["attachments_max_bytes"]
    assert limit == round(0.1 * 1024 * 1024)
    return limit


def test_the_servers_refusal_shows_in_the_console(stack, contexts):
    """In English: a visitor's image shows as a thumbnail in the console (the chat, then History); the admin sets
    the limit in Settings (MiB); the server's 413 (the console does not know the limit) is said in the console's
    words."""
    shop = Shop(stack, "Pans")
    shop.add_agent("sam@pans.com", "Sam Stone")
    admin, agent = contexts(locale="en-US"), contexts(locale="en-US")
    online_agent(shop, agent, "sam@pans.com")
    session = stack.post(f"/v1/widget/{shop.widget_key}/sessions", {"name": "Ana"}).json()
    with connect(f"{session['ws_url']}/?token={session['visitor_token']}", open_timeout=10) as socket:
        socket.send(json.dumps({"action": "message.send", "client_msg_id": "m1", "text": "Photo of the pan?"}))
        conversation_id = next(frame for frame in map(json.loads, socket) if frame["type"] == "ack")["conversation_id"]
        visitor_sends_file(stack, session, socket, conversation_id, "pan-handle.png", png(40, 30))
        agent.click("#mine button.conversation")
        agent.wait_for_selector("#messages li.visitor >> text=Photo of the pan?")
        expect(agent.locator("#messages li.visitor .thumbnail img")).to_have_js_property("naturalWidth", 40)
        limit = set_limit_in_settings(shop, admin, "admin@pans.com")
        # Pasted into the reply box, as an image copied from the screen is.
        agent.locator("#reply").evaluate("""(reply, bytes) => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([new Uint8Array(bytes)], "pan.png", {type: "image/png"}));
          reply.dispatchEvent(new ClipboardEvent("paste", {clipboardData: transfer, bubbles: true, cancelable: true}));
        }""", list(b"\x89PNG" + bytes(limit)))
        expect(agent.locator("#chat .attachment-tray .attach-error")).to_have_text(
            "“pan.png” is too large: files can be up to 102.4 KB.")
        expect(agent.locator("#chat li.pending-file")).to_have_count(0)
        assert_accessible(agent, "#chat")
        screenshot(agent, "attachments")
    # The History screen's read-only transcript shows the file too.
    agent.click("#tab-workspace")
    agent.click("#workspace-rows tr[data-id] .open-conversation")
    expect(agent.locator("#workspace-transcript li.visitor .thumbnail img")).to_have_js_property("naturalWidth", 40)
