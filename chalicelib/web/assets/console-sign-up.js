// Creating a workspace in the browser (POST /v1/tenants), reached from the sign-in form's link or
// /app#sign-up: the business name, the admin's email and password (the server's rules checked before
// sending), then ONCE what the owner must keep: the workspace id (needed to sign in; this browser
// remembers it too) and the admin API key (shown once, only its hash is stored). Continuing signs the
// admin in (POST /v1/auth/login) and opens the console on Get started. The widget key is no secret:
// Get started shows it in the embed snippet, and keeps it from here for this tab.
import {ApiError, login} from "./api.js";
import {clearErrors, field, fieldError} from "./console-form.js";
import {rememberTenant, saveSession} from "./console-session.js";
import {rememberSignedUpWidgetKey} from "./console-start.js";
import {el, replace} from "./dom.js";
import {t} from "./i18n.js";

export const SIGN_UP_HASH = "#sign-up";  // not UI text
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// The server's rules (tenancy/schemas.py SignupIn): name 1-100 characters, password 8-256.
const NAME_MAX = 100;
const PASSWORD_MIN = 8;
const PASSWORD_MAX = 256;
// A 400's detail names the body's field; the form's control for it.
const CONTROL_OF = {name: "signup-name", admin_email: "signup-email", admin_password: "signup-password"};  // not UI text

// The link under the sign-in form that leads here.
export function signUpLink() {
  return el("p", {class: "sign-up-link"}, t("console-sign-up.no_workspace"), " ",
            el("a", {href: SIGN_UP_HASH, id: "sign-up-link"}, t("console-sign-up.create_link")));
}

// onSignedIn(session, firstTab): starts the console for the session just saved, on that tab.
export function showSignUp(root, onSignedIn) {
  const control = (props) => el("input", {required: true, ...props});
  const controls = {
    name: control({name: "name", maxlength: NAME_MAX, autocomplete: "organization"}),
    email: control({name: "email", type: "email", autocomplete: "email"}),
    password: control({name: "password", type: "password", minlength: PASSWORD_MIN, maxlength: PASSWORD_MAX,
                       autocomplete: "new-password"}),
    repeat: control({name: "repeat", type: "password", autocomplete: "new-password"}),
  };
  const error = el("p", {id: "signup-error", class: "error", role: "alert"});
  const submit = el("button", {type: "submit", id: "signup-submit"}, t("console-sign-up.submit"));
  const form = el("form", {id: "sign-up", class: "card login sign-up", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    clearErrors(form);
    error.textContent = "";
    const body = {name: controls.name.value.trim(), admin_email: controls.email.value.trim(),
                  admin_password: controls.password.value};
    const refused = check(body, controls.repeat.value);
    if (refused.length) {
      for (const [id, message] of refused) fieldError(form, id, message);
      form.querySelector(`#${refused[0][0]}`).focus();
      return;
    }
    submit.disabled = true;
    try {
      const answer = await createWorkspace(body);
      rememberTenant(answer.tenant_id);
      rememberSignedUpWidgetKey(answer.widget_key);
      showKeep(root, answer, body, onSignedIn);
    } catch (failure) {
      submit.disabled = false;
      refusal(form, error, failure);
    }
  }},
    el("h1", {}, t("console-sign-up.title")),
    el("p", {class: "muted"}, t("console-sign-up.intro")),
    field("signup-name", t("console-sign-up.business_name"), controls.name),
    field("signup-email", t("console-sign-up.admin_email"), controls.email, t("console-sign-up.admin_email_hint")),
    field("signup-password", t("console-sign-up.password"), controls.password,
          t("console-sign-up.password_hint", {min: PASSWORD_MIN})),
    field("signup-repeat", t("console-sign-up.repeat_password"), controls.repeat),
    submit, error,
    el("p", {class: "sign-up-link"}, t("console-sign-up.have_workspace"), " ",
       el("a", {href: "#", id: "sign-in-link"}, t("console-sign-up.sign_in_link"))));
  replace(root, form);
  document.title = t("console-sign-up.title");
  controls.name.focus();
}

// [control id, message] for each field the server would refuse, in the form's order.
function check(body, repeat) {
  const refused = [];
  if (!body.name) refused.push(["signup-name", t("console-sign-up.name_required")]);
  if (!EMAIL.test(body.admin_email)) refused.push(["signup-email", t("console-sign-up.email_invalid")]);
  if (body.admin_password.length < PASSWORD_MIN || body.admin_password.length > PASSWORD_MAX) {
    refused.push(["signup-password", t("console-sign-up.password_length", {min: PASSWORD_MIN, max: PASSWORD_MAX})]);
  } else if (repeat !== body.admin_password) {
    refused.push(["signup-repeat", t("console-sign-up.password_mismatch")]);
  }
  return refused;
}

