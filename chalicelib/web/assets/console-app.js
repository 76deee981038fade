// The signed-in console: the top bar (a tab for each screen the role may see, presence, the
// connection's state, sign-out), a toast for what went wrong, the open screen, the WebSocket,
// the session's renewal, and its end, whoever ends it. A session that owes two-factor enrolment
// (the workspace requires it) sees only that enrolment until it is done, then the whole console.
// A change of the agent's language (Account tab) redraws the console in it.
import {Api, errorParts} from "./api.js";
import {Account} from "./console-account.js";
import {AuditTrail} from "./console-audit.js";
import {CannedLibrary} from "./console-canned-library.js";
import {Conversations} from "./console-conversations.js";
import {Dashboard} from "./console-dashboard.js";
import {Keys} from "./console-keys.js";
import {Knowledge} from "./console-knowledge.js";
import {useConsoleLocale} from "./console-language.js";
import {ADMIN_ROLES, AUDITING_ROLES, CHATTING_ROLES, PRESENCE_STATUSES, STAFF_ROLES, SUPERVISING_ROLES, presenceName,
        roleName} from "./console-roles.js";
import {Security} from "./console-security.js";
import {forgetSession, saveLanguage, savePresence, saveSession, savedPresence} from "./console-session.js";
import {Settings} from "./console-settings.js";
import {GetStarted} from "./console-start.js";
import {SsoSettings} from "./console-sso.js";
import {tData} from "./console-text.js";
import {Team} from "./console-team.js";
import {UnreadTitle} from "./console-title.js";
import {Webhooks} from "./console-webhooks.js";
import {WidgetScreen} from "./console-widget.js";
import {enrol} from "./console-two-factor.js";
import {Workspace} from "./console-workspace.js";
import {el, replace} from "./dom.js";
import {t} from "./i18n.js";
import {Channel} from "./realtime.js";

const REFRESH_BEFORE_MS = 5 * 60 * 1000;
// The screens, in the order of their tabs: each with its tab's label (a function: the catalog loads after
// this module), the roles that see it, and the group of the side bar it sits in.
const SCREENS = [["start", () => t("console-start.tab"), ADMIN_ROLES, "top"],
                 ["conversations", () => t("console-app.tab_conversations"), CHATTING_ROLES, "inbox"],
                 ["workspace", () => t("console-workspace.tab"), CHATTING_ROLES, "inbox"],
                 ["dashboard", () => t("console-reports.tab"), SUPERVISING_ROLES, "insight"],
                 ["audit", () => t("console-compliance.tab"), AUDITING_ROLES, "insight"],
                 ["team", () => t("console-team.tab"), ADMIN_ROLES, "setup"],
                 ["settings", () => t("console-settings.tab"), ADMIN_ROLES, "setup"],
                 ["knowledge", () => t("console-knowledge.tab"), ADMIN_ROLES, "setup"],
                 ["canned", () => t("console-canned-library.tab"), ADMIN_ROLES, "setup"],
                 ["widget", () => t("console-widget.title"), ADMIN_ROLES, "setup"],
                 ["keys", () => t("console-keys.tab"), ADMIN_ROLES, "setup"],
                 ["webhooks", () => t("console-webhooks.tab"), ADMIN_ROLES, "setup"],
                 ["security", () => t("console-app.tab_security"), ADMIN_ROLES, "setup"],
                 ["sso", () => t("console-app.tab_sso"), ADMIN_ROLES, "setup"],
                 ["account", () => t("console-app.tab_account"), STAFF_ROLES, "bottom"]];
// The side bar's groups, in order; "top" and "bottom" have no heading.
const GROUPS = ["top", "inbox", "insight", "setup", "bottom"];
// Why the server ended this session (the `session.revoked` frame), as the sign-in form says it.
const REVOKED = {
  deactivated: () => t("console-app.revoked_deactivated"),
  role_changed: () => t("console-app.revoked_role_changed"),
  password_changed: () => t("console-app.revoked_password_changed"),
  totp_reset: () => t("console-app.revoked_totp_reset"),
  logged_out: () => t("console-app.revoked_logged_out"),
  ended: () => t("console-app.revoked_ended"),
};
const CONNECTION = {connecting: () => t("console-app.connection_connecting"),
                    online: () => t("console-app.connection_online"),
                    reconnecting: () => t("console-app.connection_reconnecting")};
