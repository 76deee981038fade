// The open conversation: its messages, the visitor's typing, the reply box (with canned
// responses) and the actions: transfer, escalate, close. A sent message shows at once, marked
// "sending", until its ack; someone else's conversation is read only. What people wrote and their
// names are data (translate="no"); the labels of the bot and the system are the interface's.
import {AttachmentApi, words} from "./attachments.js";
import {Tray, attachmentList} from "./attachments-view.js";
import {CannedSuggestions} from "./console-canned.js";
import {emailMark, emailStatusNote, isEmail} from "./console-email.js";
import {SUPERVISING_ROLES} from "./console-roles.js";
import {el, insertBySeq, replace} from "./dom.js";
import {format, t} from "./i18n.js";

const TYPING_IDLE_MS = 3000;
const TYPING_SHOWN_MS = 8000;
// The bot's and the system's messages are signed by the interface, in its language.
const BUILT_IN = {bot: () => t("console-chat.bot"), system: () => t("console-chat.system")};
const STATUS = {bot: () => t("console-chat.status_bot"), queued: () => t("console-chat.status_queued"),
                assigned: () => t("console-chat.status_assigned"), closed: () => t("console-chat.status_closed")};
const RESOLUTION = {resolved: () => t("console-chat.resolved"), unresolved: () => t("console-chat.unresolved")};

// A conversation's status as the agent reads it ("closed (resolved)").
export function statusText(status, resolution) {
  if (status === "closed" && RESOLUTION[resolution]) return t("console-chat.closed_with", {resolution: RESOLUTION[resolution]()});
  return STATUS[status] ? STATUS[status]() : "";
}

export class ChatPanel {
  // conversations: the Conversations screen this panel shows the selected conversation of.
  constructor(conversations) {
    this.conversations = conversations;
    this.app = conversations.app;
    this.me = conversations.me;
    this.pending = new Map();  // client_msg_id -> message node awaiting its ack
    this.canned = new CannedSuggestions(this.app.api, (text) => this.useCanned(text));
    this.files = new AttachmentApi(document.baseURI, async () => this.app.api.token());
    this.fileWords = words("console-attachments.");
  }

  // A new, empty panel for a newly drawn screen.
  element() {
    this.section = el("section", {id: "chat", class: "chat"}, el("p", {class: "empty"}, t("console-chat.pick")));
    return this.section;
  }

  show(entry) {
    const mine = this.conversations.isMine(entry);
    // New messages are read out by the screen's announcer (console-conversations.js), not by this list,
    // which is redrawn whole whenever a conversation opens.
    this.messages = el("ol", {id: "messages", class: "messages", "aria-label": t("console-chat.messages")});
    this.typingLine = el("p", {id: "typing", class: "typing", hidden: true}, t("console-chat.typing"));
    this.reply = el("textarea", {id: "reply", rows: 3, maxlength: 4000, disabled: !mine, "aria-label": t("console-chat.reply"),
                                 placeholder: mine ? t("console-chat.reply_placeholder") : t("console-chat.read_only"),
                                 "aria-keyshortcuts": "Alt+R", oninput: () => this.composing(entry),
                                 onkeydown: (event) => this.replyKey(event, entry)});
    this.title = el("h2", {id: "chat-title", translate: "no"}, this.conversations.label(entry));
    const status = entry.closed ? statusText("closed", entry.item.resolution) : statusText(entry.item.status);
    // Files go with my replies only: picked, dropped on the conversation, or pasted into the reply.
    this.tray = mine ? new Tray(this.fileWords, this.files, () => entry.item.conversation_id) : null;
    const composer = el("form", {id: "composer", class: "composer", onsubmit: (event) => { event.preventDefault(); this.send(entry); }},
                        this.tray?.button, this.reply, el("button", {type: "submit", id: "send", disabled: !mine}, t("console-chat.send")));
    this.tray?.listen([this.messages, composer], this.reply);
    replace(this.section,
      el("header", {class: "chat-header"}, this.title, isEmail(entry.item) ? emailMark() : null,
         el("span", {id: "chat-status", class: "status"}, status)),
      this.messages, this.typingLine, this.canned.element(), this.tray?.element, composer,
      mine || SUPERVISING_ROLES.has(this.me.role) ? this.actions(entry, mine) : null);
    for (const message of [...entry.transcript.messages.values()]) this.drawMessage(entry, message);
  }

