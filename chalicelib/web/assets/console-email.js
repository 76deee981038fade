// The email channel in the console (docs/email.md): the mark on email conversations (lists and chat
// header), whether each answer went out by email, the tenant's inbound address in Settings (read-only,
// with a copy button), and on the local stack a link to the emails the product sent (/dev/outbox,
// answered only by the local server).
import {el} from "./dom.js";
import {t} from "./i18n.js";

const OUTBOX = "/dev/outbox";  // not UI text

export function emailMark() {
  return el("span", {class: "channel-mark", title: t("console-email.mark_title")}, t("console-email.mark"));
}

const STATUS_TEXT = {
  sent: "console-email.status_sent",
  suppressed: "console-email.status_suppressed",
  capped: "console-email.status_capped",
  unsendable: "console-email.status_unsendable",
};

// The line under an answer saying whether its email went out (a message's `email_status`); null if
// it was not sent as email.
export function emailStatusNote(status) {
  if (!STATUS_TEXT[status]) return null;
  return el("span", {class: status === "sent" ? "email-status muted" : "email-status warning"}, emailStatusText(status));
}

export function emailStatusText(status) {
  return t(STATUS_TEXT[status]);
}

// A conversation is an email one when the server said so (the list's `channel`, a message's `channel`).
export function isEmail(item) {
  return item?.channel === "email";
}

export function inboundAddressSection(address) {
  const input = el("input", {id: "setting-inbound-email-address", type: "text", readonly: true, value: address,
                             translate: "no", "aria-describedby": "inbound-address-hint"});
  const status = el("span", {class: "muted", role: "status"});
  const copy = el("button", {type: "button", id: "copy-inbound-address", onclick: async () => {
    await navigator.clipboard.writeText(address);
    status.textContent = t("console-email.copied");
  }}, t("console-email.copy"));
  return el("fieldset", {class: "section", id: "inbound-email"}, el("legend", {}, t("console-email.section")),
    el("label", {for: input.id}, t("console-email.inbound_address")), input,
    el("p", {class: "muted hint", id: "inbound-address-hint"}, t("console-email.inbound_hint")),
    el("div", {class: "toolbar"}, copy, status));
}

// The link to the local outbox, added to `into` only when the local server answers for it (deployed, the
// path does not exist).
export async function addOutboxLink(into) {
  try {
    const probe = await fetch(OUTBOX, {method: "HEAD"});
    if (!probe.ok) return;
  } catch (failure) {
    return;
  }
  into.append(el("a", {id: "dev-outbox", class: "dev-link", href: OUTBOX, target: "_blank", rel: "noopener"},
                 t("console-email.outbox")));
}
