// The sign-in form: workspace (tenant id), email and password, then the second factor where the
// account has one (console-two-factor.js). A message says why it is shown again (signed out, the
// session ended or was revoked).
import {login} from "./api.js";
import {el, replace} from "./dom.js";
import {rememberTenant, rememberedTenant, saveSession} from "./console-session.js";
import {signUpLink} from "./console-sign-up.js";
import {ssoButton} from "./console-sso-sign-in.js";
import {TITLE} from "./console-title.js";
import {forgetDevice, rememberedDevice, showSecondStep} from "./console-two-factor.js";

// onSignedIn(session): starts the console for the session just saved.
export function showSignIn(root, message, onSignedIn) {
  document.title = TITLE;
  const tenant = el("input", {id: "tenant", name: "tenant", required: true, autocomplete: "organization",
                              value: rememberedTenant()});
  const email = el("input", {id: "email", name: "email", type: "email", required: true, autocomplete: "username"});
  const password = el("input", {id: "password", name: "password", type: "password", required: true,
                                autocomplete: "current-password"});
  const error = el("p", {id: "login-error", class: "error", role: "alert"}, message);
  const signedIn = (answer) => {
    rememberTenant(tenant.value.trim());
    const session = {token: answer.token, expires_at: answer.expires_at, agent: answer.agent, ws_url: answer.ws_url,
                     totp_enrolment_required: answer.totp_enrolment_required};
    saveSession(session);
    onSignedIn(session);
  };
  const form = el("form", {id: "login", class: "card login", onsubmit: async (event) => {
    event.preventDefault();
    const credentials = {tenant_id: tenant.value.trim(), email: email.value.trim(), password: password.value};
    const device = rememberedDevice(credentials.tenant_id, credentials.email);
    try {
      signedIn(await login(device ? {...credentials, device_token: device} : credentials));
    } catch (failure) {
      if (failure.code !== "totp_required") {
        error.textContent = failure.message;
        return;
      }
      if (device) forgetDevice(credentials.tenant_id, credentials.email);  // it no longer counts
      const rememberDays = (failure.details && failure.details.remember_device_days) || 0;
      showSecondStep(root, credentials, rememberDays, signedIn, () => showSignIn(root, "", onSignedIn));
    }
  }},
    el("h1", {}, "Switchboard"),
    el("label", {for: "tenant"}, "Workspace (tenant id)"), tenant,
    el("label", {for: "email"}, "Email"), email,
    el("label", {for: "password"}, "Password"), password,
    el("button", {type: "submit", id: "sign-in"}, "Sign in"), ssoButton(tenant, email, error), error,
    signUpLink());
  replace(root, form);
  (tenant.value ? email : tenant).focus();
}
