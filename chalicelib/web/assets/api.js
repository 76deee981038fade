// The console's REST client: the token goes in the Authorization header, never in a URL.
// Paths are relative ("v1/..."), so the console works wherever the app is mounted (/app locally,
// /api/app behind an API Gateway stage).
//
// The server writes its error messages in English (the contract's "human sentence"). An English
// console shows them as they are, the most precise; in another language an ApiError's message is the
// catalog's text for its code (console-errors), and a code we do not know keeps the server's message
// inside a translated frame (errorParts() marks that message translate="no" where it is shown).
import {tData} from "./console-text.js";
import {locale, t} from "./i18n.js";

const SERVER_LOCALE = "en";
// The error codes the server answers with (chalicelib/errors.py and the raise sites), as this console says them.
const ERRORS = {
  unauthorized: () => t("console-errors.unauthorized"),
  forbidden: () => t("console-errors.forbidden"),
  not_found: () => t("console-errors.not_found"),
  conflict: () => t("console-errors.conflict"),
  gone: () => t("console-errors.gone"),
  payload_too_large: () => t("console-errors.payload_too_large"),
  rate_limited: () => t("console-errors.rate_limited"),
  unsupported_media_type: () => t("console-errors.unsupported_media_type"),
  method_not_allowed: () => t("console-errors.method_not_allowed"),
  internal_error: () => t("console-errors.internal_error"),
  unavailable: () => t("console-errors.unavailable"),
  login_failed: () => t("console-errors.login_failed"),
  sso_required: () => t("console-errors.sso_required"),
  session_revoked: () => t("console-errors.session_revoked"),
  too_many_connections: () => t("console-errors.too_many_connections"),
  totp_required: () => t("console-errors.totp_required"),
  totp_invalid: () => t("console-errors.totp_invalid"),
  totp_not_enrolled: () => t("console-errors.totp_not_enrolled"),
  totp_already_enrolled: () => t("console-errors.totp_already_enrolled"),
  totp_required_by_tenant: () => t("console-errors.totp_required_by_tenant"),
  totp_not_started: () => t("console-errors.totp_not_started"),
  totp_enrolment_required: () => t("console-errors.totp_enrolment_required"),
  self_change: () => t("console-errors.self_change"),
  email_taken: () => t("console-errors.email_taken"),
  key_limit_reached: () => t("console-errors.key_limit_reached"),
  rotation_conflict: () => t("console-errors.rotation_conflict"),
  conversation_closed: () => t("console-errors.conversation_closed"),
  not_assigned: () => t("console-errors.not_assigned"),
  agent_unavailable: () => t("console-errors.agent_unavailable"),
  transcript_too_large: () => t("console-errors.transcript_too_large"),
  report_too_large: () => t("console-errors.report_too_large"),
  labels_changed: () => t("console-errors.labels_changed"),
  conversation_shredded: () => t("console-errors.conversation_shredded"),
  too_many_notes: () => t("console-errors.too_many_notes"),
  limit_reached: () => t("console-errors.limit_reached"),
  shortcut_taken: () => t("console-errors.shortcut_taken"),
  already_answered: () => t("console-errors.already_answered"),
  already_closed: () => t("console-errors.already_closed"),
  survey_expired: () => t("console-errors.survey_expired"),
  visitor_erased: () => t("console-errors.visitor_erased"),
  identity_not_verified: () => t("console-errors.identity_not_verified"),
  export_not_ready: () => t("console-errors.export_not_ready"),
  access_export_expired: () => t("console-errors.access_export_expired"),
  widget_busy: () => t("console-errors.widget_busy"),
  origin_not_allowed: () => t("console-errors.origin_not_allowed"),
  attachment_too_large: () => t("console-errors.attachment_too_large"),
  attachment_not_ready: () => t("console-errors.attachment_not_ready"),
  attachment_rejected: () => t("console-errors.attachment_rejected"),
  attachment_not_found: () => t("console-errors.attachment_not_found"),
  too_many_attachments: () => t("console-errors.too_many_attachments"),
  range_not_satisfiable: () => t("console-errors.range_not_satisfiable"),
};
// The frame around a server message shown as it is: for the codes whose message names the field or the
// part at fault, and for any code this console does not know ({message} is the server's words).
const FRAMES = {bad_request: "console-errors.bad_request", invalid_input: "console-errors.invalid_input"};
const frameOf = (code) => FRAMES[code] || "console-errors.framed";

