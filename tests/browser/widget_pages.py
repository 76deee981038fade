"""What the widget browser tests share: the tenant's own site (another origin than Switchboard's) with
the widget tag on it, and an agent who answers over the WebSocket API (the console is not under test)."""
from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from websockets.sync.client import ClientConnection, connect

from devstack.harness import PASSWORD
from tests.browser.conftest import WIDGET, Shop


def tenant_site(page, shop: Shop, **data: str) -> None:
    """Opens a page of the tenant's own site with `<script ... data-widget-key data-{name}=value>` and
    waits for the bubble. The site is a server of its own on localhost: another origin than the stack's
    127.0.0.1 (and, as Chromium requires for reaching a loopback server, itself on loopback)."""
    attributes = "".join(f' data-{name}="{value}"' for name, value in data.items())
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Lamps</title></head><body>'
            f'<h1>Lamps and rugs</h1><script type="module" src="{shop.stack.base}/widget.js" '
            f'data-widget-key="{shop.widget_key}"{attributes}></script></body></html>').encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page.context.on("close", lambda _context: server.shutdown())
    page.goto(f"http://localhost:{server.server_address[1]}/")
    page.wait_for_selector(f"{WIDGET} .bubble")


def shadow_focus(page) -> str:
    """The class (else tag) of the element focused inside the widget's shadow root."""
    return page.evaluate("""() => {
      const active = document.querySelector('#switchboard-widget').shadowRoot.activeElement;
      return active ? (active.className || active.tagName.toLowerCase()) : null;
    }""")


class Agent:
    """An agent online over the WebSocket API, as the console would be."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    def wait_for(self, frame_type: str) -> dict:
        while True:
            frame = json.loads(self.socket.recv(timeout=15))
            if frame["type"] == frame_type:
                return frame

    def say(self, conversation_id: str, text: str) -> None:
        self.socket.send(json.dumps({"action": "message.send", "client_msg_id": str(uuid.uuid4()),
                                     "conversation_id": conversation_id, "text": text}))
        self.wait_for("ack")

    def typing(self, conversation_id: str) -> None:
        self.socket.send(json.dumps({"action": "typing", "conversation_id": conversation_id, "state": "on"}))

    def close(self, conversation_id: str) -> None:
        self.socket.send(json.dumps({"action": "conversation.close", "conversation_id": conversation_id,
                                     "resolution": "resolved"}))


@contextmanager
def agent_online(shop: Shop, email: str) -> Iterator[Agent]:
    login = shop.stack.post("/v1/auth/login", {"tenant_id": shop.tenant_id, "email": email,
                                               "password": PASSWORD}).json()
    with connect(f"{login['ws_url']}/?token={login['token']}", open_timeout=10) as socket:
        socket.send(json.dumps({"action": "presence.set", "status": "online"}))
        yield Agent(socket)
