// The widget's side of the API before the chat: the tenant's widget config, and the visitor's session,
// kept in this site's localStorage (its token travels only in the session request body and the
// WebSocket connect). API error codes are said in the visitor's language.
import {el} from "./dom.js";
import {t} from "./i18n.js";

const ERRORS = {widget_busy: "widget.error_busy", rate_limited: "widget.error_rate_limited",
                origin_not_allowed: "widget.error_origin", not_found: "widget.error_not_found",
                invalid_input: "widget.error_invalid"};

export function errorText(code, fallback) {
  return t(ERRORS[code] || fallback);
}

// A message with a person's name in it: the name is data, in an element of its own.
export function withName(key, name) {
  const [before, after] = t(key, {name: "\u0000"}).split("\u0000");
  return [before, el("span", {translate: "no"}, name), after];
}

// The tenant's widget config; when it cannot be read (a rotated key) the defaults, and the session
// then says why.
export async function widgetConfig(base, widgetKey) {
  try {
    const response = await fetch(new URL(`v1/widget/${encodeURIComponent(widgetKey)}/config`, base));
    if (response.ok) return await response.json();
  } catch {
    // unreachable: drawn with the defaults all the same
  }
  return {open: true, prechat_fields: [], greeting: {}, launcher_text: {}};
}

export class VisitorSession {
  // user: {user_id, user_hash} when the page verifies its user, else null.
  constructor(base, widgetKey, user) {
    Object.assign(this, {base, widgetKey, user});
    this.storageKey = `switchboard:${widgetKey}`;
    this.saved = JSON.parse(localStorage.getItem(this.storageKey) || "{}");
    if ((this.saved.user_id ?? null) !== (user?.user_id ?? null)) this.saved = {};  // someone else's
  }

  save(fields) {
    Object.assign(this.saved, fields);
    localStorage.setItem(this.storageKey, JSON.stringify(this.saved));
  }

  // Starts (or resumes, with the saved token) the visitor's session; fields: locale, name, email.
  async start(fields) {
    const body = {...this.user, ...fields,
                  ...(this.saved.visitor_token ? {visitor_token: this.saved.visitor_token} : {})};
    const response = await fetch(new URL(`v1/widget/${encodeURIComponent(this.widgetKey)}/sessions`, this.base), {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(errorText(answer.error?.code, "widget.error_unavailable"));
    this.save({visitor_token: answer.visitor_token, visitor_id: answer.visitor_id, expires_at: answer.expires_at,
               ws_url: answer.ws_url, conversation_id: answer.open_conversation_id || null,
               user_id: this.user?.user_id ?? null});
    return answer;
  }
}
