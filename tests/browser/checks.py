"""Checks every screen's browser test makes: accessibility (axe-core, WCAG 2.1 A and AA) and, in Chinese,
that no English is left on the page.

Data shown on a page (names, emails, ids, messages, code to copy) is not the interface's text: the element
holding it carries `translate="no"` (HTML's own mark for "do not translate this"), and the English check
skips it. Everything else visible (text, placeholders, labels, titles, alt texts, button values) must come
from the zh-CN catalog.
"""
from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe

# Names that stay as they are in Chinese text: the product, protocols and formats.
LATIN_TERMS = frozenset({"Switchboard", "API", "SSO", "OpenID", "Connect", "TOTP", "QR", "CSV", "JSON", "SHA",
                         "URL", "URI", "ID", "HTTPS", "HMAC", "PEM", "ZIP", "CSAT", "SLA", "FAQ", "ISO", "UTC",
                         "IP", "SDK", "PDF", "Webhook", "Ctrl", "Alt", "Esc", "Enter", "Tab", "Shift", "AM", "PM"})
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}

# Visible text and labelling attributes, through open shadow roots (the widget), outside translate="no".
_VISIBLE_TEXTS = """(within) => {
  const found = [];
  const visible = (node) => !!(node.offsetWidth || node.offsetHeight || node.getClientRects().length);
  const walk = (root) => {
    for (const node of [root, ...root.querySelectorAll("*")]) {
      if (!(node instanceof Element)) continue;
      if (node.closest("[translate=no], script, style, noscript")) continue;
      if (node.shadowRoot) walk(node.shadowRoot);
      if (!visible(node)) continue;
      for (const child of node.childNodes) {
        if (child.nodeType === Node.TEXT_NODE && child.textContent.trim()) found.push(child.textContent.trim());
      }
      for (const name of ["placeholder", "aria-label", "title", "alt"]) {
        if (node.getAttribute(name)) found.push(node.getAttribute(name));
      }
      if (node.tagName === "INPUT" && ["button", "submit"].includes(node.type) && node.value) found.push(node.value);
    }
  };
  walk(within ? document.querySelector(within) : document);
  return found;
}"""


def english_left(page, within: str | None = None) -> list[str]:
    """The visible strings of the page (or of the element `within` selects) that hold an English word."""
    left = []
    for text in page.evaluate(_VISIBLE_TEXTS, within):
        words = [word for word in re.findall(r"[A-Za-z]{2,}", text) if word not in LATIN_TERMS]
        if words:
            left.append(text)
    return left


def assert_no_english(page, within: str | None = None) -> None:
    left = english_left(page, within)
    assert not left, f"English on a zh-CN page (or data without translate=\"no\"): {left}"


def assert_accessible(page, context: str | None = None) -> None:
    """No axe-core violation of WCAG 2.1 A/AA on the page (or in the part `context` selects)."""
    results = Axe().run(page, context=context, options=WCAG_AA)
    violations = [f"{rule['id']} ({rule['impact']}): {rule['help']} at "
                  f"{[node['target'] for node in rule['nodes']][:5]}" for rule in results.response["violations"]]
    assert not violations, "\n".join(violations)