const REVOKED_FRAME_WAIT_MS = 2000;

export class Console {
  // root: where the console draws; onSignedOut(message): shows the sign-in form with the message.
  constructor(root, session, onSignedOut) {
    this.root = root;
    this.session = session;
    this.me = session.agent;
    this.onSignedOut = onSignedOut;
    this.api = new Api(() => this.session.token, () => this.sessionRefused());
    this.presence = savedPresence();
    this.conversations = CHATTING_ROLES.has(this.me.role) ? new Conversations(this) : null;
    // Each screen draws itself into the view when its tab opens: draw(main).
    this.screens = {start: new GetStarted(this.api, (name) => this.tabs.has(name), (name) => this.openTab(name),
                                          (message) => this.notify(message)),
                    conversations: this.conversations, dashboard: new Dashboard(this.api),
                    workspace: new Workspace(this.api, this.me, (message) => this.notify(message)),
                    audit: new AuditTrail(this.api, (message) => this.notify(message)),
                    team: new Team(this.api, this.me, (message) => this.notify(message)),
                    settings: new Settings(this.api, (message) => this.notify(message)),
                    security: new Security(this.api, this.me, (message) => this.notify(message)),
                    sso: new SsoSettings(this.api, (message) => this.notify(message)),
                    knowledge: new Knowledge(this.api, (message) => this.notify(message)),
                    canned: new CannedLibrary(this.api, (message) => this.notify(message)),
                    keys: new Keys(this.api, (message) => this.notify(message)),
                    webhooks: new Webhooks(this.api, (message) => this.notify(message)),
                    widget: new WidgetScreen(this.api, (message) => this.notify(message)),
                    account: new Account(this.api, this.me, (message) => this.notify(message),
                                         (agent) => this.languageChanged(agent))};
    this.title = new UnreadTitle(() => (this.conversations ? this.conversations.unreadTotal() : 0));
  }

  // firstTab: open that tab (a new owner's Get started) instead of the role's first.
  start(firstTab = null) {
    if (this.session.totp_enrolment_required) {
      this.enrolFirst();
      return;
    }
    this.draw();
    if (CHATTING_ROLES.has(this.me.role)) {
      this.channel = new Channel({url: this.session.ws_url, token: () => this.freshToken(),
                                  onFrame: (frame) => this.receive(frame), onOpen: () => this.reconnected(),
                                  onState: (state) => this.connectionState(state)});
      this.channel.start();
      this.conversations.start();
      this.openTab("conversations");  // drawn even under firstTab: the lists it keeps live are there
      if (firstTab) this.openTab(firstTab);
    } else {
      this.openTab(firstTab || (AUDITING_ROLES.has(this.me.role) ? "audit" : "dashboard"));
    }
    window.addEventListener("focus", () => this.title.update());
  }

  // Only the enrolment, in a bare frame (sign-out still there); once done, the whole console.
  enrolFirst() {
    this.draw();
    const flow = el("div", {id: "totp-enrol"});
    replace(this.main, el("div", {class: "panel", id: "enrolment-required"},
      el("h2", {}, t("console-app.enrolment_title")), el("p", {}, t("console-app.enrolment_why")), flow));
    enrol(this.api, flow, () => {
      this.session.totp_enrolment_required = false;
      saveSession(this.session);
      this.start();
    });
  }

  // --- The session ---

