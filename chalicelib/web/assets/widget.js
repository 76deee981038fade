// The Switchboard chat widget. A tenant adds it to any page with one tag:
//   <script type="module" src="https://<switchboard>/widget.js" data-widget-key="wk...."
//           data-locale="zh-CN"></script>   (data-locale optional)
// It reads the tenant's widget config (colour, position, greeting, launcher text, pre-chat fields,
// default language, open now or not), picks its language (data-locale, else the browser, else the
// tenant's default) and loads that catalog, then draws a chat bubble in a shadow root (the page's
// styles and ours stay apart), starts a visitor session, and chats over the WebSocket API. Out of
// business hours it offers a form whose message waits in the queue for the first agent.
// The visitor's token lives in this site's localStorage so the visitor (and an open chat) survives
// page loads; it travels only in the session request body and the WebSocket connect, never in a URL.
// A page that knows its signed-in user adds data-user-id and data-user-hash (the tenant's server
// computes the hash: HMAC-SHA256 of the id under the tenant's identity secret): the user then has one
// chat history in every browser, and a browser's saved chat never passes to another user.
// data-preview="1" (the console's live preview, /demo?preview=1 in a same-origin frame): the panel
// stays open, nothing is sent, and the console's unsaved style arrives by postMessage.
import {AttachmentApi, words} from "./assets/attachments.js";
import {Tray, attachmentList} from "./assets/attachments-view.js";
import {Channel, Transcript} from "./assets/realtime.js";
import {append, el, insertBySeq, replace} from "./assets/dom.js";
import {format, locale, t, useLocale} from "./assets/i18n.js";
import {offlineForm, prechatForm, surveyForm, textOn} from "./assets/widget-forms.js";
import {VisitorSession, errorText, widgetConfig, withName} from "./assets/widget-visitor.js";

const BASE = new URL(".", import.meta.url);
const TYPING_IDLE_MS = 3000;
const TYPING_SHOWN_MS = 8000;
const SENDERS = {bot: "widget.bot", system: "widget.system"};
const PREVIEW = "switchboard-preview";  // not UI text

class Widget {
  constructor(tag) {
    const {widgetKey, userId, userHash, locale: pageLocale, preview} = tag.dataset;
    this.widgetKey = widgetKey;
    this.user = userId && userHash ? {user_id: userId, user_hash: userHash} : null;
    this.pageLocale = pageLocale;
    this.preview = preview === "1";
    this.visitor = new VisitorSession(BASE, widgetKey, this.user);
    this.saved = this.visitor.saved;  // what the visitor's session keeps (token, open conversation)
    this.transcript = new Transcript();
    this.pending = new Map();  // client_msg_id -> the message node waiting for its ack
    this.unread = 0;
    this.channel = null;
    this.connected = null;  // the promise of a channel, once the visitor is there
    this.files = new AttachmentApi(BASE, () => this.token());
    this.fileWords = words("widget.attachment_");
  }

  async start() {
    this.config = await widgetConfig(BASE, this.widgetKey);
    const browser = navigator.languages || [navigator.language];
    await useLocale("widget", [this.pageLocale, ...browser, this.config.default_locale], BASE);
    this.draw();
    if (this.preview) {
      window.addEventListener("message", (event) => this.previewed(event));
      this.openPanel(false);
      window.parent.postMessage({type: `${PREVIEW}-ready`}, window.location.origin);
    } else if (this.saved.visitor_token) this.connect();  // a returning visitor: resume at once
  }

  // --- Drawing ---