export class ApiError extends Error {
  // error: the answer's {code, message, details} (any part may be missing); fallback: the text when
  // neither says anything we can show. `server`: the server's message, where it is shown in a frame.
  constructor(status, error = {}, fallback = "") {
    const {code, message: said, details} = error;
    let message = fallback;
    let server = null;
    if (said && locale() === SERVER_LOCALE) message = said;
    else if (ERRORS[code]) message = ERRORS[code]();
    else if (said) [message, server] = [t(frameOf(code), {message: said}), said];
    super(message);
    Object.assign(this, {status, code, details, server});
  }

  // The message as page content, the server's own words in translate="no".
  parts() {
    return this.server ? tData(frameOf(this.code), {message: this.server}) : [this.message];
  }
}

// What to show for a failure (an ApiError, or any other Error), as page content.
export function errorParts(failure) {
  return failure instanceof ApiError ? failure.parts() : [failure.message];
}

// The error code's own text, for messages that carry one outside a REST answer (a WebSocket `error` frame).
export function errorText(code, message) {
  return new ApiError(0, {code, message}).message;
}

export class Api {
  // token: () => the current token; onUnauthorized: called once a token is refused.
  constructor(token, onUnauthorized) {
    Object.assign(this, {token, onUnauthorized});
  }

  url(path, query = {}) {
    const url = new URL(path, document.baseURI);
    for (const [name, value] of Object.entries(query)) {
      if (value !== null && value !== undefined && value !== "") url.searchParams.set(name, value);
    }
    return url;
  }

  async call(method, path, {body, query} = {}) {
    const headers = {Authorization: `Bearer ${this.token()}`};  // not UI text
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(this.url(path, query), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
    if (response.status === 401) this.onUnauthorized();
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      throw new ApiError(response.status, (data && data.error) || {},
                         t("console-common.request_failed", {status: response.status}));
    }
    return data;
  }

  // A binary download, as a Blob.
  async blob(path, accept) {
    const headers = {Authorization: `Bearer ${this.token()}`, Accept: accept};  // not UI text
    const response = await fetch(this.url(path), {headers});
    if (response.status === 401) this.onUnauthorized();
    if (!response.ok) {
      const error = ((await response.json().catch(() => null)) || {}).error || {};
      throw new ApiError(response.status, error, t("console-errors.download_failed", {status: response.status}));
    }
    return response.blob();
  }

  get(path, query) { return this.call("GET", path, {query}); }
  post(path, body) { return this.call("POST", path, {body}); }
  patch(path, body) { return this.call("PATCH", path, {body}); }
  put(path, body) { return this.call("PUT", path, {body}); }
  delete(path, body) { return this.call("DELETE", path, {body}); }

  // Every page of a listing that answers {items, next_cursor}, up to a bound.
  async all(path, query = {}, maxPages = 10) {
    const items = [];
    let cursor = null;
    for (let page = 0; page < maxPages; page += 1) {
      const answer = await this.get(path, {...query, cursor});
      items.push(...answer.items);
      cursor = answer.next_cursor;
      if (!cursor) break;
    }
    return items;
  }
}

// Logging in is the one call without a token. fields: {tenant_id, email, password} and, for
// two-factor, totp_code, recovery_code, remember_device or device_token. A refusal keeps its code
// (`totp_required`: the password was right and a second factor is due; its details say
// `remember_device_days`); a plain 401 here means a wrong part of the credentials, not an ended session.
export async function login(fields) {
  const response = await fetch(new URL("v1/auth/login", document.baseURI), {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(fields)});
  const data = await response.json().catch(() => ({}));
  const error = data.error || {};
  if (!response.ok) {
    const wrong = error.code === "unauthorized";
    throw new ApiError(response.status, wrong ? {...error, code: "login_failed"} : error,
                       t("console-common.request_failed", {status: response.status}));
  }
  return data;
}
