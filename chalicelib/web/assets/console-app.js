// The signed-in console: the top bar (a tab for each screen the role may see, presence, the
// connection's state, sign-out), a toast for what went wrong, the open screen, the WebSocket,
// the session's renewal, and its end, whoever ends it. A session that owes two-factor enrolment
// (the workspace requires it) sees only that enrolment until it is done, then the whole console.
import {Api} from "./api.js";
import {Account} from "./console-account.js";
import {AuditTrail} from "./console-audit.js";
import {CannedLibrary} from "./console-canned-library.js";
import {Conversations} from "./console-conversations.js";
import {Dashboard} from "./console-dashboard.js";
import {Keys} from "./console-keys.js";
import {Knowledge} from "./console-knowledge.js";
import {ADMIN_ROLES, AUDITING_ROLES, CHATTING_ROLES, STAFF_ROLES, SUPERVISING_ROLES} from "./console-roles.js";
import {Security} from "./console-security.js";
import {forgetSession, savePresence, saveSession, savedPresence} from "./console-session.js";
import {Settings} from "./console-settings.js";
import {GetStarted} from "./console-start.js";
import {SsoSettings} from "./console-sso.js";
import {Team} from "./console-team.js";
import {UnreadTitle} from "./console-title.js";
import {WidgetScreen} from "./console-widget.js";
import {enrol} from "./console-two-factor.js";
import {Workspace} from "./console-workspace.js";
import {el, replace} from "./dom.js";
import {t} from "./i18n.js";
import {Channel} from "./realtime.js";

const REFRESH_BEFORE_MS = 5 * 60 * 1000;
// The screens, in the order of their tabs, and the roles that see each (a label read from a catalog is
// a function: the catalog loads after this module).
const SCREENS = [["start", () => t("console-start.tab"), ADMIN_ROLES],
                 ["conversations", "Conversations", CHATTING_ROLES],
                 ["workspace", () => t("console-workspace.tab"), CHATTING_ROLES],
                 ["dashboard", () => t("console-reports.tab"), SUPERVISING_ROLES],
                 ["audit", () => t("console-compliance.tab"), AUDITING_ROLES], ["team", () => t("console-team.tab"), ADMIN_ROLES],
                 ["settings", () => t("console-settings.tab"), ADMIN_ROLES], ["security", "Security", ADMIN_ROLES],
                 ["sso", "Single sign-on", ADMIN_ROLES],
                 ["knowledge", () => t("console-knowledge.tab"), ADMIN_ROLES],
                 ["canned", () => t("console-canned-library.tab"), ADMIN_ROLES],
                 ["keys", () => t("console-keys.tab"), ADMIN_ROLES], ["widget", () => t("console-widget.title"), ADMIN_ROLES],
                 ["account", "Account", STAFF_ROLES]];
const ENROLMENT = {
  title: "Set up two-factor sign-in",
  why: "Your organisation requires two-factor sign-in. Set it up now to continue.",
};
// Why the server ended this session (the `session.revoked` frame), as the sign-in form says it.
const REVOKED = {
  deactivated: "Your account was deactivated.",
  role_changed: "Your role was changed; please sign in again.",
  password_changed: "Your password was changed; please sign in again.",
  totp_reset: "Your two-factor sign-in was reset by an admin; please sign in again.",
  logged_out: "You were signed out.",
  ended: "Your session has ended; please sign in again.",
};
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
                    widget: new WidgetScreen(this.api, (message) => this.notify(message)),
                    account: new Account(this.api, this.me, (message) => this.notify(message))};
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
      el("h2", {}, ENROLMENT.title), el("p", {}, ENROLMENT.why), flow));
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
    this.refusedTimer = setTimeout(() => this.signOut(REVOKED.ended), REVOKED_FRAME_WAIT_MS);
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
                                                                          onclick: () => this.openTab(name)},
                                                                          typeof label === "function" ? label() : label)]));
    this.connection = el("span", {id: "connection", class: "connection"});
    this.presenceSelect = el("select", {id: "presence", "aria-label": "Presence", onchange: () => this.setPresence()},
      ["online", "away", "offline"].map((status) => el("option", {value: status}, status)));
    this.presenceSelect.value = this.presence;
    this.toast = el("p", {id: "toast", class: "toast", role: "alert", hidden: true});
    this.main = el("div", {class: "view"});
    replace(this.root,
      el("header", {class: "topbar"}, el("strong", {class: "brand"}, "Switchboard"),
         el("nav", {}, [...this.tabs.values()]),
         CHATTING_ROLES.has(this.me.role) && tabs.length ? this.presenceSelect : null, this.connection,
         el("span", {id: "me", class: "me"}, `${this.me.name} (${this.me.role})`),
         el("button", {type: "button", id: "sign-out", onclick: () => this.logOut()}, "Sign out")),
      this.toast, this.main);
  }

  openTab(name) {
    for (const [tab, button] of this.tabs) button.classList.toggle("active", tab === name);
    this.screens[name].draw(this.main);
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
      this.signOut(REVOKED[frame.reason] || REVOKED.ended);
    } else {
      this.conversations.receive(frame);
    }
  }
}
