// The agent console: sign in, take chats, and (by role) the dashboard and the audit trail.
// Every piece of text from the API goes into the page as a text node (dom.js); the session token
// is kept in sessionStorage (this tab only) and sent in headers, and in the WebSocket connect.
import {Api, login} from "./api.js";
import {barChart} from "./charts.js";
import {append, clock, el, insertBySeq, replace} from "./dom.js";
import {Channel, Transcript} from "./realtime.js";

const SESSION = "switchboard.console";
const TITLE = "Switchboard console";
const QUEUE_POLL_MS = 15000;
const TYPING_IDLE_MS = 3000;
const TYPING_SHOWN_MS = 8000;
const EXPORT_POLL_MS = 1500;
const REFRESH_BEFORE_MS = 5 * 60 * 1000;
const CHATTING_ROLES = new Set(["admin", "supervisor", "agent"]);
const SUPERVISING_ROLES = new Set(["admin", "supervisor"]);
const AUDITING_ROLES = new Set(["admin", "compliance"]);
// Why the server ended this session (the `session.revoked` frame), as the sign-in form says it.
const REVOKED = {
  deactivated: "Your account was deactivated.",
  role_changed: "Your role was changed; please sign in again.",
  password_changed: "Your password was changed; please sign in again.",
  logged_out: "You were signed out.",
  ended: "Your session has ended; please sign in again.",
};
const REVOKED_FRAME_WAIT_MS = 2000;
const root = document.getElementById("root");

function isoSeconds(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function localInput(date) {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 16);
}

// --- Sign-in ---

function showLogin(message = "") {
  document.title = TITLE;
  const tenant = el("input", {id: "tenant", name: "tenant", required: true, autocomplete: "organization",
                              value: localStorage.getItem(`${SESSION}.tenant`) || ""});
  const email = el("input", {id: "email", name: "email", type: "email", required: true, autocomplete: "username"});
  const password = el("input", {id: "password", name: "password", type: "password", required: true,
                                autocomplete: "current-password"});
  const error = el("p", {id: "login-error", class: "error", role: "alert"}, message);
  const form = el("form", {id: "login", class: "card login", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const answer = await login(tenant.value.trim(), email.value.trim(), password.value);
      localStorage.setItem(`${SESSION}.tenant`, tenant.value.trim());
      const session = {token: answer.token, expires_at: answer.expires_at, agent: answer.agent, ws_url: answer.ws_url};
      sessionStorage.setItem(SESSION, JSON.stringify(session));
      new Console(session).start();
    } catch (failure) {
      error.textContent = failure.message;
    }
  }},
    el("h1", {}, "Switchboard"),
    el("label", {for: "tenant"}, "Workspace (tenant id)"), tenant,
    el("label", {for: "email"}, "Email"), email,
    el("label", {for: "password"}, "Password"), password,
    el("button", {type: "submit", id: "sign-in"}, "Sign in"), error);
  replace(root, form);
  (tenant.value ? email : tenant).focus();
}

// --- The signed-in console ---

class Console {
  constructor(session) {
    this.session = session;
    this.me = session.agent;
    this.api = new Api(() => this.session.token, () => this.sessionRefused());
    this.conversations = new Map();  // conversation_id -> {item, transcript, unread, visitorName, readSeq, closed}
    this.selected = null;
    this.pending = new Map();  // client_msg_id -> message node awaiting its ack
    this.canned = null;
    this.agents = [];
    this.presence = sessionStorage.getItem(`${SESSION}.presence`) || "online";
  }

  start() {
    this.draw();
    if (CHATTING_ROLES.has(this.me.role)) {
      this.channel = new Channel({url: this.session.ws_url, token: () => this.freshToken(),
                                  onFrame: (frame) => this.receive(frame), onOpen: () => this.reconnected(),
                                  onState: (state) => this.connectionState(state)});
      this.channel.start();
      this.refreshLists();
      this.queuePoll = setInterval(() => this.refreshQueue(), QUEUE_POLL_MS);
      this.openTab("conversations");
    } else {
      this.openTab(AUDITING_ROLES.has(this.me.role) ? "audit" : "dashboard");
    }
    window.addEventListener("focus", () => this.updateTitle());
  }

