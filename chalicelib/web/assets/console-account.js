// The Account tab (every staff role): who is signed in; their own language (PATCH /v1/me); and their
// two-factor sign-in: its status, setting it up (console-two-factor.js), new recovery codes for a
// current code, and turning it off with a current code or the password.
import {errorParts} from "./api.js";
import {el, replace} from "./dom.js";
import {format, t} from "./i18n.js";
import {languagePicker} from "./console-language.js";
import {roleName} from "./console-roles.js";
import {CODE_INPUT, enrol, showRecoveryCodes} from "./console-two-factor.js";

export class Account {
  // me: the signed-in agent; notify(message or failure): shows a failure in the console's toast;
  // onLanguage(agent): the agent's language changed (the answer's agent).
  constructor(api, me, notify, onLanguage) {
    Object.assign(this, {api, me, notify, onLanguage});
  }

  async draw(main) {
    this.box = el("section", {id: "two-factor", class: "account-section"});
    replace(main, el("div", {class: "panel", id: "account"},
      el("h2", {}, t("console-account.title")),
      el("p", {id: "account-who"}, el("span", {translate: "no"}, this.me.name), " · ",
         el("span", {translate: "no"}, this.me.email), " · ", roleName(this.me.role)),
      el("h3", {}, t("console-account.language")),
      el("section", {class: "account-section", id: "account-language"},
         ...languagePicker("account-locale", this.me.locale, (tag) => this.setLanguage(tag), true),
         el("p", {class: "muted"}, t("console-account.language_help"))),
      el("h3", {}, t("console-account.two_factor")), this.box));
    await this.showStatus();
  }

  async setLanguage(tag) {
    try {
      const answer = await this.api.patch("v1/me", {locale: tag});
      await this.onLanguage(answer.agent);
    } catch (failure) {
      this.notify(failure);
    }
  }

  async showStatus() {
    let status;
    try {
      status = await this.api.get("v1/auth/totp");
    } catch (failure) {
      this.notify(failure);
      return;
    }
    const on = status.status === "active";
    const text = on
      ? t("console-account.on", {date: format.date(status.confirmed_at), count: status.recovery_codes_left})
      : t(status.status === "pending" ? "console-account.pending" : "console-account.off");
    const actions = on
      ? [el("button", {type: "button", id: "totp-new-codes", onclick: () => this.askForNewCodes()},
            t("console-account.new_codes")),
         status.required ? null : el("button", {type: "button", id: "totp-off", onclick: () => this.askToTurnOff()},
                                     t("console-account.turn_off"))]
      : [el("button", {type: "button", id: "totp-set-up", onclick: () => this.setUp()}, t("console-account.set_up"))];
    replace(this.box,
      el("p", {id: "totp-status", "data-status": status.status}, text),
      status.required ? el("p", {class: "muted"}, t("console-account.required")) : null,
      el("div", {class: "toolbar"}, actions));
  }

  setUp() {
    const flow = el("div", {id: "totp-enrol"});
    replace(this.box, flow);
    enrol(this.api, flow, () => this.showStatus());
  }

  askForNewCodes() {
    const code = el("input", {id: "totp-new-codes-code", ...CODE_INPUT});
    const error = el("p", {class: "error", role: "alert"});
    replace(this.box, el("form", {id: "totp-new-codes-form", class: "enrol", onsubmit: async (event) => {
      event.preventDefault();
      try {
        const {recovery_codes: codes} = await this.api.post("v1/auth/totp/recovery-codes",
                                                            {totp_code: code.value.replace(/\D/g, "")});
        showRecoveryCodes(this.box, codes, () => this.showStatus());
      } catch (failure) {
        replace(error, ...errorParts(failure));
      }
    }},
      el("label", {for: "totp-new-codes-code"}, t("console-account.new_codes_label")), code,
      el("div", {class: "toolbar"},
         el("button", {type: "submit", id: "totp-new-codes-confirm"}, t("console-account.new_codes_confirm")),
         el("button", {type: "button", onclick: () => this.showStatus()}, t("console-common.cancel"))),
      error));
    code.focus();
  }

  askToTurnOff() {
    const code = el("input", {id: "totp-off-code", inputmode: "numeric", pattern: "[0-9]{6}", maxlength: 6,
                              autocomplete: "one-time-code"});
    const password = el("input", {id: "totp-off-password", type: "password", autocomplete: "current-password"});
    const error = el("p", {class: "error", role: "alert"});
    replace(this.box, el("form", {id: "totp-off-form", class: "enrol", onsubmit: async (event) => {
      event.preventDefault();
      const proof = code.value.trim() ? {totp_code: code.value.replace(/\D/g, "")} : {password: password.value};
      try {
        await this.api.delete("v1/auth/totp", proof);
        await this.showStatus();
      } catch (failure) {
        replace(error, ...errorParts(failure));
      }
    }},
      el("label", {for: "totp-off-code"}, t("console-account.code_label")), code,
      el("label", {for: "totp-off-password"}, t("console-account.password_label")), password,
      el("div", {class: "toolbar"},
         el("button", {type: "submit", id: "totp-off-confirm"}, t("console-account.confirm_off")),
         el("button", {type: "button", onclick: () => this.showStatus()}, t("console-common.cancel"))),
      error));
    code.focus();
  }
}
