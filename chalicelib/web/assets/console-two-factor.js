// Two-factor sign-in in the console: the second step of signing in (a code from the authenticator
// app, or a recovery code; optionally remembering this browser), and the enrolment flow the Account
// tab and a forced enrolment both use (QR code and secret, a first code, the recovery codes once).
// A remembered device's token is kept in localStorage per workspace and email, and sent at sign-in.
import {login} from "./api.js";
import {append, el, replace} from "./dom.js";

const TEXT = {
  secondStepTitle: "Two-factor sign-in",
  codeLabel: "Enter the 6-digit code from your authenticator app",
  recoveryLabel: "Enter one of your recovery codes",
  useRecovery: "Use a recovery code instead",
  useCode: "Use a code from your app instead",
  remember: (days) => `Remember this device for ${days} days`,
  verify: "Verify",
  back: "Back",
  scan: "Scan this QR code with an authenticator app (Google Authenticator, 1Password, Authy…), "
        + "or enter the key by hand:",
  qrAlt: "QR code for your authenticator app",
  confirmLabel: "Then enter the 6-digit code it shows",
  confirm: "Turn on two-factor",
  recoveryTitle: "Your recovery codes",
  recoveryHelp: "Each code signs you in once if you lose your phone. Keep them somewhere safe: "
                + "they are shown only now.",
  copy: "Copy",
  copied: "Copied.",
  download: "Download",
  done: "I have saved them",
  starting: "Preparing…",
};
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
  const label = el("label", {for: "totp-code", id: "second-factor-label"}, TEXT.codeLabel);
  const remember = el("input", {id: "remember-device", type: "checkbox"});
  const error = el("p", {id: "second-factor-error", class: "error", role: "alert"});
  const toggle = el("button", {type: "button", id: "use-recovery", class: "link", onclick: () => {
    recovery = !recovery;
    code.hidden = recovery;
    code.required = !recovery;
    recoveryCode.hidden = !recovery;
    recoveryCode.required = recovery;
    label.textContent = recovery ? TEXT.recoveryLabel : TEXT.codeLabel;
    label.setAttribute("for", recovery ? "recovery-code" : "totp-code");
    toggle.textContent = recovery ? TEXT.useCode : TEXT.useRecovery;
    (recovery ? recoveryCode : code).focus();
  }}, TEXT.useRecovery);
  const form = el("form", {id: "second-factor", class: "card login", onsubmit: async (event) => {
    event.preventDefault();
    const proof = recovery ? {recovery_code: recoveryCode.value.trim()} : {totp_code: digits(code.value)};
    try {
      const answer = await login({...credentials, ...proof, remember_device: remember.checked});
      if (answer.device_token) rememberDevice(credentials.tenant_id, credentials.email, answer.device_token);
      onAnswer(answer);
    } catch (failure) {
      error.textContent = failure.message;
      code.value = "";
      (recovery ? recoveryCode : code).focus();
    }
  }},
    el("h1", {}, TEXT.secondStepTitle),
    label, code, recoveryCode, toggle,
    rememberDays > 0 ? el("label", {class: "check"}, remember, TEXT.remember(rememberDays)) : null,
    el("button", {type: "submit", id: "verify"}, TEXT.verify),
    el("button", {type: "button", id: "second-factor-back", class: "link", onclick: onBack}, TEXT.back),
    error);
  replace(root, form);
  code.focus();
}

// Enrolment: start it, show the QR code and the key, confirm with a first code, then show the
// recovery codes once. onDone(): after the agent says they saved the codes.
export async function enrol(api, container, onDone) {
  replace(container, el("p", {class: "muted"}, TEXT.starting));
  let started;
  try {
    started = await api.post("v1/auth/totp");
  } catch (failure) {
    replace(container, el("p", {class: "error", role: "alert"}, failure.message));
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
      error.textContent = failure.message;
      code.value = "";
      code.focus();
    }
  }},
    el("p", {}, TEXT.scan),
    el("img", {id: "totp-qr", class: "qr", alt: TEXT.qrAlt, width: 200, height: 200,
               src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(started.qr_svg)}`}),
    el("code", {id: "totp-secret", class: "secret"}, started.secret.replace(/(.{4})(?=.)/g, "$1 ")),
    el("label", {for: "totp-confirm-code"}, TEXT.confirmLabel), code,
    el("button", {type: "submit", id: "totp-confirm"}, TEXT.confirm), error);
  replace(container, form);
  code.focus();
}

// The recovery codes, shown once: copy, download, and "I have saved them" (onDone).
export function showRecoveryCodes(container, codes, onDone) {
  const status = el("span", {class: "muted", role: "status"});
  const text = `${codes.join("\n")}\n`;
  const copy = async () => {
    await navigator.clipboard.writeText(text);
    status.textContent = TEXT.copied;
  };
  const download = () => {
    const link = el("a", {href: URL.createObjectURL(new Blob([text], {type: "text/plain"})),
                          download: "switchboard-recovery-codes.txt"});
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  };
  replace(container, el("div", {id: "recovery", class: "enrol"},
    el("h3", {}, TEXT.recoveryTitle), el("p", {}, TEXT.recoveryHelp),
    append(el("ol", {id: "recovery-codes", class: "recovery-codes"}), codes.map((c) => el("li", {}, el("code", {}, c)))),
    el("div", {class: "toolbar"},
       el("button", {type: "button", id: "recovery-copy", onclick: copy}, TEXT.copy),
       el("button", {type: "button", id: "recovery-download", onclick: download}, TEXT.download),
       el("button", {type: "button", id: "recovery-done", onclick: onDone}, TEXT.done), status)));
  container.querySelector("#recovery-done").focus();
}