  async freshToken() {
    if (Date.parse(this.session.expires_at) - Date.now() < REFRESH_BEFORE_MS) {
      const answer = await this.api.post("v1/auth/refresh", {});
      Object.assign(this.session, {token: answer.token, expires_at: answer.expires_at});
      sessionStorage.setItem(SESSION, JSON.stringify(this.session));
    }
    return this.session.token;
  }

  // Ends the session on the server too (its token, refreshes and sockets), then signs out here.
  async logOut() {
    try {
      await this.api.post("v1/auth/logout");
    } catch (failure) {
      // Already ended, or unreachable: this tab forgets the session all the same.
    }
    this.signOut();
  }

  // A REST call refused the session. When the server ended it, its socket is being told why
  // (`session.revoked`) at this moment: give that frame a moment to arrive and name the reason.
  sessionRefused() {
    if (this.signedOut || this.refusedTimer) return;
    this.refusedTimer = setTimeout(() => this.signOut(REVOKED.ended), REVOKED_FRAME_WAIT_MS);
  }

  signOut(message = "") {
    if (this.signedOut) return;
    this.signedOut = true;
    this.channel?.stop();
    clearInterval(this.queuePoll);
    clearInterval(this.flasher);
    sessionStorage.removeItem(SESSION);
    showLogin(message);
  }

  // --- Layout ---

  draw() {
    const tabs = [["conversations", "Conversations", CHATTING_ROLES], ["dashboard", "Dashboard", SUPERVISING_ROLES],
                  ["audit", "Audit trail", AUDITING_ROLES]].filter(([, , roles]) => roles.has(this.me.role));
    this.tabs = new Map(tabs.map(([name, label]) => [name, el("button", {type: "button", class: "tab", id: `tab-${name}`,
                                                                          onclick: () => this.openTab(name)}, label)]));
    this.connection = el("span", {id: "connection", class: "connection"});
    this.presenceSelect = el("select", {id: "presence", "aria-label": "Presence", onchange: () => this.setPresence()},
      ["online", "away", "offline"].map((status) => el("option", {value: status}, status)));
    this.presenceSelect.value = this.presence;
    this.toast = el("p", {id: "toast", class: "toast", role: "alert", hidden: true});
    this.main = el("div", {class: "view"});
    replace(root,
      el("header", {class: "topbar"}, el("strong", {class: "brand"}, "Switchboard"),
         el("nav", {}, [...this.tabs.values()]),
         CHATTING_ROLES.has(this.me.role) ? this.presenceSelect : null, this.connection,
         el("span", {id: "me", class: "me"}, `${this.me.name} (${this.me.role})`),
         el("button", {type: "button", id: "sign-out", onclick: () => this.logOut()}, "Sign out")),
      this.toast, this.main);
  }

  openTab(name) {
    for (const [tab, button] of this.tabs) button.classList.toggle("active", tab === name);
    if (name === "conversations") this.drawConversations();
    if (name === "dashboard") this.drawDashboard();
    if (name === "audit") this.drawAudit();
  }

