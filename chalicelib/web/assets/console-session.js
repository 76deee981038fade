// What the console keeps in the browser: the signed-in session in sessionStorage (this tab only,
// sent in headers and in the WebSocket connect), this tab's presence, and in localStorage the last
// workspace (tenant id) signed in to, to fill the sign-in form with, and the language last picked.
const SESSION = "switchboard.console";

// The session of this tab ({token, expires_at, agent, ws_url}), or null if none or ended.
export function savedSession() {
  const saved = JSON.parse(sessionStorage.getItem(SESSION) || "null");
  return saved && Date.parse(saved.expires_at) > Date.now() ? saved : null;
}

export function saveSession(session) {
  sessionStorage.setItem(SESSION, JSON.stringify(session));
}

export function forgetSession() {
  sessionStorage.removeItem(SESSION);
}

export function savedPresence() {
  return sessionStorage.getItem(`${SESSION}.presence`) || "online";
}

export function savePresence(status) {
  sessionStorage.setItem(`${SESSION}.presence`, status);
}

export function rememberedTenant() {
  return localStorage.getItem(`${SESSION}.tenant`) || "";
}

export function rememberTenant(tenantId) {
  localStorage.setItem(`${SESSION}.tenant`, tenantId);
}

// The language picked on the sign-in form or in the Account tab, for this browser (null: none picked).
export function savedLanguage() {
  return localStorage.getItem(`${SESSION}.language`);
}

export function saveLanguage(tag) {
  if (tag) localStorage.setItem(`${SESSION}.language`, tag);
  else localStorage.removeItem(`${SESSION}.language`);
}
