// The agent console: sign in, take chats, and (by role) the dashboard and the audit trail.
// Every piece of text from the API goes into the page as a text node (dom.js); the session token
// is kept in sessionStorage (this tab only) and sent in headers, and in the WebSocket connect.
//
// This entry module only starts it; one module per screen or concern (docs/console.md lists them):
// console-sign-in.js, console-app.js (the signed-in frame), console-conversations.js with
// console-chat.js, console-canned.js and console-visitor.js, console-dashboard.js, console-audit.js,
// console-two-factor.js (the second sign-in step, enrolment), console-account.js, console-security.js,
// console-sso.js (the admin's single sign-on tab) and console-sso-sign-in.js (signing in through it),
// console-language.js (which language, and the pickers).
import {Console} from "./console-app.js";
import {useConsoleLocale} from "./console-language.js";
import {saveSession, savedSession} from "./console-session.js";
import {showSignIn} from "./console-sign-in.js";
import {ssoReturn} from "./console-sso-sign-in.js";

const root = document.getElementById("root");
const saved = savedSession();
// The agent's own language (from their last sign-in in this tab), else this browser's choice or language.
await useConsoleLocale(saved?.agent?.locale);

// Once signed in, the console speaks the agent's language, which may not be the sign-in form's.
async function open(session) {
  await useConsoleLocale(session.agent.locale);
  new Console(root, session, signIn).start();
}

function signIn(message = "") {
  showSignIn(root, message, open);
}

// Back from single sign-on: its session (or why not); else a session kept in this tab resumes; else the form.
const returning = ssoReturn();
if (returning) {
  returning.then((session) => {
    saveSession(session);
    return open(session);
  }, (failure) => signIn(failure.message));
} else if (saved) open(saved);
else signIn();