  notify(message) {
    this.toast.textContent = message;
    this.toast.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => { this.toast.hidden = true; }, 6000);
  }

  connectionState(state) {
    this.connection.textContent = {connecting: "connecting…", online: "connected", reconnecting: "reconnecting…"}[state];
    this.connection.dataset.state = state;
  }

  // --- Conversations tab ---

  drawConversations() {
    this.mineList = el("ul", {id: "mine", class: "conversation-list"});
    this.queueList = el("ul", {id: "queue", class: "conversation-list"});
    this.allList = el("ul", {id: "all", class: "conversation-list"});
    const supervising = SUPERVISING_ROLES.has(this.me.role);
    this.chat = el("section", {id: "chat", class: "chat"}, el("p", {class: "empty"}, "Pick a conversation."));
    this.visitorPanel = el("aside", {id: "visitor", class: "visitor"});
    replace(this.main, el("div", {class: "conversations"},
      el("aside", {class: "lists"},
         el("h2", {}, "My conversations"), this.mineList,
         el("h2", {}, "Waiting in the queue"), this.queueList,
         supervising ? el("h2", {}, "All open conversations") : null, supervising ? this.allList : null),
      this.chat, this.visitorPanel));
    this.drawLists();
    if (this.selected) this.select(this.selected);
  }

  conversation(id, item = {}) {
    let entry = this.conversations.get(id);
    if (!entry) {
      entry = {item: {conversation_id: id, ...item}, transcript: new Transcript(), unread: 0, visitorName: null,
               readSeq: 0, closed: false};
      this.conversations.set(id, entry);
    } else {
      Object.assign(entry.item, item);
    }
    return entry;
  }

  isMine(entry) {
    return entry.item.agent_id === this.me.agent_id && !entry.closed;
  }

  async refreshLists() {
    try {
      const mine = await this.api.all("v1/conversations", {status: "assigned", agent_id: this.me.agent_id});
      for (const item of mine) this.conversation(item.conversation_id, item);
      if (SUPERVISING_ROLES.has(this.me.role)) {
        this.others = await this.api.all("v1/conversations", {status: "assigned"}, 2);
        if (!this.agents.length) this.agents = await this.api.all("v1/agents");  // to transfer to by name
      }
      await this.refreshQueue();
    } catch (failure) {
      this.notify(failure.message);
    }
    this.drawLists();
  }

  async refreshQueue() {
    try {
      this.queue = (await this.api.get("v1/queue")).items;
    } catch (failure) {
      this.queue = [];
    }
    this.drawLists();
  }

  label(entry) {
    return entry.visitorName || `Visitor ${entry.item.visitor_id ? entry.item.visitor_id.slice(-6) : ""}`.trim();
  }

  drawLists() {
    if (!this.mineList || !this.mineList.isConnected) return;
    const row = (id, text, unread) => el("li", {},
      el("button", {type: "button", class: `conversation${id === this.selected ? " selected" : ""}`,
                    "data-conversation-id": id, onclick: () => this.select(id)},
         el("span", {class: "name"}, text),
         unread ? el("span", {class: "unread", "aria-label": `${unread} unread`}, String(unread)) : null));
    const mine = [...this.conversations.values()].filter((entry) => this.isMine(entry));
    replace(this.mineList, mine.length ? mine.map((entry) => row(entry.item.conversation_id, this.label(entry), entry.unread))
                                       : el("li", {class: "empty"}, "No conversations yet."));
    const queue = this.queue || [];
    replace(this.queueList, queue.length
      ? queue.map((item) => el("li", {class: "queued"}, `#${item.position} ${item.team || "any team"} · waiting since ${clock(item.queued_at)}`))
      : el("li", {class: "empty"}, "Nobody is waiting."));
    if (this.others) {
      const others = this.others.filter((item) => item.agent_id !== this.me.agent_id);
      replace(this.allList, others.length
        ? others.map((item) => row(item.conversation_id, `Visitor ${item.visitor_id.slice(-6)} · agent ${item.agent_id.slice(-6)}`, 0))
        : el("li", {class: "empty"}, "No other open conversations."));
    }
    this.updateTitle();
  }

  // After every (re)connect: presence again, then what each of my chats missed.
  async reconnected() {
    this.channel.send({action: "presence.set", status: this.presence});
    await this.refreshLists();
    this.syncMine();
  }

  syncMine() {
    for (const entry of this.conversations.values()) {
      if (this.isMine(entry)) {
        this.channel?.send({action: "messages.sync", conversation_id: entry.item.conversation_id,
                            after_seq: entry.transcript.contiguous});
      }
    }
  }

  setPresence() {
    this.presence = this.presenceSelect.value;
    sessionStorage.setItem(`${SESSION}.presence`, this.presence);
    this.channel.send({action: "presence.set", status: this.presence});
  }

  async select(id) {
    this.selected = id;
    const entry = this.conversation(id);
    entry.unread = 0;
    this.drawLists();
    this.drawChat(entry);
    if (!this.isMine(entry)) await this.loadHistory(entry);  // someone else's: read it over REST
    this.markRead(entry);
    this.drawVisitor(entry);
  }

  async loadHistory(entry) {
    try {
      const id = entry.item.conversation_id;
      Object.assign(entry.item, await this.api.get(`v1/conversations/${encodeURIComponent(id)}`));
      for (const message of await this.api.all(`v1/conversations/${encodeURIComponent(id)}/messages`)) {
        this.addMessage({...message, conversation_id: id});
      }
    } catch (failure) {
      this.notify(failure.message);
    }
  }

  drawChat(entry) {
    const id = entry.item.conversation_id;
    const mine = this.isMine(entry);
    this.messages = el("ol", {id: "messages", class: "messages", "aria-live": "polite"});
    this.typingLine = el("p", {id: "typing", class: "typing", hidden: true}, "The visitor is typing…");
    this.suggestions = el("ul", {id: "canned", class: "canned", hidden: true});
    this.reply = el("textarea", {id: "reply", rows: 3, maxlength: 4000, disabled: !mine, "aria-label": "Reply",
                                 placeholder: mine ? "Reply… (type / for canned responses)" : "Read only",
                                 oninput: () => this.composing(entry), onkeydown: (event) => this.replyKey(event, entry)});
    const transferTo = el("input", {id: "transfer-to", placeholder: "team name or agent id", list: "agent-ids"});
    const transferKind = el("select", {id: "transfer-kind", "aria-label": "Transfer to"},
                            el("option", {value: "team"}, "team"), el("option", {value: "agent"}, "agent"));
    const resolution = el("select", {id: "resolution", "aria-label": "Resolution"},
                          el("option", {value: "resolved"}, "resolved"), el("option", {value: "unresolved"}, "unresolved"));
    const actions = mine || SUPERVISING_ROLES.has(this.me.role) ? el("div", {class: "actions"},
      el("span", {}, "Transfer to "), transferKind, transferTo,
      el("datalist", {id: "agent-ids"}, this.agents.map((agent) => el("option", {value: agent.agent_id}, agent.name))),
      el("button", {type: "button", id: "transfer", onclick: () => this.transfer(entry, transferKind.value, transferTo.value.trim())}, "Transfer"),
      mine ? el("button", {type: "button", id: "escalate", onclick: () => this.act("conversation.escalate", entry)}, "Escalate") : null,
      mine ? resolution : null,
      mine ? el("button", {type: "button", id: "close-conversation",
                           onclick: () => this.act("conversation.close", entry, {resolution: resolution.value})}, "Close") : null)
      : null;
    replace(this.chat,
      el("header", {class: "chat-header"}, el("h2", {id: "chat-title"}, this.label(entry)),
         el("span", {id: "chat-status", class: "status"}, entry.closed ? `closed (${entry.item.resolution || ""})` : entry.item.status || "")),
      this.messages, this.typingLine, this.suggestions,
      el("form", {id: "composer", class: "composer", onsubmit: (event) => { event.preventDefault(); this.send(entry); }},
         this.reply, el("button", {type: "submit", id: "send", disabled: !mine}, "Send")),
      actions);
    for (const message of [...entry.transcript.messages.values()]) this.drawMessage(entry, message);
  }

  drawMessage(entry, message) {
    if (!this.messages || this.selected !== entry.item.conversation_id) return;
    const kind = message.sender.kind;
    const who = kind === "visitor" ? this.label(entry) : message.sender.name || {bot: "Bot", system: "Notice"}[kind] || "Agent";
    const text = message.text ?? (message.redacted ? "[redacted]" : "[unreadable]");
    const node = el("li", {class: `message ${kind}${message.sender.id === this.me.agent_id ? " own" : ""}`},
                    el("span", {class: "who"}, who), el("span", {class: "text"}, text),
                    el("time", {}, clock(message.sent_at)));
    if (message.sender.id === this.me.agent_id && message.seq <= entry.readSeq) node.classList.add("seen");
    insertBySeq(this.messages, node, message.seq);
    this.messages.scrollTop = this.messages.scrollHeight;
  }

  addMessage(message) {
    const entry = this.conversation(message.conversation_id);
    if (!entry.transcript.add(message)) return;
    this.drawMessage(entry, message);
    if (message.sender.kind === "visitor") {
      if (this.selected === message.conversation_id && document.hasFocus()) this.markRead(entry);
      else { entry.unread += 1; this.flash(); }
      if (this.typingLine && this.selected === message.conversation_id) this.typingLine.hidden = true;
    }
    this.drawLists();
  }

  markRead(entry) {
    const last = entry.transcript.lastSeq;
    if (this.isMine(entry) && last) {
      this.channel?.send({action: "read", conversation_id: entry.item.conversation_id, seq: last});
    }
    entry.unread = 0;
    this.updateTitle();
  }

  // --- Sending ---

  send(entry) {
    const text = this.reply.value.trim();
    if (!text || !this.isMine(entry)) return;
    this.reply.value = "";
    this.hideSuggestions();
    this.stopTyping(entry);
    const id = this.channel.sendMessage({conversation_id: entry.item.conversation_id, text});
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
    this.addMessage({conversation_id: frame.conversation_id, seq: frame.seq, text: pending.text,
                     sent_at: new Date().toISOString(), sender: {kind: "agent", id: this.me.agent_id, name: this.me.name}});
  }

  act(action, entry, fields = {}) {
    if (!this.channel.send({action, conversation_id: entry.item.conversation_id, ...fields})) {
      this.notify("Not connected; try again in a moment.");
    }
  }

  transfer(entry, kind, target) {
    if (!target) { this.notify("Name a team or an agent to transfer to."); return; }
    this.act("conversation.transfer", entry, kind === "agent" ? {to_agent_id: target} : {to_team: target});
  }

  composing(entry) {
    this.offerCanned(this.reply.value);
    if (!this.typingSent) this.channel.send({action: "typing", conversation_id: entry.item.conversation_id, state: "on"});
    this.typingSent = true;
    clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => this.stopTyping(entry), TYPING_IDLE_MS);
  }

  stopTyping(entry) {
    clearTimeout(this.typingIdle);
    if (this.typingSent) this.channel.send({action: "typing", conversation_id: entry.item.conversation_id, state: "off"});
    this.typingSent = false;
  }

  replyKey(event, entry) {
    const first = this.suggestions.hidden ? null : this.suggestions.querySelector("button");
    if ((event.key === "Tab" || event.key === "Enter") && first) {
      event.preventDefault();
      first.click();
    } else if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      this.send(entry);
    } else if (event.key === "Escape") {
      this.hideSuggestions();
    }
  }

  // Canned responses: "/ref" offers every shortcut starting with "ref".
  async offerCanned(value) {
    const match = /^\/([a-z0-9_-]*)$/.exec(value);
    if (!match) { this.hideSuggestions(); return; }
    if (!this.canned) {
      try {
        this.canned = await this.api.all("v1/canned-responses");
      } catch (failure) {
        this.canned = [];
      }
    }
    const found = this.canned.filter((canned) => canned.shortcut.startsWith(match[1])).slice(0, 8);
    replace(this.suggestions, found.map((canned) => el("li", {},
      el("button", {type: "button", class: "suggestion", onclick: () => {
        this.reply.value = canned.text;
        this.hideSuggestions();
        this.reply.focus();
      }}, el("strong", {}, `/${canned.shortcut}`), " ", canned.text))));
    this.suggestions.hidden = found.length === 0;
  }

  hideSuggestions() {
    if (this.suggestions) this.suggestions.hidden = true;
  }

  // --- Frames ---

  receive(frame) {
    const handler = {
      "ack": () => this.acked(frame),
      "message.new": () => this.addMessage(frame),
      "sync.done": () => this.synced(frame),
      "conversation.assigned": () => this.assigned(frame),
      "conversation.transferred": () => this.transferred(frame),
      "conversation.closed": () => this.closed(frame),
      "typing": () => this.typing(frame),
      "read": () => this.read(frame),
      "presence": () => { this.presence = frame.status; this.presenceSelect.value = frame.status; },
      "error": () => this.failed(frame),
      "session.revoked": () => this.signOut(REVOKED[frame.reason] || REVOKED.ended),
    }[frame.type];
    if (handler) handler();
  }

  synced(frame) {
    if (!frame.complete) {
      this.channel.send({action: "messages.sync", conversation_id: frame.conversation_id, after_seq: frame.last_seq});
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
  }

  transferred(frame) {
    const entry = this.conversation(frame.conversation_id, {agent_id: frame.to_agent_id, status: frame.to_agent_id ? "assigned" : "queued"});
    if (this.selected === frame.conversation_id) this.drawChat(entry);
    this.notify(frame.to_agent_id ? "The conversation was transferred." : "The conversation went back to the queue.");
    this.drawLists();
  }

  closed(frame) {
    const entry = this.conversation(frame.conversation_id, {status: "closed", resolution: frame.resolution});
    entry.closed = true;
    if (this.selected === frame.conversation_id) this.drawChat(entry);
    this.drawLists();
  }

  typing(frame) {
    if (this.selected !== frame.conversation_id || !this.typingLine || (frame.from && frame.from.kind !== "visitor")) return;
    this.typingLine.hidden = frame.state !== "on";
    clearTimeout(this.typingShown);
    this.typingShown = setTimeout(() => { this.typingLine.hidden = true; }, TYPING_SHOWN_MS);
  }

  read(frame) {
    if (frame.from && frame.from.kind !== "visitor") return;
    const entry = this.conversation(frame.conversation_id);
    entry.readSeq = Math.max(entry.readSeq, frame.seq);
    if (this.selected !== frame.conversation_id || !this.messages) return;
    for (const node of this.messages.querySelectorAll("li.own")) {
      if (Number(node.dataset.seq) <= entry.readSeq) node.classList.add("seen");
    }
  }

  failed(frame) {
    const pending = this.pending.get(frame.ref);
    if (pending) {
      this.pending.delete(frame.ref);
      pending.node.classList.replace("sending", "failed");
    }
    this.notify(frame.message);
  }

  // --- Unread: badges on the list, a count in the title, and a flashing title on news ---

  unreadTotal() {
    return [...this.conversations.values()].reduce((sum, entry) => sum + (this.isMine(entry) ? entry.unread : 0), 0);
  }

  flash() {
    this.updateTitle();
    if (this.flasher) return;
    let on = false;
    this.flasher = setInterval(() => {
      const total = this.unreadTotal();
      if (!total) { clearInterval(this.flasher); this.flasher = null; this.updateTitle(); return; }
      on = !on;
      document.title = on ? `(${total}) New message — ${TITLE}` : `(${total}) ${TITLE}`;
    }, 1000);
  }

  updateTitle() {
    const total = this.unreadTotal();
    document.title = total ? `(${total}) New message — ${TITLE}` : TITLE;
  }

  // --- Visitor panel ---

  async drawVisitor(entry) {
    const visitorId = entry.item.visitor_id;
    if (!visitorId) { replace(this.visitorPanel); return; }
    let profile;
    try {
      profile = await this.api.get(`v1/visitors/${encodeURIComponent(visitorId)}`);
    } catch (failure) {
      replace(this.visitorPanel, el("p", {class: "error"}, failure.message));
      return;
    }
    if (profile.name && !entry.visitorName) {
      entry.visitorName = profile.name;
      this.drawLists();
      const title = document.getElementById("chat-title");
      if (title && this.selected === entry.item.conversation_id) title.textContent = this.label(entry);
    }
    const tags = el("input", {id: "visitor-tags", value: profile.tags.join(", "), "aria-label": "Tags"});
    const notes = el("textarea", {id: "visitor-notes", rows: 4, maxlength: 2000, value: profile.notes || "", "aria-label": "Notes"});
    const status = el("p", {id: "visitor-saved", class: "muted", role: "status"});
    const save = async () => {
      try {
        const tagList = tags.value.split(",").map((tag) => tag.trim()).filter(Boolean);
        await this.api.patch(`v1/visitors/${encodeURIComponent(visitorId)}`, {tags: tagList, notes: notes.value});
        status.textContent = "Saved.";
      } catch (failure) {
        status.textContent = failure.message;
      }
    };
    replace(this.visitorPanel,
      el("h2", {}, profile.name || "Anonymous visitor"),
      el("dl", {},
         el("dt", {}, "Email"), el("dd", {id: "visitor-email"}, profile.email || "—"),
         el("dt", {}, "Locale"), el("dd", {}, profile.locale || "—"),
         el("dt", {}, "First seen"), el("dd", {}, new Date(profile.created_at).toLocaleString()),
         ...(profile.user_id ? [el("dt", {}, "Verified user"), el("dd", {id: "visitor-user"}, profile.user_id)] : []),
         // An email match proves nothing: a hint with its id, never that visitor's history.
         ...(profile.possible_match ? [el("dt", {}, "Possible match"), el("dd", {id: "visitor-possible-match"},
           `Unverified: visitor …${profile.possible_match.visitor_id.slice(-6)} gave the same email`)] : [])),
      el("label", {for: "visitor-tags"}, "Tags (comma-separated)"), tags,
      el("label", {for: "visitor-notes"}, "Notes"), notes,
      el("button", {type: "button", id: "visitor-save", onclick: save}, "Save"), status,
      el("h3", {}, "History"),
      el("ul", {id: "visitor-history", class: "history"}, profile.conversations.map((item) =>
        el("li", {}, `${new Date(item.created_at).toLocaleDateString()} · ${item.status}${item.resolution ? ` (${item.resolution})` : ""}`))));
  }

  // --- Dashboard (supervisors and admins) ---

  async drawDashboard() {
    const days = el("select", {id: "dashboard-days", "aria-label": "Period", onchange: () => this.drawDashboard()},
                    [["1", "last 24 hours"], ["7", "last 7 days"], ["30", "last 30 days"]].map(([value, label]) =>
                      el("option", {value}, label)));
    days.value = this.dashboardDays || "7";
    this.dashboardDays = days.value;
    const body = el("div", {id: "dashboard", class: "dashboard"}, el("p", {class: "muted"}, "Loading…"));
    replace(this.main, el("div", {class: "panel"}, el("h2", {}, "Dashboard ", days), body));
    const to = new Date();
    const from = new Date(to.getTime() - Number(days.value) * 86400000);
    let summary;
    try {
      summary = await this.api.get("v1/reports/summary", {from: isoSeconds(from), to: isoSeconds(to)});
    } catch (failure) {
      replace(body, el("p", {class: "error"}, failure.message));
      return;
    }
    const seconds = (value) => (value === null || value === undefined ? "—" : `${Math.round(value)} s`);
    const figure = (id, label, value) => el("div", {class: "figure", id}, el("span", {class: "value"}, String(value)), el("span", {}, label));
    const csat = summary.csat;
    replace(body,
      el("div", {class: "figures"},
         figure("figure-conversations", "conversations", summary.conversations),
         figure("figure-resolution", "resolved", `${Math.round((summary.resolution_rate || 0) * 100)}%`),
         figure("figure-first-response", "first response p50", seconds(summary.first_response_seconds.p50)),
         figure("figure-csat", "CSAT average", csat.average === null ? "—" : csat.average.toFixed(2)),
         figure("figure-bot", "bot contained", summary.bot_contained),
         figure("figure-sla", "SLA breaches", summary.sla_breaches)),
      el("h3", {}, `Conversations by hour (${summary.timezone || "UTC"})`),
      barChart({id: "chart-by-hour", title: "Conversations by hour", labels: summary.by_hour.map((row) => String(row.hour)),
                values: summary.by_hour.map((row) => row.conversations)}),
      el("h3", {}, `Satisfaction (${csat.responses} answers)`),
      barChart({id: "chart-csat", title: "CSAT ratings", labels: ["1", "2", "3", "4", "5"], width: 300,
                values: ["1", "2", "3", "4", "5"].map((rating) => csat.distribution[rating] || 0)}),
      el("h3", {}, "By agent"),
      el("table", {id: "by-agent"}, el("thead", {}, el("tr", {}, ["Agent", "Conversations", "CSAT", "First response p50"].map((h) => el("th", {}, h)))),
         el("tbody", {}, summary.by_agent.map((row) => el("tr", {},
           el("td", {}, row.agent_id), el("td", {}, String(row.conversations)),
           el("td", {}, row.csat_average === null ? "—" : row.csat_average.toFixed(2)), el("td", {}, seconds(row.first_response_p50)))))));
  }

  // --- Audit trail (compliance and admins) ---

  drawAudit() {
    const now = new Date();
    const from = el("input", {id: "audit-from", type: "datetime-local", value: localInput(new Date(now.getTime() - 86400000))});
    const to = el("input", {id: "audit-to", type: "datetime-local", value: localInput(new Date(now.getTime() + 60000))});
    const rows = el("tbody", {id: "audit-rows"});
    const more = el("button", {type: "button", id: "audit-more", hidden: true}, "Load more");
    const exportStatus = el("p", {id: "export-status", role: "status"});
    const range = () => ({from: isoSeconds(new Date(from.value)), to: isoSeconds(new Date(to.value))});
    const load = async (cursor = null) => {
      try {
        const page = await this.api.get("v1/audit/events", {...range(), cursor});
        if (!cursor) replace(rows);
        append(rows, page.items.map((event) => el("tr", {},
          el("td", {}, String(event.seq)), el("td", {}, new Date(event.ts).toLocaleString()),
          el("td", {}, `${event.actor.kind} ${event.actor.id}`), el("td", {class: "action"}, event.action),
          el("td", {}, event.target || ""))));
        more.hidden = !page.next_cursor;
        more.onclick = () => load(page.next_cursor);
      } catch (failure) {
        this.notify(failure.message);
      }
    };
    const startExport = async () => {
      try {
        exportStatus.textContent = "Export requested…";
        const {export_id: exportId} = await this.api.post("v1/audit/exports", range());
        this.pollExport(exportId, exportStatus);
      } catch (failure) {
        exportStatus.textContent = failure.message;
      }
    };
    replace(this.main, el("div", {class: "panel"},
      el("h2", {}, "Audit trail"),
      el("div", {class: "toolbar"}, el("label", {for: "audit-from"}, "From"), from, el("label", {for: "audit-to"}, "To"), to,
         el("button", {type: "button", id: "audit-load", onclick: () => load()}, "Show events"),
         el("button", {type: "button", id: "audit-export", onclick: startExport}, "Export signed file")),
      exportStatus,
      el("table", {id: "audit-events"}, el("thead", {}, el("tr", {}, ["Seq", "When", "Actor", "Action", "Target"].map((h) => el("th", {}, h)))), rows),
      more));
    load();
  }

  async pollExport(exportId, status) {
    const started = Date.now();
    for (;;) {
      let job;
      try {
        job = await this.api.get(`v1/audit/exports/${encodeURIComponent(exportId)}`);
      } catch (failure) {
        status.textContent = failure.message;
        return;
      }
      if (job.status === "ready") {
        replace(status, `Ready: ${job.event_count} events, SHA-256 ${job.sha256}. `,
                el("a", {id: "export-download", href: job.url, download: `audit-${exportId}.jsonl.gz`, rel: "noopener"}, "Download"),
                " (the link works for 15 minutes)");
        return;
      }
      if (job.status === "failed") {
        status.textContent = `The export failed: ${job.error || "unknown error"}`;
        return;
      }
      status.textContent = `Exporting… ${Math.round((Date.now() - started) / 1000)} s`;
      await new Promise((resolve) => setTimeout(resolve, EXPORT_POLL_MS));
    }
  }
}

// --- Start: a session kept in this tab, else the sign-in form ---

const saved = JSON.parse(sessionStorage.getItem(SESSION) || "null");
if (saved && Date.parse(saved.expires_at) > Date.now()) new Console(saved).start();
else showLogin();
