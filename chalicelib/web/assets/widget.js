// The Switchboard chat widget. A tenant adds it to any page with one tag:
//   <script type="module" src="https://<switchboard>/widget.js" data-widget-key="wk...."></script>
// It draws a chat bubble in a shadow root (the page's styles and ours stay apart), starts a
// visitor session, and chats over the WebSocket API. The visitor's token lives in this site's
// localStorage so the visitor (and an open chat) survives page loads; it travels only in the
// session request body and the WebSocket connect, never in a page URL.
// A page that knows its signed-in user adds data-user-id and data-user-hash (the tenant's server
// computes the hash: HMAC-SHA256 of the id under the tenant's identity secret): the user then has one
// chat history in every browser, and a browser's saved chat never passes to another user.
import {Channel, Transcript} from "./assets/realtime.js";
import {append, clock, el, insertBySeq, replace} from "./assets/dom.js";

const BASE = new URL(".", import.meta.url);
const TYPING_IDLE_MS = 3000;
const TYPING_SHOWN_MS = 8000;
const SENDERS = {bot: "Bot", system: "Notice"};

class Widget {
  constructor(widgetKey, user) {
    this.widgetKey = widgetKey;
    this.user = user;  // {user_id, user_hash} when the page verifies its user, else null
    this.storageKey = `switchboard:${widgetKey}`;
    this.saved = JSON.parse(localStorage.getItem(this.storageKey) || "{}");
    if ((this.saved.user_id ?? null) !== (user?.user_id ?? null)) this.saved = {};  // someone else's
    this.transcript = new Transcript();
    this.pending = new Map();  // client_msg_id -> the message node waiting for its ack
    this.unread = 0;
    this.channel = null;
    this.draw();
    this.connected = null;  // the promise of a channel, once the visitor is there
    if (this.saved.visitor_token) this.connect();  // a returning visitor: resume at once
  }

  draw() {
    const host = el("div", {id: "switchboard-widget"});
    const root = host.attachShadow({mode: "open"});
    this.badge = el("span", {class: "badge", hidden: true});
    this.bubble = el("button", {class: "bubble", type: "button", "aria-label": "Chat with us",
                                onclick: () => this.toggle()}, "Chat", this.badge);
    this.state = el("span", {class: "state"});
    this.log = el("div", {class: "log", "aria-live": "polite"});
    this.list = append(this.log, el("ol", {class: "messages"})).lastChild;
    this.notice = el("p", {class: "notice", role: "status"});
    this.typing = el("p", {class: "typing", hidden: true});
    this.survey = el("div", {class: "survey", hidden: true});
    this.input = el("textarea", {rows: 2, maxlength: 4000, placeholder: "Write a message…",
                                 "aria-label": "Message", oninput: () => this.typed(),
                                 onkeydown: (event) => this.enterSends(event)});
    this.human = el("button", {type: "button", class: "human", onclick: () => this.askForHuman()},
                    "Talk to a person");
    this.end = el("button", {type: "button", class: "end", onclick: () => this.endChat()}, "End chat");
    this.panel = el("section", {class: "panel", hidden: true, role: "dialog", "aria-label": "Chat"},
      el("header", {}, el("strong", {}, "Chat with us"), this.state,
         el("button", {type: "button", class: "minimise", "aria-label": "Close", onclick: () => this.toggle()}, "×")),
      this.log, this.typing, this.notice, this.survey,
      el("form", {class: "composer", onsubmit: (event) => { event.preventDefault(); this.sendTyped(); }},
         this.input, el("button", {type: "submit"}, "Send")),
      el("footer", {}, this.human, this.end));
    append(root, el("link", {rel: "stylesheet", href: new URL("assets/widget.css", BASE).href}),
           this.bubble, this.panel);
    document.body.append(host);
  }

  toggle() {
    this.panel.hidden = !this.panel.hidden;
    if (!this.panel.hidden) {
      this.unread = 0;
      this.showUnread();
      this.markRead();
      this.input.focus();
      this.connect();
    }
  }

  // --- Session and connection ---

