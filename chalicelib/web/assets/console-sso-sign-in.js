// Single sign-on on the sign-in form: the "Sign in with single sign-on" button (it sends the browser to
// the tenant's issuer through GET v1/auth/sso/start) and the return from it: the app sends the browser
// back to the console with #sso=CODE (a one-time code, redeemed here for a session; the session token
// itself never travels in a URL) or #sso_error=REASON.
import {ApiError} from "./api.js";
import {el} from "./dom.js";
import {t} from "./i18n.js";
import {rememberTenant} from "./console-session.js";

// Why single sign-on sent the browser back without a session (#sso_error=REASON), as the form says it.
const REASONS = {
  not_configured: () => t("console-sso.reason_not_configured"),
  state_unknown: () => t("console-sso.reason_state_unknown"),
  browser_mismatch: () => t("console-sso.reason_browser_mismatch"),
  issuer_refused: () => t("console-sso.reason_issuer_refused"),
  issuer_unavailable: () => t("console-sso.reason_issuer_unavailable"),
  token_endpoint_error: () => t("console-sso.reason_token_endpoint_error"),
  bad_signature: () => t("console-sso.reason_bad_signature"),
  wrong_audience: () => t("console-sso.reason_wrong_audience"),
  wrong_issuer: () => t("console-sso.reason_wrong_issuer"),
  token_expired: () => t("console-sso.reason_token_expired"),
  nonce_mismatch: () => t("console-sso.reason_nonce_mismatch"),
  email_missing: () => t("console-sso.reason_email_missing"),
  email_unverified: () => t("console-sso.reason_email_unverified"),
  no_such_agent: () => t("console-sso.reason_no_such_agent"),
  agent_inactive: () => t("console-sso.reason_agent_inactive"),
  invalid_token: () => t("console-sso.reason_invalid_token"),
  invalid_request: () => t("console-sso.reason_invalid_request"),
  rate_limited: () => t("console-sso.reason_rate_limited"),
  unavailable: () => t("console-sso.reason_unavailable"),
};

// The button for the sign-in form: tenant and email are its inputs; errors go to `error`.
export function ssoButton(tenant, email, error) {
  return el("button", {type: "button", id: "sign-in-sso", onclick: () => {
    const tenantId = tenant.value.trim();
    if (!tenantId) {
      error.textContent = t("console-sso.need_tenant");
      tenant.focus();
      return;
    }
    rememberTenant(tenantId);
    const start = new URL("v1/auth/sso/start", document.baseURI);
    start.searchParams.set("tenant_id", tenantId);
    if (email.value.trim() && email.checkValidity()) start.searchParams.set("email", email.value.trim());
    window.location.assign(start);
  }}, t("console-sso.button"));
}

// The return from the issuer, if this page load is one: null if not; else a promise of the session
// ({token, expires_at, agent, ws_url}), rejected with the message the sign-in form shows.
export function ssoReturn() {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const code = fragment.get("sso");
  const reason = fragment.get("sso_error");
  if (code === null && reason === null) return null;
  history.replaceState(null, "", window.location.pathname + window.location.search);  // the code is used once
  if (reason !== null) return Promise.reject(new Error(REASONS[reason] ? REASONS[reason]() : t("console-sso.failed")));
  return redeem(code);
}

async function redeem(code) {
  const response = await fetch(new URL("v1/auth/sso/redeem", document.baseURI), {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({code})});
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, data.error || {}, t("console-sso.failed"));
  return {token: data.token, expires_at: data.expires_at, agent: data.agent, ws_url: data.ws_url};
}
