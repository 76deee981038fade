// The open conversation: its messages, the visitor's typing, the reply box (with canned
// responses) and the actions: transfer, escalate, close. A sent message shows at once, marked
// "sending", until its ack; someone else's conversation is read only.
import {CannedSuggestions} from "./console-canned.js";
import {SUPERVISING_ROLES} from "./console-roles.js";
import {clock, el, insertBySeq, replace} from "./dom.js";

const TYPING_IDLE_MS = 3000;
const TYPING_SHOWN_MS = 8000;

export class ChatPanel {
  // conversations: the Conversations screen this panel shows the selected conversation of.
  constructor(conversations) {
    this.conversations = conversations;
    this.app = conversations.app;
    this.me = conversations.me;
    this.pending = new Map();  // client_msg_id -> message node awaiting its ack
    this.canned = new CannedSuggestions(this.app.api, (text) => this.useCanned(text));
  }

  // A new, empty panel for a newly drawn screen.
  element() {
    this.section = el("section", {id: "chat", class: "chat"}, el("p", {class: "empty"}, "Pick a conversation."));
    return this.section;
  }

  show(entry) {
    const mine = this.conversations.isMine(entry);
    this.messages = el("ol", {id: "messages", class: "messages", "aria-live": "polite"});
    this.typingLine = el("p", {id: "typing", class: "typing", hidden: true}, "The visitor is typing…");
    this.reply = el("textarea", {id: "reply", rows: 3, maxlength: 4000, disabled: !mine, "aria-label": "Reply",
                                 placeholder: mine ? "Reply… (type / for canned responses)" : "Read only",
                                 oninput: () => this.composing(entry), onkeydown: (event) => this.replyKey(event, entry)});
    this.title = el("h2", {id: "chat-title"}, this.conversations.label(entry));
    replace(this.section,
      el("header", {class: "chat-header"}, this.title,
         el("span", {id: "chat-status", class: "status"}, entry.closed ? `closed (${entry.item.resolution || ""})` : entry.item.status || "")),
      this.messages, this.typingLine, this.canned.element(),
      el("form", {id: "composer", class: "composer", onsubmit: (event) => { event.preventDefault(); this.send(entry); }},
         this.reply, el("button", {type: "submit", id: "send", disabled: !mine}, "Send")),
      mine || SUPERVISING_ROLES.has(this.me.role) ? this.actions(entry, mine) : null);
    for (const message of [...entry.transcript.messages.values()]) this.drawMessage(entry, message);
  }

  actions(entry, mine) {
    const transferTo = el("input", {id: "transfer-to", placeholder: "team name or agent id", list: "agent-ids"});
    const transferKind = el("select", {id: "transfer-kind", "aria-label": "Transfer to"},
                            el("option", {value: "team"}, "team"), el("option", {value: "agent"}, "agent"));
    const resolution = el("select", {id: "resolution", "aria-label": "Resolution"},
                          el("option", {value: "resolved"}, "resolved"), el("option", {value: "unresolved"}, "unresolved"));
    return el("div", {class: "actions"},
      el("span", {}, "Transfer to "), transferKind, transferTo,
      el("datalist", {id: "agent-ids"}, this.conversations.agents.map((agent) => el("option", {value: agent.agent_id}, agent.name))),
      el("button", {type: "button", id: "transfer", onclick: () => this.transfer(entry, transferKind.value, transferTo.value.trim())}, "Transfer"),
      mine ? el("button", {type: "button", id: "escalate", onclick: () => this.act("conversation.escalate", entry)}, "Escalate") : null,
      mine ? resolution : null,
      mine ? el("button", {type: "button", id: "close-conversation",
                           onclick: () => this.act("conversation.close", entry, {resolution: resolution.value})}, "Close") : null);
  }

  retitle(text) {
    if (this.title) this.title.textContent = text;
  }

  drawMessage(entry, message) {
    if (!this.messages || this.conversations.selected !== entry.item.conversation_id) return;
    const kind = message.sender.kind;
    const who = kind === "visitor" ? this.conversations.label(entry)
                                   : message.sender.name || {bot: "Bot", system: "Notice"}[kind] || "Agent";
    const text = message.text ?? (message.redacted ? "[redacted]" : "[unreadable]");
    const node = el("li", {class: `message ${kind}${message.sender.id === this.me.agent_id ? " own" : ""}`},
                    el("span", {class: "who"}, who), el("span", {class: "text"}, text),
                    el("time", {}, clock(message.sent_at)));
    if (message.sender.id === this.me.agent_id && message.seq <= entry.readSeq) node.classList.add("seen");
    insertBySeq(this.messages, node, message.seq);
    this.messages.scrollTop = this.messages.scrollHeight;
  }

  // My messages up to readSeq, read by the visitor.
  markSeen(readSeq) {
    if (!this.messages) return;
    for (const node of this.messages.querySelectorAll("li.own")) {
      if (Number(node.dataset.seq) <= readSeq) node.classList.add("seen");
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
    if (!text || !this.conversations.isMine(entry)) return;
    this.reply.value = "";
    this.canned.hide();
    this.stopTyping(entry);
    const id = this.app.channel.sendMessage({conversation_id: entry.item.conversation_id, text});
    const node = el("li", {class: "message agent own sending"}, el("span", {class: "who"}, this.me.name),
                    el("span", {class: "text"}, text), el("time", {}, clock(new Date().toISOString())));
    this.pending.set(id, {node, entry, text});
    this.messages.append(node);
    this.messages.scrollTop = this.messages.scrollHeight;
  }

  acked(frame) {
    const pending = this.pending.get(frame.client_msg_id);
    if (!pending) return;
    this.pending.delete(frame.client_msg_id);
    pending.node.remove();
    this.conversations.addMessage({conversation_id: frame.conversation_id, seq: frame.seq, text: pending.text,
                                   sent_at: new Date().toISOString(),
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
      this.app.notify("Not connected; try again in a moment.");
    }
  }

  transfer(entry, kind, target) {
    if (!target) { this.app.notify("Name a team or an agent to transfer to."); return; }
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
    if ((event.key === "Tab" || event.key === "Enter") && first) {
      event.preventDefault();
      first.click();
    } else if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      this.send(entry);
    } else if (event.key === "Escape") {
      this.canned.hide();
    }
  }

  useCanned(text) {
    this.reply.value = text;
    this.canned.hide();
    this.reply.focus();
  }
}
