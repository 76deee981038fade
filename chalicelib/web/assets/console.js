// The agent console: sign in, take chats, and (by role) the dashboard and the audit trail.
// Every piece of text from the API goes into the page as a text node (dom.js); the session token
// is kept in sessionStorage (this tab only) and sent in headers, and in the WebSocket connect.
//
// This entry module only starts it; one module per screen or concern (docs/console.md lists them):
// console-sign-in.js, console-app.js (the signed-in frame), console-conversations.js with
// console-chat.js, console-canned.js and console-visitor.js, console-dashboard.js, console-audit.js,
// console-two-factor.js (the second sign-in step, enrolment), console-account.js, console-security.js,
// console-sso.js (the admin's single sign-on tab) and console-sso-sign-in.js (signing in through it),
// console-sign-up.js (creating a workspace, /app#sign-up) and console-start.js (the admin's Get started).
import {Console} from "./console-app.js";
import {useLocale} from "./i18n.js";
import {saveSession, savedSession} from "./console-session.js";
import {showSignIn} from "./console-sign-in.js";
import {SIGN_UP_HASH, showSignUp} from "./console-sign-up.js";
import {ssoReturn} from "./console-sso-sign-in.js";

const root = document.getElementById("root");
const saved = savedSession();
// The agent's own language (from their last sign-in in this tab), else the browser's.
await useLocale("console", [saved?.agent?.locale]);

let signedIn = false;

// firstTab: the tab to open (a new owner's Get started), else the role's first.
function open(session, firstTab) {
  signedIn = true;
  new Console(root, session, signOut).start(firstTab);
}

function signOut(message) {
  signedIn = false;
  signIn(message);
}

// The sign-in form, or the sign-up form at #sign-up (its link, or /app#sign-up).
function signIn(message = "") {
  if (location.hash === SIGN_UP_HASH) showSignUp(root, open);
  else showSignIn(root, message, open);
}

window.addEventListener("hashchange", () => {
  if (!signedIn) signIn();
});

// Back from single sign-on: its session (or why not); else a session kept in this tab resumes; else the form.
const returning = ssoReturn();
if (returning) {
  returning.then((session) => {
    saveSession(session);
    open(session);
  }, (failure) => signIn(failure.message));
} else if (saved) open(saved);
else signIn();