  draw() {
    const {color, position, greeting, launcher_text: launcherText} = this.config;
    const wasOpen = this.panel && !this.panel.hidden;
    this.host?.remove();
    this.host = el("div", {id: "switchboard-widget", "data-position": position || null});
    if (color) {
      this.host.style.setProperty("--sb-color", color);
      this.host.style.setProperty("--sb-on-color", textOn(color));
    }
    const root = this.host.attachShadow({mode: "open"});
    this.badge = el("span", {class: "badge", hidden: true});
    this.bubble = el("button", {class: "bubble", type: "button", "aria-expanded": "false",
                                onclick: () => this.toggle()},
                     el("span", {translate: launcherText?.[locale()] ? "no" : null},
                        launcherText?.[locale()] || t("widget.launcher")), this.badge);
    this.state = el("span", {class: "state"});
    // A region of its own the keyboard can reach and scroll; new messages are read out as they come.
    this.log = el("div", {class: "log", role: "log", "aria-live": "polite", tabindex: 0,
                          "aria-label": t("widget.messages_label")});
    this.list = append(this.log, el("ol", {class: "messages"})).lastChild;
    this.notice = el("p", {class: "notice", role: "status"});
    this.typing = el("p", {class: "typing", hidden: true});
    this.survey = el("div", {class: "survey", hidden: true});
    this.input = el("textarea", {rows: 2, maxlength: 4000, placeholder: t("widget.placeholder"),
                                 "aria-label": t("widget.message_label"), oninput: () => this.typed(),
                                 onkeydown: (event) => this.enterSends(event)});
    this.human = el("button", {type: "button", class: "human", onclick: () => this.askForHuman()}, t("widget.human"));
    this.end = el("button", {type: "button", class: "end", onclick: () => this.endChat()}, t("widget.end"));
    this.tray = new Tray(this.fileWords, this.files, () => this.saved.conversation_id,
                         {maxBytes: this.config.attachments_max_bytes, types: this.config.attachment_types});
    this.chat = el("div", {class: "chat"}, this.log, this.typing, this.survey, this.tray.element,
      el("form", {class: "composer", onsubmit: (event) => { event.preventDefault(); this.sendTyped(); }},
         this.tray.button, this.input, el("button", {type: "submit", class: "primary"}, t("widget.send"))),
      el("footer", {}, this.human, this.end));
    this.form = el("div", {class: "form"});
    const ownGreeting = greeting?.[locale()];
    this.panel = el("section", {class: "panel", hidden: true, role: "dialog", "aria-labelledby": "sb-title",
                                onkeydown: (event) => this.escapeCloses(event)},
      el("header", {}, el("h2", {id: "sb-title"}, t("widget.title")), this.state,
         el("button", {type: "button", class: "minimise", "aria-label": t("widget.close"),
                       onclick: () => this.toggle()}, el("span", {"aria-hidden": "true"}, "×"))),
      el("p", {class: "greeting", translate: ownGreeting ? "no" : null}, ownGreeting || t("widget.greeting")),
      this.form, this.chat, this.notice);
    // Hidden until its styles arrive: a page never shows an unstyled grey button for a moment.
    const frame = el("div", {lang: locale(), hidden: true}, this.bubble, this.panel);
    const show = () => { frame.hidden = false; };
    append(root, el("link", {rel: "stylesheet", href: new URL("assets/widget.css", BASE).href, onload: show, onerror: show}),
           frame);
    document.body.append(this.host);
    this.tray.listen([this.chat], this.input);
    this.showView();
    if (wasOpen) this.openPanel(false);
  }

  // Which part of the panel shows: the chat; or before it, the pre-chat form (when the tenant asks
  // questions of a new visitor) or, out of hours with no chat going on, the offline form.
  showView() {
    const questions = this.config.prechat_fields || [];
    let form = null;
    if (!this.config.open && !this.saved.conversation_id) {
      form = offlineForm(this.config.offline_message, questions, (details, text) => this.leaveMessage(details, text));
    } else if (questions.length && !this.saved.visitor_token) {
      form = prechatForm(questions, (details) => this.startChat(details));
    }
    replace(this.form, form);
    this.form.hidden = !form;
    this.chat.hidden = Boolean(form);
    if (this.preview) {
      this.input.disabled = true;
      this.tray.button.disabled = true;
      this.say(t("widget.preview"));
    }
  }

  toggle() {
    if (this.panel.hidden) this.openPanel(true);
    else this.closePanel();
  }

