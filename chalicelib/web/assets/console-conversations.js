// The Conversations screen (agents, supervisors, admins): my conversations with unread badges,
// the queue, every open conversation for supervisors, the selected one (console-chat.js) and its
// visitor (console-visitor.js); and the chat frames that change them. Alerts (console-notify.js)
// for a new assignment and for news while the tab is hidden; keyboard shortcuts (console-shortcuts.js);
// a live region that reads out new messages to a screen reader.
import {ChatPanel} from "./console-chat.js";
import {Alerts} from "./console-notify.js";
import {SUPERVISING_ROLES} from "./console-roles.js";
import {Shortcuts} from "./console-shortcuts.js";
import {data, tData} from "./console-text.js";
import {addOutboxLink, emailMark, emailStatusText, isEmail} from "./console-email.js";
import {drawVisitorPanel} from "./console-visitor.js";
import {el, replace} from "./dom.js";
import {format, t} from "./i18n.js";
import {Transcript} from "./realtime.js";

const QUEUE_POLL_MS = 15000;
// A link to one conversation (the SLA alert emails', docs/alerts.md): /app#conversation=<id>.
const LINKED = /^#conversation=([\w-]{1,64})$/;

function visitorLabel(visitorId) {
  return t("console-conversations.visitor", {id: visitorId ? visitorId.slice(-6) : ""}).trim();
}

export class Conversations {
  // app: the signed-in console (me, api, channel, notify, title).
  constructor(app) {
    this.app = app;
    this.me = app.me;
    this.entries = new Map();  // conversation_id -> {item, transcript, unread, visitorName, readSeq, closed}
    this.selected = null;
    this.agents = [];
    this.chat = new ChatPanel(this);
    this.alerts = new Alerts();
    this.shortcuts = new Shortcuts({next: () => this.step(1), previous: () => this.step(-1),
                                    reply: () => this.chat.focusReply(), transfer: () => this.chat.focusTransfer(),
                                    close: () => this.chat.closeConversation()},
                                   () => Boolean(this.mineList?.isConnected));
  }

  start() {
    this.refreshLists().then(() => this.openLinked());
    this.onHash = () => this.openLinked();
    window.addEventListener("hashchange", this.onHash);
    this.queuePoll = setInterval(() => this.refreshQueue(), QUEUE_POLL_MS);
    this.shortcuts.install();
  }

  stop() {
    clearInterval(this.queuePoll);
    window.removeEventListener("hashchange", this.onHash);
    this.shortcuts.uninstall();
  }

  draw(main) {
    this.mineList = el("ul", {id: "mine", class: "conversation-list"});
    this.queueList = el("ul", {id: "queue", class: "conversation-list"});
    this.allList = el("ul", {id: "all", class: "conversation-list"});
    const supervising = SUPERVISING_ROLES.has(this.me.role);
    this.visitorPanel = el("aside", {id: "visitor", class: "visitor"});
    // Read out by screen readers: what arrives, not what is redrawn (a conversation opened).
    this.announcer = el("p", {id: "chat-announcer", class: "visually-hidden", "aria-live": "polite"});
    replace(main, el("div", {id: "conversations", class: "conversations"},
      el("aside", {class: "lists", "aria-label": t("console-conversations.lists")},
         el("h2", {}, t("console-conversations.mine")), this.mineList,
         el("h2", {}, t("console-conversations.queue")), this.queueList,
         supervising ? el("h2", {}, t("console-conversations.all")) : null, supervising ? this.allList : null,
         this.alerts.controls(), this.shortcuts.button(), this.devLinks = el("p", {class: "dev-links"})),
      this.chat.element(), this.visitorPanel, this.announcer));
    this.drawLists();
    addOutboxLink(this.devLinks);
    if (this.selected) this.select(this.selected);
  }

  conversation(id, item = {}) {
    let entry = this.entries.get(id);
    if (!entry) {
      entry = {item: {conversation_id: id, ...item}, transcript: new Transcript(), unread: 0, visitorName: null,
               readSeq: 0, closed: false};
      this.entries.set(id, entry);
    } else {
      Object.assign(entry.item, item);
    }
    return entry;
  }

  isMine(entry) {
    return entry.item.agent_id === this.me.agent_id && !entry.closed;
  }

  // The visitor's name, else "Visitor" and the end of their id.
  label(entry) {
    return entry.visitorName || visitorLabel(entry.item.visitor_id);
  }

  unreadTotal() {
    return [...this.entries.values()].reduce((sum, entry) => sum + (this.isMine(entry) ? entry.unread : 0), 0);
  }

  // --- The lists ---

  async refreshLists() {
    const api = this.app.api;
    try {
      const mine = await api.all("v1/conversations", {status: "assigned", agent_id: this.me.agent_id});
      for (const item of mine) this.conversation(item.conversation_id, item);
      if (SUPERVISING_ROLES.has(this.me.role)) {
        this.others = await api.all("v1/conversations", {status: "assigned"}, 2);
        if (!this.agents.length) this.agents = await api.all("v1/agents");  // to transfer to by name
      }
      await this.refreshQueue();
    } catch (failure) {
      this.app.notify(failure.message);
    }
    this.drawLists();
  }