  async freshToken() {
    if (Date.parse(this.session.expires_at) - Date.now() < REFRESH_BEFORE_MS) {
      const answer = await this.api.post("v1/auth/refresh", {});
      Object.assign(this.session, {token: answer.token, expires_at: answer.expires_at});
      saveSession(this.session);
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
    this.refusedTimer = setTimeout(() => this.signOut(REVOKED.ended()), REVOKED_FRAME_WAIT_MS);
  }

  signOut(message = "") {
    if (this.signedOut) return;
    this.signedOut = true;
    this.channel?.stop();
    this.conversations?.stop();
    this.title.stop();
    forgetSession();
    this.onSignedOut(message);
  }

  // --- Layout ---

  draw() {
    const tabs = this.session.totp_enrolment_required ? [] : SCREENS.filter(([, , roles]) => roles.has(this.me.role));
    this.tabs = new Map(tabs.map(([name, label]) => [name, el("button", {type: "button", class: "tab", id: `tab-${name}`,
                                                                          onclick: () => this.openTab(name)}, label())]));
    const grouped = GROUPS.map((group) => [group, tabs.filter((tab) => tab[3] === group)]).filter(([, list]) => list.length);
    this.connection = el("span", {id: "connection", class: "connection"});
    if (this.connectionNow) this.connectionState(this.connectionNow);
    this.presenceSelect = el("select", {id: "presence", "aria-label": t("console-app.presence"),
                                        onchange: () => this.setPresence()},
      PRESENCE_STATUSES.map((status) => el("option", {value: status}, presenceName(status))));
    this.presenceSelect.value = this.presence;
    this.toast = el("p", {id: "toast", class: "toast", role: "alert", hidden: true});
    this.main = el("div", {class: "view"});
    replace(this.root,
      el("header", {class: "topbar"}, el("strong", {class: "brand", translate: "no"}, "Switchboard"),  // not UI text
         el("span", {class: "spacer"}),
         CHATTING_ROLES.has(this.me.role) && tabs.length ? this.presenceSelect : null, this.connection,
         el("span", {id: "me", class: "me"}, ...tData("console-app.me", {name: this.me.name},
                                                       {role: roleName(this.me.role)})),
         el("button", {type: "button", id: "sign-out", onclick: () => this.logOut()}, t("console-app.sign_out"))),
      this.toast,
      el("div", {class: tabs.length ? "frame" : "frame bare"},
         tabs.length ? el("nav", {class: "sidebar", "aria-label": t("console-app.screens")},
           grouped.map(([group, list]) => el("div", {class: `group group-${group}`},
             ["top", "bottom"].includes(group) ? null : el("h2", {}, t(`console-app.group_${group}`)),
             list.map(([name]) => this.tabs.get(name))))) : null,
         this.main));
  }

  openTab(name) {
    this.openedTab = name;
    for (const [tab, button] of this.tabs) {
      button.classList.toggle("active", tab === name);
      if (tab === name) button.setAttribute("aria-current", "page"); else button.removeAttribute("aria-current");
    }
    this.screens[name].draw(this.main);
  }

  // The agent changed their language (the answer of PATCH /v1/me): this tab keeps it, this browser
  // remembers it for the sign-in form, and the console draws itself again in it.
  async languageChanged(agent) {
    Object.assign(this.me, agent);
    saveSession(this.session);
    saveLanguage(agent.locale);
    await useConsoleLocale(agent.locale);
    this.draw();
    this.openTab(this.openedTab);
  }

  // message: a text, or a failure (an ApiError's server message then stays untranslated, marked so).
  notify(message) {
    replace(this.toast, ...(message instanceof Error ? errorParts(message) : [message]));
    this.toast.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => { this.toast.hidden = true; }, 6000);
  }

  connectionState(state) {
    this.connectionNow = state;
    this.connection.textContent = CONNECTION[state]();
    this.connection.dataset.state = state;
  }

  // --- Presence and frames ---

  setPresence() {
    this.presence = this.presenceSelect.value;
    savePresence(this.presence);
    this.channel.send({action: "presence.set", status: this.presence});
  }

  // After every (re)connect: presence again, then what each of my chats missed.
  async reconnected() {
    this.channel.send({action: "presence.set", status: this.presence});
    await this.conversations.reconnected();
  }

  receive(frame) {
    if (frame.type === "presence") {
      this.presence = frame.status;
      this.presenceSelect.value = frame.status;
    } else if (frame.type === "session.revoked") {
      this.signOut((REVOKED[frame.reason] || REVOKED.ended)());
    } else {
      this.conversations.receive(frame);
    }
  }
}