  actions(entry, mine) {
    const transferTo = el("input", {id: "transfer-to", list: "agent-ids", "aria-label": t("console-chat.transfer_target"),
                                    placeholder: t("console-chat.transfer_placeholder"), "aria-keyshortcuts": "Alt+T"});
    const transferKind = el("select", {id: "transfer-kind", "aria-label": t("console-chat.transfer_to")},
                            el("option", {value: "team"}, t("console-chat.to_team")),
                            el("option", {value: "agent"}, t("console-chat.to_agent")));
    const resolution = el("select", {id: "resolution", "aria-label": t("console-chat.resolution")},
                          el("option", {value: "resolved"}, t("console-chat.resolved")),
                          el("option", {value: "unresolved"}, t("console-chat.unresolved")));
    return el("div", {class: "actions", role: "group", "aria-label": t("console-chat.actions")},
      el("span", {"aria-hidden": "true"}, t("console-chat.transfer_to")), transferKind, transferTo,
      el("datalist", {id: "agent-ids"}, this.conversations.agents.map((agent) => el("option", {value: agent.agent_id}, agent.name))),
      el("button", {type: "button", id: "transfer", onclick: () => this.transfer(entry, transferKind.value, transferTo.value.trim())},
         t("console-chat.transfer")),
      mine ? el("button", {type: "button", id: "escalate", onclick: () => this.act("conversation.escalate", entry)},
                t("console-chat.escalate")) : null,
      mine ? resolution : null,
      mine ? el("button", {type: "button", id: "close-conversation", "aria-keyshortcuts": "Alt+C",
                           onclick: () => this.act("conversation.close", entry, {resolution: resolution.value})},
                t("console-chat.close")) : null);
  }

  // --- What the keyboard shortcuts do (console-shortcuts.js) ---

  focusReply() {
    if (this.reply?.isConnected && !this.reply.disabled) this.reply.focus();
  }

  focusTransfer() {
    this.section?.querySelector("#transfer-to")?.focus();
  }

  closeConversation() {
    this.section?.querySelector("#close-conversation")?.click();
  }

  retitle(text) {
    if (this.title) this.title.textContent = text;
  }

  drawMessage(entry, message) {
    if (!this.messages || this.conversations.selected !== entry.item.conversation_id) return;
    const kind = message.sender.kind;
    const node = this.messageNode(kind, message.sender.id === this.me.agent_id, this.senderName(entry, message),
                                  this.textOf(message), message.sent_at, message.text !== null && message.text !== undefined,
                                  message.attachments, message.email_status);
    if (message.sender.id === this.me.agent_id && message.seq <= entry.readSeq) this.seen(node);
    insertBySeq(this.messages, node, message.seq);
    this.messages.scrollTop = this.messages.scrollHeight;
  }

  // A message's line. written: the text is what was written (data), not the interface's word for
  // what cannot be shown ("[redacted]"); attachments: its files; emailStatus: whether it went out by email.
  messageNode(kind, own, who, text, sentAt, written = true, attachments = [], emailStatus = null) {
    return el("li", {class: `message ${kind}${own ? " own" : ""}`},
              el("span", {class: "who", translate: BUILT_IN[kind] ? null : "no"}, who),
              el("span", {class: "text", translate: written ? "no" : null}, text),
              attachmentList(attachments, this.files, this.fileWords),
              el("time", {datetime: sentAt}, format.time(sentAt)),
              emailStatusNote(emailStatus));
  }

  // A message.email frame for a message on screen: its line now says whether the email went out.
  showEmailStatus(entry, message) {
    if (!this.messages || this.conversations.selected !== entry.item.conversation_id) return;
    const node = this.messages.querySelector(`li[data-seq="${Number(message.seq)}"]`);
    if (!node) return;
    node.querySelector(".email-status")?.remove();
    const note = emailStatusNote(message.email_status);
    if (note) node.append(note);
  }

  // Who sent a message: the visitor's or agent's name; the bot and the system by the interface's words.
  senderName(entry, message) {
    const kind = message.sender.kind;
    if (kind === "visitor") return this.conversations.label(entry);
    if (BUILT_IN[kind]) return BUILT_IN[kind]();
    return message.sender.name || t("console-chat.agent");
  }