  async refreshQueue() {
    try {
      this.queue = (await this.app.api.get("v1/queue")).items;
    } catch (failure) {
      this.queue = [];
    }
    this.drawLists();
  }

  drawLists() {
    if (!this.mineList || !this.mineList.isConnected) return;
    // Redrawn at every message: the conversation whose button had the keyboard's focus keeps it.
    const focused = document.activeElement?.closest?.(".lists button.conversation")?.dataset.conversationId;
    const row = (id, name, unread, email = false) => el("li", {},
      el("button", {type: "button", class: `conversation${id === this.selected ? " selected" : ""}`,
                    "data-conversation-id": id, onclick: () => this.select(id)},
         el("span", {class: "name"}, name), email ? emailMark() : null,
         unread ? el("span", {class: "unread", "aria-label": t("console-conversations.unread", {count: unread})},
                     format.number(unread)) : null));
    const mine = [...this.entries.values()].filter((entry) => this.isMine(entry));
    replace(this.mineList, mine.length
      ? mine.map((entry) => row(entry.item.conversation_id, data(this.label(entry)), entry.unread, isEmail(entry.item)))
      : el("li", {class: "empty"}, t("console-conversations.no_mine")));
    const queue = this.queue || [];
    replace(this.queueList, queue.length
      ? queue.map((item) => el("li", {class: "queued"},
          t("console-conversations.queue_position", {position: item.position}), " ",
          item.team ? data(item.team) : t("console-conversations.any_team"), " · ",
          t("console-conversations.waiting_since", {time: format.time(item.queued_at)})))
      : el("li", {class: "empty"}, t("console-conversations.no_queue")));
    if (this.others) {
      const others = this.others.filter((item) => item.agent_id !== this.me.agent_id);
      replace(this.allList, others.length
        ? others.map((item) => row(item.conversation_id, [data(visitorLabel(item.visitor_id)), " · ",
                                                          ...tData("console-conversations.with_agent", {agent: item.agent_id.slice(-6)})], 0,
                                  isEmail(item)))
        : el("li", {class: "empty"}, t("console-conversations.no_others")));
    }
    if (focused) this.listButton(focused)?.focus();
    this.app.title.update();
  }

  // After every (re)connect, once presence is sent again: what each of my chats missed.
  async reconnected() {
    await this.refreshLists();
    for (const entry of this.entries.values()) {
      if (this.isMine(entry)) {
        this.app.channel?.send({action: "messages.sync", conversation_id: entry.item.conversation_id,
                                after_seq: entry.transcript.contiguous});
      }
    }
  }

  // --- The selected conversation ---

  // The next (1) or previous (-1) conversation of the lists, in their order; its button takes the focus.
  async step(direction) {
    const ids = [...this.mineList.parentElement.querySelectorAll("button.conversation")].map((button) => button.dataset.conversationId);
    const at = ids.indexOf(this.selected);
    const next = ids[at === -1 ? (direction > 0 ? 0 : ids.length - 1) : at + direction];
    if (!next) return;
    const selecting = this.select(next);
    this.listButton(next)?.focus();
    await selecting;
  }

  listButton(id) {
    return this.mineList.parentElement.querySelector(`button.conversation[data-conversation-id="${CSS.escape(id)}"]`);
  }

  // The conversation a link named, once: the address bar drops it, so a reload opens the lists.
  openLinked() {
    const linked = LINKED.exec(window.location.hash);
    if (!linked) return;
    history.replaceState(null, "", window.location.pathname + window.location.search);
    this.selected = linked[1];
    this.app.openTab("conversations");  // drawing it opens the selected conversation
  }

  async select(id) {
    this.selected = id;
    const entry = this.conversation(id);
    entry.unread = 0;
    this.drawLists();
    this.chat.show(entry);
    if (!this.isMine(entry)) await this.loadHistory(entry);  // someone else's: read it over REST
    this.markRead(entry);
    drawVisitorPanel(this.visitorPanel, entry.item.visitor_id,
                     {api: this.app.api, role: this.me.role, onProfile: (profile) => this.visitorKnown(entry, profile),
                      stillWanted: () => this.selected === id});
  }

  async loadHistory(entry) {
    try {
      const id = entry.item.conversation_id;
      Object.assign(entry.item, await this.app.api.get(`v1/conversations/${encodeURIComponent(id)}`));
      for (const message of await this.app.api.all(`v1/conversations/${encodeURIComponent(id)}/messages`)) {
        this.addMessage({...message, conversation_id: id});
      }
    } catch (failure) {
      this.app.notify(failure.message);
    }
  }

  visitorKnown(entry, profile) {
    if (!profile.name || entry.visitorName) return;
    entry.visitorName = profile.name;
    this.drawLists();
    if (this.selected === entry.item.conversation_id) this.chat.retitle(this.label(entry));
  }

