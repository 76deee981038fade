// The admin's "Single sign-on" tab: register, change or remove the workspace's OpenID Connect issuer
// (issuer URL, client id, client secret, SSO-only), with the redirect URI to register at the issuer.
// The secret is write-only: the server never sends it back.
import {ApiError, errorParts} from "./api.js";
import {tData} from "./console-text.js";
import {el, replace} from "./dom.js";
import {t} from "./i18n.js";

// The issuers the intro names: products, shown as they are in every language.
const PROVIDERS = "Google Workspace, Microsoft Entra";  // not UI text

export class SsoSettings {
  // notify(message or failure): shows a failure in the console's toast.
  constructor(api, notify) {
    this.api = api;
    this.notify = notify;
  }

  async draw(main) {
    let current = null;
    try {
      current = await this.api.get("v1/sso");
    } catch (failure) {
      if (!(failure instanceof ApiError && failure.status === 404)) this.notify(failure);
    }
    const issuer = el("input", {id: "sso-issuer", type: "url", required: true, value: current ? current.issuer : "",
                                translate: "no", placeholder: "https://accounts.google.com"});  // not UI text
    const clientId = el("input", {id: "sso-client-id", required: true, value: current ? current.client_id : ""});
    const secret = el("input", {id: "sso-client-secret", type: "password", autocomplete: "off",
                                required: !current, placeholder: current ? t("console-sso.secret_kept") : ""});
    const ssoOnly = el("input", {id: "sso-only", type: "checkbox", checked: Boolean(current && current.sso_only)});
    const status = el("p", {id: "sso-status", role: "status"}, current ? "" : t("console-sso.not_registered"));
    const redirectUri = current ? current.redirect_uri : new URL("v1/auth/sso/callback", document.baseURI).href;
    const save = async (event) => {
      event.preventDefault();
      const body = {issuer: issuer.value.trim(), client_id: clientId.value.trim(), sso_only: ssoOnly.checked};
      if (secret.value) body.client_secret = secret.value;
      try {
        await this.api.call("PUT", "v1/sso", {body});
        await this.draw(main);
        main.querySelector("#sso-status").textContent = t("console-sso.saved");
      } catch (failure) {
        replace(status, ...errorParts(failure));
        status.classList.add("error");
      }
    };
    const remove = async () => {
      try {
        await this.api.call("DELETE", "v1/sso");
        await this.draw(main);
        main.querySelector("#sso-status").textContent = t("console-sso.removed");
      } catch (failure) {
        this.notify(failure);
      }
    };
    replace(main, el("div", {class: "panel"},
      el("h2", {}, t("console-sso.title")),
      el("p", {class: "muted"}, ...tData("console-sso.intro", {providers: PROVIDERS})),
      el("p", {}, t("console-sso.redirect"), " ", el("code", {id: "sso-redirect-uri", translate: "no"}, redirectUri)),
      el("form", {id: "sso-form", class: "settings-form", onsubmit: save},
        el("label", {for: "sso-issuer"}, t("console-sso.issuer")), issuer,
        el("label", {for: "sso-client-id"}, t("console-sso.client_id")), clientId,
        el("label", {for: "sso-client-secret"}, t("console-sso.secret")), secret,
        el("label", {class: "check"}, ssoOnly, " ", t("console-sso.sso_only")),
        el("div", {class: "actions"},
          el("button", {type: "submit", id: "sso-save"}, t("console-common.save")),
          current ? el("button", {type: "button", id: "sso-remove", onclick: remove}, t("console-sso.remove")) : null)),
      status));
  }
}
