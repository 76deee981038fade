// Two-factor sign-in in the console: the second step of signing in (a code from the authenticator
// app, or a recovery code; optionally remembering this browser), and the enrolment flow the Account
// tab and a forced enrolment both use (QR code and secret, a first code, the recovery codes once).
// A remembered device's token is kept in localStorage per workspace and email, and sent at sign-in.
import {errorParts, login} from "./api.js";
import {tData} from "./console-text.js";
import {append, el, replace} from "./dom.js";
import {t} from "./i18n.js";

// The apps the enrolment names: products, shown as they are in every language.
const APPS = "Google Authenticator, 1Password, Authy…";  // not UI text
const DEVICE = "switchboard.console.device";
export const CODE_INPUT = {inputmode: "numeric", pattern: "[0-9]{6}", maxlength: 6, autocomplete: "one-time-code",
                    required: true};

function deviceKey(tenantId, email) {
  return `${DEVICE}.${tenantId}.${email.toLowerCase()}`;
}

export function rememberedDevice(tenantId, email) {
  return localStorage.getItem(deviceKey(tenantId, email)) || undefined;
}

export function forgetDevice(tenantId, email) {
  localStorage.removeItem(deviceKey(tenantId, email));
}

function rememberDevice(tenantId, email, token) {
  localStorage.setItem(deviceKey(tenantId, email), token);
}

function digits(value) {
  return value.replace(/\D/g, "");
}

// The second step, once the password was right. credentials: {tenant_id, email, password};
// rememberDays: how long the tenant remembers a device (0: never, and no box to tick);
// onAnswer(answer): the login's answer; onBack(): the first step again.
export function showSecondStep(root, credentials, rememberDays, onAnswer, onBack) {
  let recovery = false;
  const code = el("input", {id: "totp-code", name: "totp-code", ...CODE_INPUT});
  const recoveryCode = el("input", {id: "recovery-code", name: "recovery-code", autocomplete: "off",
                                    spellcheck: "false", hidden: true});
  const label = el("label", {for: "totp-code", id: "second-factor-label"}, t("console-two-factor.code_label"));
  const remember = el("input", {id: "remember-device", type: "checkbox"});
  const error = el("p", {id: "second-factor-error", class: "error", role: "alert"});
  const toggle = el("button", {type: "button", id: "use-recovery", class: "link", onclick: () => {
    recovery = !recovery;
    code.hidden = recovery;
    code.required = !recovery;
    recoveryCode.hidden = !recovery;
    recoveryCode.required = recovery;
    label.textContent = t(recovery ? "console-two-factor.recovery_label" : "console-two-factor.code_label");
    label.setAttribute("for", recovery ? "recovery-code" : "totp-code");
    toggle.textContent = t(recovery ? "console-two-factor.use_code" : "console-two-factor.use_recovery");
    (recovery ? recoveryCode : code).focus();
  }}, t("console-two-factor.use_recovery"));
  const form = el("form", {id: "second-factor", class: "card login", onsubmit: async (event) => {
    event.preventDefault();
    const proof = recovery ? {recovery_code: recoveryCode.value.trim()} : {totp_code: digits(code.value)};
    try {
      const answer = await login({...credentials, ...proof, remember_device: remember.checked});
      if (answer.device_token) rememberDevice(credentials.tenant_id, credentials.email, answer.device_token);
      onAnswer(answer);
    } catch (failure) {
      replace(error, ...errorParts(failure));
      code.value = "";
      (recovery ? recoveryCode : code).focus();
    }
  }},
    el("h1", {}, t("console-two-factor.second_step_title")),
    label, code, recoveryCode, toggle,
    rememberDays > 0
      ? el("label", {class: "check"}, remember, t("console-two-factor.remember", {count: rememberDays})) : null,
    el("button", {type: "submit", id: "verify"}, t("console-two-factor.verify")),
    el("button", {type: "button", id: "second-factor-back", class: "link", onclick: onBack},
       t("console-two-factor.back")),
    error);
  replace(root, form);
  code.focus();
}

// Enrolment: start it, show the QR code and the key, confirm with a first code, then show the
// recovery codes once. onDone(): after the agent says they saved the codes.
export async function enrol(api, container, onDone) {
  replace(container, el("p", {class: "muted"}, t("console-two-factor.starting")));
  let started;
  try {
    started = await api.post("v1/auth/totp");
  } catch (failure) {
    replace(container, el("p", {class: "error", role: "alert"}, ...errorParts(failure)));
    return;
  }
  const code = el("input", {id: "totp-confirm-code", ...CODE_INPUT});
  const error = el("p", {id: "totp-confirm-error", class: "error", role: "alert"});
  const form = el("form", {id: "totp-confirm-form", class: "enrol", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const {recovery_codes: codes} = await api.post("v1/auth/totp/confirm", {code: digits(code.value)});
      showRecoveryCodes(container, codes, onDone);
    } catch (failure) {
      replace(error, ...errorParts(failure));
      code.value = "";
      code.focus();
    }
  }},
    el("p", {}, ...tData("console-two-factor.scan", {apps: APPS})),
    el("img", {id: "totp-qr", class: "qr", alt: t("console-two-factor.qr_alt"), width: 200, height: 200,
               src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(started.qr_svg)}`}),
    el("code", {id: "totp-secret", class: "secret", translate: "no"}, started.secret.replace(/(.{4})(?=.)/g, "$1 ")),
    el("label", {for: "totp-confirm-code"}, t("console-two-factor.confirm_label")), code,
    el("button", {type: "submit", id: "totp-confirm"}, t("console-two-factor.confirm")), error);
  replace(container, form);
  code.focus();
}

// The recovery codes, shown once: copy, download, and "I have saved them" (onDone).
export function showRecoveryCodes(container, codes, onDone) {
  const status = el("span", {class: "muted", role: "status"});
  const text = `${codes.join("\n")}\n`;
  const copy = async () => {
    await navigator.clipboard.writeText(text);
    status.textContent = t("console-common.copied");
  };
  const download = () => {
    const link = el("a", {href: URL.createObjectURL(new Blob([text], {type: "text/plain"})),
                          download: "switchboard-recovery-codes.txt"});
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  };
  replace(container, el("div", {id: "recovery", class: "enrol"},
    el("h3", {}, t("console-two-factor.recovery_title")), el("p", {}, t("console-two-factor.recovery_help")),
    append(el("ol", {id: "recovery-codes", class: "recovery-codes", translate: "no",
                     "aria-label": t("console-two-factor.recovery_codes")}),
           codes.map((c) => el("li", {}, el("code", {}, c)))),
    el("div", {class: "toolbar"},
       el("button", {type: "button", id: "recovery-copy", onclick: copy}, t("console-common.copy")),
       el("button", {type: "button", id: "recovery-download", onclick: download}, t("console-common.download")),
       el("button", {type: "button", id: "recovery-done", onclick: onDone}, t("console-two-factor.done")), status)));
  container.querySelector("#recovery-done").focus();
}