// Signing up is public (no token): the answer, or an ApiError with the Retry-After of a 429 in its details.
async function createWorkspace(body) {
  const response = await fetch(new URL("v1/tenants", document.baseURI), {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  const data = await response.json().catch(() => ({}));
  if (response.ok) return data;
  const error = data.error || {};
  const details = response.status === 429 ? {retry_after: Number(response.headers.get("Retry-After")) || 60}
    : error.details;
  throw new ApiError(error.message || "", response.status, error.code, details);
}

// Why the server refused: by field (400), too many sign-ups from this network (429), or otherwise.
function refusal(form, error, failure) {
  if (failure.status === 429) {
    const minutes = Math.max(1, Math.ceil(failure.details.retry_after / 60));
    error.textContent = t("console-sign-up.rate_limited", {count: minutes});
    return;
  }
  const fields = failure.status === 400 && Array.isArray(failure.details) ? failure.details : [];
  const ids = fields.map((detail) => CONTROL_OF[String(detail.field || "").split(".")[0]]).filter(Boolean);
  for (const id of ids) fieldError(form, id, t("console-sign-up.field_refused"));
  if (ids.length) form.querySelector(`#${ids[0]}`).focus();
  error.textContent = ids.length ? t("console-sign-up.check_fields") : t("console-sign-up.failed");
}

// What to keep, shown this once; then signing in.
function showKeep(root, answer, body, onSignedIn) {
  const status = el("p", {id: "keep-status", class: "muted", role: "status"});
  const error = el("p", {id: "keep-error", class: "error", role: "alert"});
  const copy = (id, value) => el("button", {type: "button", id: `${id}-copy`, "aria-describedby": id, onclick: async () => {
    try {
      await navigator.clipboard.writeText(value);
      status.textContent = t("console-sign-up.copied");
    } catch (failure) {
      status.textContent = t("console-sign-up.copy_failed");
    }
  }}, t("console-sign-up.copy"));
  const download = el("button", {type: "button", id: "api-key-download", onclick: () => saveFile(answer)},
                      t("console-sign-up.download"));
  const open = el("button", {type: "submit", id: "keep-continue"}, t("console-sign-up.continue"));
  const panel = el("form", {id: "sign-up-keep", class: "card login sign-up", onsubmit: async (event) => {
    event.preventDefault();
    open.disabled = true;
    try {
      const session = sessionOf(await login({tenant_id: answer.tenant_id, email: body.admin_email,
                                              password: body.admin_password}));
      saveSession(session);
      history.replaceState(null, "", location.pathname + location.search);
      onSignedIn(session, "start");
    } catch (failure) {
      open.disabled = false;
      replace(error, t("console-sign-up.sign_in_failed"), " ",
              el("a", {href: "#", id: "keep-sign-in"}, t("console-sign-up.sign_in_link")));
    }
  }},
    el("h1", {tabindex: "-1", id: "keep-title"}, t("console-sign-up.created_title")),
    el("p", {}, t("console-sign-up.created_intro")),
    el("h2", {}, t("console-sign-up.workspace_id")),
    el("p", {class: "muted"}, t("console-sign-up.workspace_id_why")),
    el("div", {class: "keep-value"}, el("code", {id: "workspace-id", class: "secret", translate: "no"}, answer.tenant_id),
       copy("workspace-id", answer.tenant_id)),
    el("h2", {}, t("console-sign-up.api_key")),
    el("p", {class: "muted"}, t("console-sign-up.api_key_why")),
    el("p", {class: "warning"}, t("console-sign-up.api_key_once")),
    el("div", {class: "keep-value"}, el("code", {id: "api-key", class: "secret", translate: "no"}, answer.api_key),
       copy("api-key", answer.api_key), download),
    status, open, error);
  replace(root, panel);
  panel.querySelector("#keep-title").focus();
}

// What the console keeps of a login's answer (as the sign-in form does).
function sessionOf(answer) {
  return {token: answer.token, expires_at: answer.expires_at, agent: answer.agent, ws_url: answer.ws_url,
          totp_enrolment_required: answer.totp_enrolment_required};
}

// A text file with what to keep, in the owner's language (the values as they are).
function saveFile(answer) {
  const lines = [t("console-sign-up.file_heading"), "",
                 `${t("console-sign-up.workspace_id")}: ${answer.tenant_id}`,
                 `${t("console-sign-up.api_key")}: ${answer.api_key}`, "", t("console-sign-up.api_key_why")];
  const link = el("a", {href: URL.createObjectURL(new Blob([lines.join("\n") + "\n"], {type: "text/plain"})),
                        download: `switchboard-${answer.tenant_id}.txt`});  // not UI text
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(link.href);
}