  openPanel(focus) {
    this.panel.hidden = false;
    this.bubble.setAttribute("aria-expanded", "true");
    this.unread = 0;
    this.showUnread();
    if (focus) this.panel.querySelector(".form:not([hidden]) input, .form:not([hidden]) textarea, .chat textarea")?.focus();
    if (this.preview) return;
    this.markRead();
    if (this.saved.visitor_token || !this.chat.hidden) this.connect();
  }

  closePanel() {
    this.panel.hidden = true;
    this.bubble.setAttribute("aria-expanded", "false");
    this.bubble.focus();
  }

  escapeCloses(event) {
    if (event.key === "Escape") {  // not UI text
      event.stopPropagation();
      this.closePanel();
    }
  }

  // The console's unsaved style, for the live preview (only from this very origin).
  async previewed(event) {
    if (event.origin !== window.location.origin || event.data?.type !== PREVIEW) return;
    Object.assign(this.config, event.data.widget);
    if (event.data.locale && event.data.locale !== locale()) await useLocale("widget", [event.data.locale], BASE);
    this.draw();
    this.openPanel(false);
  }

  // --- Session and connection ---

  session(details = {}) {
    return this.visitor.start({...details, locale: locale()});
  }

  save(fields) {
    this.visitor.save(fields);
  }

  connect(details) {
    this.connected ??= this.open(details);
    return this.connected;
  }

  async open(details) {
    try {
      await this.session(details);
    } catch (error) {
      this.say(error.message);
      this.setState("offline");
      this.connected = null;  // the next open of the panel tries again
      return null;
    }
    this.channel = new Channel({
      url: this.saved.ws_url,
      token: () => this.token(),
      onFrame: (frame) => this.receive(frame),
      onOpen: () => this.sync(),
      onState: (state) => this.setState(state),
    });
    this.channel.start();
    return this.channel;
  }

  // The visitor's token, renewed when it has under a minute left.
  async token() {
    if (Date.parse(this.saved.expires_at) - Date.now() < 60000) await this.session();
    return this.saved.visitor_token;
  }

  // The pre-chat form answered: the session carries the visitor's name and email.
  async startChat(details) {
    if (!(await this.connect(details))) return;
    this.showView();
    this.input.focus();
  }

  // Out of hours: the visitor's message opens a conversation that waits in the queue (handed over
  // from the bot, which may answer it first) until an agent comes online.
  async leaveMessage(details, text) {
    const resumed = Boolean(this.connected);  // a returning visitor's session: told the details now
    if (!text || !(await this.connect(details))) return;
    if (resumed && Object.keys(details).length) await this.session(details).catch(() => {});
    this.handOverOnAck = this.sendText(text);
    this.chat.hidden = false;
    this.form.hidden = true;
    this.say(...(details.name ? withName("widget.offline_sent", details.name) : [t("widget.offline_sent_anonymous")]));
  }

  setState(state) {
    const key = {connecting: "widget.state_connecting", reconnecting: "widget.state_reconnecting",
                 offline: "widget.state_offline"}[state];
    this.state.textContent = key ? t(key) : "";
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
      "conversation.queued": () => this.say(t("widget.queued", {position: format.number(frame.position)})),
      "conversation.assigned": () => this.say(...(frame.agent.name ? withName("widget.assigned", frame.agent.name)
                                                  : [t("widget.assigned", {name: t("widget.an_agent")})])),
      "conversation.transferred": () => this.say(t("widget.transferred")),
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
    if (this.handOverOnAck === frame.client_msg_id) {  // the offline form's message: to the queue
      this.handOverOnAck = null;
      this.channel.send({action: "handoff.request", conversation_id: frame.conversation_id});
    }
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
    const who = kind === "visitor" ? t("widget.you") : (SENDERS[kind] ? t(SENDERS[kind]) : frame.sender.name || t("widget.agent"));
    insertBySeq(this.list, this.message(kind, who, frame.text, frame.sent_at, kind === "agent" && frame.sender.name,
                                        frame.attachments), frame.seq);
    this.log.scrollTop = this.log.scrollHeight;
    if (kind !== "visitor") {
      this.typing.hidden = true;
      if (this.panel.hidden) { this.unread += 1; this.showUnread(); } else this.markRead();
    }
  }