  textOf(message) {
    return message.text ?? (message.redacted ? t("console-chat.redacted") : t("console-chat.unreadable"));
  }

  seen(node) {
    node.classList.add("seen");
    node.querySelector("time").dataset.seen = t("console-chat.seen");
  }

  // My messages up to readSeq, read by the visitor.
  markSeen(readSeq) {
    if (!this.messages) return;
    for (const node of this.messages.querySelectorAll("li.own")) {
      if (Number(node.dataset.seq) <= readSeq) this.seen(node);
    }
  }

  showTyping(on) {
    if (!this.typingLine) return;
    this.typingLine.hidden = !on;
    clearTimeout(this.typingShown);
    this.typingShown = setTimeout(() => { this.typingLine.hidden = true; }, TYPING_SHOWN_MS);
  }

  hideTyping() {
    if (this.typingLine) this.typingLine.hidden = true;
  }

  // --- Sending ---

  send(entry) {
    const text = this.reply.value.trim();
    const attachments = this.tray?.ready() || [];
    if (this.tray?.busy()) { this.tray.show(this.fileWords("still_uploading")); return; }
    if (!(text || attachments.length) || !this.conversations.isMine(entry)) return;
    this.reply.value = "";
    this.tray?.clear();
    this.canned.hide();
    this.stopTyping(entry);
    const fields = {conversation_id: entry.item.conversation_id, text};
    if (attachments.length) fields.attachment_ids = attachments.map((file) => file.attachment_id);
    const id = this.app.channel.sendMessage(fields);
    const node = this.messageNode("agent", true, this.me.name, text, new Date().toISOString(), true, attachments);
    node.classList.add("sending");
    this.pending.set(id, {node, entry, text, attachments});
    this.messages.append(node);
    this.messages.scrollTop = this.messages.scrollHeight;
  }

  acked(frame) {
    const pending = this.pending.get(frame.client_msg_id);
    if (!pending) return;
    this.pending.delete(frame.client_msg_id);
    pending.node.remove();
    this.conversations.addMessage({conversation_id: frame.conversation_id, seq: frame.seq, text: pending.text,
                                   attachments: pending.attachments, sent_at: new Date().toISOString(),
                                   sender: {kind: "agent", id: this.me.agent_id, name: this.me.name}});
  }

  // An error frame: the message it refers to, if one of mine, failed.
  failed(frame) {
    const pending = this.pending.get(frame.ref);
    if (pending) {
      this.pending.delete(frame.ref);
      pending.node.classList.replace("sending", "failed");
    }
  }

  act(action, entry, fields = {}) {
    if (!this.app.channel.send({action, conversation_id: entry.item.conversation_id, ...fields})) {
      this.app.notify(t("console-chat.not_connected"));
    }
  }

  transfer(entry, kind, target) {
    if (!target) { this.app.notify(t("console-chat.name_a_target")); return; }
    this.act("conversation.transfer", entry, kind === "agent" ? {to_agent_id: target} : {to_team: target});
  }

  // --- The reply box: typing signals and canned responses ---

  composing(entry) {
    this.canned.offer(this.reply.value);
    if (!this.typingSent) this.app.channel.send({action: "typing", conversation_id: entry.item.conversation_id, state: "on"});
    this.typingSent = true;
    clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => this.stopTyping(entry), TYPING_IDLE_MS);
  }

  stopTyping(entry) {
    clearTimeout(this.typingIdle);
    if (this.typingSent) this.app.channel.send({action: "typing", conversation_id: entry.item.conversation_id, state: "off"});
    this.typingSent = false;
  }

  replyKey(event, entry) {
    const first = this.canned.first();
    if ((event.key === "Tab" || event.key === "Enter") && first) {  // not UI text
      event.preventDefault();
      first.click();
    } else if (event.key === "Enter" && !event.shiftKey) {  // not UI text
      event.preventDefault();
      this.send(entry);
    } else if (event.key === "Escape") {  // not UI text
      this.canned.hide();
    }
  }

  useCanned(text) {
    this.reply.value = text;
    this.canned.hide();
    this.reply.focus();
  }
}