  async session() {
    const body = {...this.user, ...(this.saved.visitor_token ? {visitor_token: this.saved.visitor_token} : {})};
    const response = await fetch(new URL(`v1/widget/${encodeURIComponent(this.widgetKey)}/sessions`, BASE), {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error ? answer.error.message : "The chat is unavailable.");
    this.save({visitor_token: answer.visitor_token, visitor_id: answer.visitor_id, expires_at: answer.expires_at,
               ws_url: answer.ws_url, conversation_id: answer.open_conversation_id || null,
               user_id: this.user?.user_id ?? null});
    return answer;
  }

  save(fields) {
    Object.assign(this.saved, fields);
    localStorage.setItem(this.storageKey, JSON.stringify(this.saved));
  }

  connect() {
    this.connected ??= this.open();
    return this.connected;
  }

  async open() {
    try {
      await this.session();
    } catch (error) {
      this.say(error.message);
      this.setState("offline");
      this.connected = null;  // the next open of the panel tries again
      return null;
    }
    this.channel = new Channel({
      url: this.saved.ws_url,
      token: async () => {
        if (Date.parse(this.saved.expires_at) - Date.now() < 60000) await this.session();
        return this.saved.visitor_token;
      },
      onFrame: (frame) => this.receive(frame),
      onOpen: () => this.sync(),
      onState: (state) => this.setState(state),
    });
    this.channel.start();
    return this.channel;
  }

  setState(state) {
    this.state.textContent = {online: "", connecting: "connecting…", reconnecting: "reconnecting…",
                              offline: "offline"}[state] ?? "";
  }

  sync() {
    if (this.saved.conversation_id) {
      this.channel.send({action: "messages.sync", conversation_id: this.saved.conversation_id,
                         after_seq: this.transcript.contiguous});
    }
  }

  // --- Frames from the server ---

  receive(frame) {
    const handler = {
      "ack": () => this.acked(frame),
      "message.new": () => this.show(frame),
      "sync.done": () => this.synced(frame),
      "conversation.queued": () => this.say(`You are number ${frame.position} in the queue. An agent will be with you soon.`),
      "conversation.assigned": () => this.say(`You are chatting with ${frame.agent.name || "an agent"}.`),
      "conversation.transferred": () => this.say("Passing you to a colleague…"),
      "conversation.closed": () => this.closed(),
      "typing": () => this.showTyping(frame),
      "read": () => this.seen(frame.seq),
      "survey.request": () => this.ask(frame),
      "error": () => this.failed(frame),
    }[frame.type];
    if (handler) handler();
  }

  acked(frame) {
    const node = this.pending.get(frame.client_msg_id);
    this.pending.delete(frame.client_msg_id);
    if (this.saved.conversation_id !== frame.conversation_id) this.save({conversation_id: frame.conversation_id});
    if (!node || !this.transcript.add({seq: frame.seq, sender: {kind: "visitor"}})) {
      node?.remove();
      return;
    }
    node.classList.remove("sending");
    insertBySeq(this.list, node, frame.seq);
  }

  show(frame) {
    if (frame.conversation_id !== this.saved.conversation_id) this.save({conversation_id: frame.conversation_id});
    if (!this.transcript.add(frame)) return;
    const kind = frame.sender.kind;
    const who = kind === "visitor" ? "You" : SENDERS[kind] || frame.sender.name || "Agent";
    const text = frame.text ?? "[this message is no longer available]";
    insertBySeq(this.list, this.message(kind, who, text, frame.sent_at), frame.seq);
    this.log.scrollTop = this.log.scrollHeight;
    if (kind !== "visitor") {
      this.typing.hidden = true;
      if (this.panel.hidden) { this.unread += 1; this.showUnread(); } else this.markRead();
    }
  }

  message(kind, who, text, sentAt) {
    return el("li", {class: `message ${kind}`},
              el("span", {class: "who"}, who), el("span", {class: "text"}, text),
              el("time", {}, clock(sentAt)));
  }

  synced(frame) {
    if (!frame.complete) {
      this.channel.send({action: "messages.sync", conversation_id: frame.conversation_id, after_seq: frame.last_seq});
    }
  }

  closed() {
    this.say("This chat has ended. Write again any time to start a new one.");
    this.save({conversation_id: null});
    this.transcript = new Transcript();
    // The next chat numbers its messages from 1 again: it gets a list of its own.
    this.list.after(el("p", {class: "divider"}, "Chat ended"));
    this.list = append(this.log, el("ol", {class: "messages"})).lastChild;
  }

  showTyping(frame) {
    if (frame.from && frame.from.kind === "visitor") return;
    this.typing.textContent = "The agent is typing…";
    this.typing.hidden = frame.state !== "on";
    clearTimeout(this.typingShown);
    this.typingShown = setTimeout(() => { this.typing.hidden = true; }, TYPING_SHOWN_MS);
  }

  seen(seq) {
    for (const node of this.list.querySelectorAll("li.visitor")) {
      if (Number(node.dataset.seq) <= seq) node.classList.add("seen");
    }
  }

  failed(frame) {
    const node = this.pending.get(frame.ref);
    if (node) {
      this.pending.delete(frame.ref);
      node.classList.replace("sending", "failed");
    }
    this.say(frame.message);
  }

  // --- What the visitor does ---

  enterSends(event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      this.sendTyped();
    }
  }

