// The admin's "Single sign-on" tab: register, change or remove the workspace's OpenID Connect issuer
// (issuer URL, client id, client secret, SSO-only), with the redirect URI to register at the issuer.
// The secret is write-only: the server never sends it back.
import {ApiError} from "./api.js";
import {el, replace} from "./dom.js";

const TEXT = {
  title: "Single sign-on",
  intro: "Staff sign in with your identity provider (Google Workspace, Microsoft Entra or any OpenID Connect "
    + "issuer) and are matched to their agent by verified email.",
  redirect: "Redirect URI to register at your identity provider:",
  issuer: "Issuer URL",
  clientId: "Client id",
  secret: "Client secret",
  secretKept: "Leave empty to keep the secret registered",
  ssoOnly: "SSO only: staff other than admins cannot sign in with a password (admins keep theirs, in case "
    + "the identity provider fails)",
  save: "Save",
  remove: "Remove single sign-on",
  saved: "Saved. The issuer's discovery document was checked.",
  removed: "Single sign-on removed: everyone signs in with a password.",
  notRegistered: "Not set up yet.",
};

export class SsoSettings {
  // notify(message): shows a failure in the console's toast.
  constructor(api, notify) {
    this.api = api;
    this.notify = notify;
  }

  async draw(main) {
    let current = null;
    try {
      current = await this.api.get("v1/sso");
    } catch (failure) {
      if (!(failure instanceof ApiError && failure.status === 404)) this.notify(failure.message);
    }
    const issuer = el("input", {id: "sso-issuer", type: "url", required: true, value: current ? current.issuer : "",
                                placeholder: "https://accounts.google.com"});
    const clientId = el("input", {id: "sso-client-id", required: true, value: current ? current.client_id : ""});
    const secret = el("input", {id: "sso-client-secret", type: "password", autocomplete: "off",
                                required: !current, placeholder: current ? TEXT.secretKept : ""});
    const ssoOnly = el("input", {id: "sso-only", type: "checkbox", checked: Boolean(current && current.sso_only)});
    const status = el("p", {id: "sso-status", role: "status"}, current ? "" : TEXT.notRegistered);
    const redirectUri = current ? current.redirect_uri : new URL("v1/auth/sso/callback", document.baseURI).href;
    const save = async (event) => {
      event.preventDefault();
      const body = {issuer: issuer.value.trim(), client_id: clientId.value.trim(), sso_only: ssoOnly.checked};
      if (secret.value) body.client_secret = secret.value;
      try {
        await this.api.call("PUT", "v1/sso", {body});
        await this.draw(main);
        main.querySelector("#sso-status").textContent = TEXT.saved;
      } catch (failure) {
        status.textContent = failure.message;
        status.classList.add("error");
      }
    };
    const remove = async () => {
      try {
        await this.api.call("DELETE", "v1/sso");
        await this.draw(main);
        main.querySelector("#sso-status").textContent = TEXT.removed;
      } catch (failure) {
        this.notify(failure.message);
      }
    };
    replace(main, el("div", {class: "panel"},
      el("h2", {}, TEXT.title),
      el("p", {class: "muted"}, TEXT.intro),
      el("p", {}, TEXT.redirect, " ", el("code", {id: "sso-redirect-uri"}, redirectUri)),
      el("form", {id: "sso-form", class: "settings-form", onsubmit: save},
        el("label", {for: "sso-issuer"}, TEXT.issuer), issuer,
        el("label", {for: "sso-client-id"}, TEXT.clientId), clientId,
        el("label", {for: "sso-client-secret"}, TEXT.secret), secret,
        el("label", {class: "check"}, ssoOnly, " ", TEXT.ssoOnly),
        el("div", {class: "actions"},
          el("button", {type: "submit", id: "sso-save"}, TEXT.save),
          current ? el("button", {type: "button", id: "sso-remove", onclick: remove}, TEXT.remove) : null)),
      status));
  }
}