  // live: it arrived now (a frame), not read back from the history.
  addMessage(message, live = false) {
    const entry = this.conversation(message.conversation_id, isEmail(message) ? {channel: "email"} : {});
    if (!entry.transcript.add(message)) return;
    this.chat.drawMessage(entry, message);
    const id = message.conversation_id;
    if (message.sender.kind === "visitor") {
      if (this.selected === id && document.hasFocus() && !document.hidden) this.markRead(entry);
      else { entry.unread += 1; this.app.title.flash(); }
      if (this.selected === id) this.chat.hideTyping();
      if (live && this.isMine(entry)) this.alerts.message(id, this.label(entry), message.text, () => this.select(id));
    }
    if (live && message.sender.id !== this.me.agent_id) this.announce(entry, message);
    this.drawLists();
  }

  announce(entry, message) {
    if (!this.announcer) return;
    if (this.selected === message.conversation_id) {
      const who = this.chat.senderName(entry, message);
      replace(this.announcer, ...tData("console-conversations.live_message", {name: who, text: this.chat.textOf(message)}));
    } else if (this.isMine(entry)) {
      replace(this.announcer, ...tData("console-conversations.live_other", {name: this.label(entry)}));
    }
  }

  markRead(entry) {
    const last = entry.transcript.lastSeq;
    if (this.isMine(entry) && last) {
      this.app.channel?.send({action: "read", conversation_id: entry.item.conversation_id, seq: last});
    }
    entry.unread = 0;
    this.app.title.update();
  }

  // --- Frames ---

  receive(frame) {
    const handler = {
      "ack": () => this.chat.acked(frame),
      "message.new": () => this.addMessage(frame, true),
      "message.email": () => this.emailStatus(frame),
      "sync.done": () => this.synced(frame),
      "conversation.assigned": () => this.assigned(frame),
      "conversation.transferred": () => this.transferred(frame),
      "conversation.closed": () => this.closed(frame),
      "typing": () => this.typing(frame),
      "read": () => this.read(frame),
      "error": () => this.failed(frame),
    }[frame.type];
    if (handler) handler();
  }

  // Whether an answer went out by email (docs/email.md): kept on the message; one that did not is said aloud.
  emailStatus(frame) {
    const entry = this.conversation(frame.conversation_id);
    const message = entry.transcript.messages.get(frame.seq);
    if (!message) return;
    message.email_status = frame.status;
    this.chat.showEmailStatus(entry, message);
    if (frame.status !== "sent" && this.announcer && this.selected === frame.conversation_id) {
      replace(this.announcer, emailStatusText(frame.status));
    }
  }

  synced(frame) {
    if (!frame.complete) {
      this.app.channel.send({action: "messages.sync", conversation_id: frame.conversation_id, after_seq: frame.last_seq});
    }
  }

  assigned(frame) {
    const entry = this.conversation(frame.conversation_id, {agent_id: frame.agent.agent_id, status: "assigned",
                                                             visitor_id: frame.visitor.visitor_id});
    entry.closed = false;
    entry.visitorName = frame.visitor.name || entry.visitorName;
    // The transcript follows as message.new frames: they count as unread and flash the title.
    this.drawLists();
    this.refreshQueue();
    // Open on screen: drawn again, with its name and, if it is now mine, the reply box.
    if (this.selected === frame.conversation_id) this.chat.show(entry);
    if (frame.agent.agent_id === this.me.agent_id) {
      const id = frame.conversation_id;
      this.alerts.assigned(id, this.label(entry), () => this.select(id));
      if (this.announcer) replace(this.announcer, ...tData("console-conversations.live_assigned", {name: this.label(entry)}));
    }
  }

  transferred(frame) {
    const entry = this.conversation(frame.conversation_id, {agent_id: frame.to_agent_id, status: frame.to_agent_id ? "assigned" : "queued"});
    if (this.selected === frame.conversation_id) this.chat.show(entry);
    this.app.notify(frame.to_agent_id ? t("console-conversations.transferred") : t("console-conversations.requeued"));
    this.drawLists();
  }

  closed(frame) {
    const entry = this.conversation(frame.conversation_id, {status: "closed", resolution: frame.resolution});
    entry.closed = true;
    if (this.selected === frame.conversation_id) this.chat.show(entry);
    this.drawLists();
  }

  typing(frame) {
    if (this.selected !== frame.conversation_id || (frame.from && frame.from.kind !== "visitor")) return;
    this.chat.showTyping(frame.state === "on");
  }

  read(frame) {
    if (frame.from && frame.from.kind !== "visitor") return;
    const entry = this.conversation(frame.conversation_id);
    entry.readSeq = Math.max(entry.readSeq, frame.seq);
    if (this.selected === frame.conversation_id) this.chat.markSeen(entry.readSeq);
  }

  failed(frame) {
    this.chat.failed(frame);
    this.app.notify(frame.message);
  }
}
