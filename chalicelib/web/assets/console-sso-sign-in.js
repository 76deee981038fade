// Single sign-on on the sign-in form: the "Sign in with single sign-on" button (it sends the browser to
// the tenant's issuer through GET v1/auth/sso/start) and the return from it: the app sends the browser
// back to the console with #sso=CODE (a one-time code, redeemed here for a session; the session token
// itself never travels in a URL) or #sso_error=REASON.
import {ApiError} from "./api.js";
import {el} from "./dom.js";
import {rememberTenant} from "./console-session.js";

const TEXT = {
  button: "Sign in with single sign-on",
  needTenant: "Enter your workspace (tenant id) first.",
  failed: "Single sign-on failed.",
  reasons: {
    not_configured: "This workspace has no single sign-on. Sign in with your password.",
    state_unknown: "That sign-in link was already used or has expired. Please try again.",
    browser_mismatch: "That sign-in was started in another browser. Please start it again here.",
    issuer_refused: "The identity provider did not sign you in.",
    issuer_unavailable: "The identity provider could not be reached. Please try again later.",
    token_endpoint_error: "The identity provider refused to complete the sign-in.",
    bad_signature: "The identity provider's answer was not signed by its keys.",
    wrong_audience: "The identity provider's answer was meant for another application.",
    wrong_issuer: "The answer came from another identity provider.",
    token_expired: "The identity provider's answer had expired. Please try again.",
    nonce_mismatch: "The identity provider's answer did not belong to this sign-in. Please try again.",
    email_missing: "The identity provider did not tell us your email address.",
    email_unverified: "Your email address is not verified at the identity provider.",
    no_such_agent: "No one in this workspace has your email address. Ask an admin to add you.",
    agent_inactive: "Your account in this workspace is deactivated.",
    invalid_token: "The identity provider's answer could not be read.",
    invalid_request: "The identity provider's answer was incomplete.",
    rate_limited: "Too many sign-in attempts. Please wait a minute.",
    unavailable: "Single sign-on is unavailable right now. Please try again later.",
  },
};

// The button for the sign-in form: tenant and email are its inputs; errors go to `error`.
export function ssoButton(tenant, email, error) {
  return el("button", {type: "button", id: "sign-in-sso", onclick: () => {
    const tenantId = tenant.value.trim();
    if (!tenantId) {
      error.textContent = TEXT.needTenant;
      tenant.focus();
      return;
    }
    rememberTenant(tenantId);
    const start = new URL("v1/auth/sso/start", document.baseURI);
    start.searchParams.set("tenant_id", tenantId);
    if (email.value.trim() && email.checkValidity()) start.searchParams.set("email", email.value.trim());
    window.location.assign(start);
  }}, TEXT.button);
}

// The return from the issuer, if this page load is one: null if not; else a promise of the session
// ({token, expires_at, agent, ws_url}), rejected with the message the sign-in form shows.
export function ssoReturn() {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const code = fragment.get("sso");
  const reason = fragment.get("sso_error");
  if (code === null && reason === null) return null;
  history.replaceState(null, "", window.location.pathname + window.location.search);  // the code is used once
  if (reason !== null) return Promise.reject(new Error(TEXT.reasons[reason] || TEXT.failed));
  return redeem(code);
}

async function redeem(code) {
  const response = await fetch(new URL("v1/auth/sso/redeem", document.baseURI), {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({code})});
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError((data.error || {}).message || TEXT.failed, response.status);
  return {token: data.token, expires_at: data.expires_at, agent: data.agent, ws_url: data.ws_url};
}