  // text: the message (data, never translated), or null when it is gone (erased); attachments: its files.
  message(kind, who, text, sentAt, namedAgent, attachments = []) {
    return el("li", {class: `message ${kind}`},
              el("span", {class: "who", translate: namedAgent ? "no" : null}, who),
              text === null || text === undefined
                ? el("span", {class: "text"}, t("widget.message_gone"))
                : el("span", {class: "text", translate: "no"}, text),
              attachmentList(attachments, this.files, this.fileWords),
              el("time", {datetime: sentAt}, format.time(sentAt),
                 el("span", {class: "seen-mark"}, " · ", t("widget.seen"))));
  }

  synced(frame) {
    if (!frame.complete) {
      this.channel.send({action: "messages.sync", conversation_id: frame.conversation_id, after_seq: frame.last_seq});
    }
  }

  closed() {
    this.say(t("widget.ended"));
    this.save({conversation_id: null});
    this.tray.clear();
    this.transcript = new Transcript();
    // The next chat numbers its messages from 1 again: it gets a list of its own.
    this.list.after(el("p", {class: "divider"}, t("widget.ended_divider")));
    this.list = append(this.log, el("ol", {class: "messages"})).lastChild;
  }

  showTyping(frame) {
    if (frame.from && frame.from.kind === "visitor") return;
    this.typing.textContent = t("widget.typing");
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
    this.say(errorText(frame.code, "widget.error_failed"));
  }

  // --- What the visitor does ---

  enterSends(event) {
    if (event.key === "Enter" && !event.shiftKey) {  // not UI text
      event.preventDefault();
      this.sendTyped();
    }
  }

  async sendTyped() {
    const text = this.input.value.trim();
    const files = this.tray.ready();
    if (this.tray.busy()) { this.tray.show(t("widget.attachment_still_uploading")); return; }
    if (this.preview || !(text || files.length) || !(await this.connect())) return;
    this.input.value = "";
    this.tray.clear();
    this.stopTyping();
    this.sendText(text, files);
  }

  // files: the uploaded attachments that go with it ([{attachment_id, filename, content_type, size}]).
  sendText(text, files = []) {
    const fields = this.saved.conversation_id ? {conversation_id: this.saved.conversation_id, text} : {text};
    if (files.length) fields.attachment_ids = files.map((file) => file.attachment_id);
    const id = this.channel.sendMessage(fields);
    const node = this.message("visitor", t("widget.you"), text, new Date().toISOString(), false, files);
    node.classList.add("sending");
    this.pending.set(id, node);
    this.list.append(node);
    this.log.scrollTop = this.log.scrollHeight;
    return id;
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
    if (this.preview) return;
    if (this.saved.conversation_id) {
      this.channel.send({action: "handoff.request", conversation_id: this.saved.conversation_id});
      this.say(t("widget.handoff"));
    } else {
      this.input.value = t("widget.human_request");
      this.sendTyped();
    }
  }

  endChat() {
    if (this.saved.conversation_id) this.channel.send({action: "conversation.close", conversation_id: this.saved.conversation_id});
  }

  // The survey the server sends after a close: the tenant's own question, or ours in the visitor's language.
  ask(frame) {
    const question = this.config.survey_question ? frame.question || this.config.survey_question : null;
    surveyForm(this.survey, question, (body) => fetch(new URL(`v1/surveys/${encodeURIComponent(frame.survey_token)}`, BASE), {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)}));
    if (this.panel.hidden) { this.unread += 1; this.showUnread(); }
  }

  // text: strings and nodes (a name in its own translate="no" element).
  say(...text) {
    replace(this.notice, ...text);
  }

  showUnread() {
    this.badge.hidden = this.unread === 0;
    replace(this.badge, ...(this.unread ? [el("span", {"aria-hidden": "true"}, format.number(this.unread)),
                                           el("span", {class: "visually-hidden"}, t("widget.unread", {count: this.unread}))]
                                        : []));
  }
}

const tag = document.querySelector("script[data-widget-key]");
if (tag) new Widget(tag).start();