  async sendTyped() {
    const text = this.input.value.trim();
    if (!text || !(await this.connect())) return;
    this.input.value = "";
    this.stopTyping();
    const fields = this.saved.conversation_id ? {conversation_id: this.saved.conversation_id, text} : {text};
    const id = this.channel.sendMessage(fields);
    const node = this.message("visitor", "You", text, new Date().toISOString());
    node.classList.add("sending");
    this.pending.set(id, node);
    this.list.append(node);
    this.log.scrollTop = this.log.scrollHeight;
  }

  typed() {
    if (!this.saved.conversation_id || !this.channel) return;
    if (!this.typingSent) this.channel.send({action: "typing", conversation_id: this.saved.conversation_id, state: "on"});
    this.typingSent = true;
    clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.typingIdle);
    if (this.typingSent && this.saved.conversation_id) {
      this.channel.send({action: "typing", conversation_id: this.saved.conversation_id, state: "off"});
    }
    this.typingSent = false;
  }

  markRead() {
    if (this.saved.conversation_id && this.transcript.lastSeq && this.channel) {
      this.channel.send({action: "read", conversation_id: this.saved.conversation_id, seq: this.transcript.lastSeq});
    }
  }

  askForHuman() {
    if (this.saved.conversation_id) {
      this.channel.send({action: "handoff.request", conversation_id: this.saved.conversation_id});
      this.say("Finding you a person…");
    } else {
      this.input.value = "I'd like to talk to a human, please.";
      this.sendTyped();
    }
  }

  endChat() {
    if (this.saved.conversation_id) this.channel.send({action: "conversation.close", conversation_id: this.saved.conversation_id});
  }

  // The survey the server sends after a close (survey.request).
  ask(frame) {
    let rating = 0;
    const comment = el("textarea", {rows: 2, maxlength: 1000, placeholder: "Anything to add? (optional)",
                                    "aria-label": "Comment"});
    const stars = [1, 2, 3, 4, 5].map((n) => el("button", {type: "button", class: "star", "aria-label": `${n} of 5`,
      onclick: () => { rating = n; stars.forEach((s, i) => s.classList.toggle("chosen", i < n)); }}, String(n)));
    const status = el("p", {class: "survey-status", role: "status"});
    const send = el("button", {type: "button", class: "send-survey", onclick: async () => {
      if (!rating) { status.textContent = "Please choose a rating."; return; }
      const body = comment.value.trim() ? {rating, comment: comment.value.trim()} : {rating};
      const response = await fetch(new URL(`v1/surveys/${encodeURIComponent(frame.survey_token)}`, BASE), {
        method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
      const answer = await response.json();
      status.textContent = response.ok ? "Thank you for your feedback!" : answer.error.message;
      if (response.ok || response.status === 409 || response.status === 410) send.disabled = true;
    }}, "Send rating");
    replace(this.survey, el("p", {}, frame.question || "How did we do?"), el("div", {class: "stars"}, stars),
            comment, send, status);
    this.survey.hidden = false;
    if (this.panel.hidden) { this.unread += 1; this.showUnread(); }
  }

  say(text) {
    this.notice.textContent = text;
  }

  showUnread() {
    this.badge.hidden = this.unread === 0;
    this.badge.textContent = String(this.unread);
  }
}

const tag = document.querySelector("script[data-widget-key]");
if (tag) {
  const {widgetKey, userId, userHash} = tag.dataset;
  new Widget(widgetKey, userId && userHash ? {user_id: userId, user_hash: userHash} : null);
}
