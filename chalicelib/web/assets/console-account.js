// The Account tab (every staff role): who is signed in, and their two-factor sign-in: its status,
// setting it up (console-two-factor.js), new recovery codes for a current code, and turning it off
// with a current code or the password.
import {el, replace} from "./dom.js";
import {CODE_INPUT, enrol, showRecoveryCodes} from "./console-two-factor.js";

const TEXT = {
  title: "Account",
  twoFactor: "Two-factor sign-in",
  on: (since, left) => `On since ${new Date(since).toLocaleDateString()}. ${left} recovery codes left.`,
  off: "Off: your password alone signs you in.",
  pending: "Set-up was started but not finished.",
  required: "Your organisation requires two-factor sign-in.",
  setUp: "Set up two-factor",
  turnOff: "Turn off",
  codeLabel: "Current code from your app",
  passwordLabel: "Or your password",
  confirmOff: "Turn off two-factor",
  newCodes: "New recovery codes",
  newCodesLabel: "Current code from your app (your unused recovery codes stop working)",
  newCodesConfirm: "Show new codes",
  cancel: "Cancel",
};

export class Account {
  // me: the signed-in agent; notify(message): shows a failure in the console's toast.
  constructor(api, me, notify) {
    Object.assign(this, {api, me, notify});
  }

  async draw(main) {
    this.box = el("section", {id: "two-factor", class: "account-section"});
    replace(main, el("div", {class: "panel"},
      el("h2", {}, TEXT.title),
      el("p", {id: "account-who"}, `${this.me.name} · ${this.me.email} · ${this.me.role}`),
      el("h3", {}, TEXT.twoFactor), this.box));
    await this.showStatus();
  }

  async showStatus() {
    let status;
    try {
      status = await this.api.get("v1/auth/totp");
    } catch (failure) {
      this.notify(failure.message);
      return;
    }
    const on = status.status === "active";
    const text = on ? TEXT.on(status.confirmed_at, status.recovery_codes_left)
      : status.status === "pending" ? TEXT.pending : TEXT.off;
    const actions = on
      ? [el("button", {type: "button", id: "totp-new-codes", onclick: () => this.askForNewCodes()}, TEXT.newCodes),
         status.required ? null : el("button", {type: "button", id: "totp-off", onclick: () => this.askToTurnOff()},
                                     TEXT.turnOff)]
      : [el("button", {type: "button", id: "totp-set-up", onclick: () => this.setUp()}, TEXT.setUp)];
    replace(this.box,
      el("p", {id: "totp-status", "data-status": status.status}, text),
      status.required ? el("p", {class: "muted"}, TEXT.required) : null, el("div", {class: "toolbar"}, actions));
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
        error.textContent = failure.message;
      }
    }},
      el("label", {for: "totp-new-codes-code"}, TEXT.newCodesLabel), code,
      el("div", {class: "toolbar"},
         el("button", {type: "submit", id: "totp-new-codes-confirm"}, TEXT.newCodesConfirm),
         el("button", {type: "button", onclick: () => this.showStatus()}, TEXT.cancel)),
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
        error.textContent = failure.message;
      }
    }},
      el("label", {for: "totp-off-code"}, TEXT.codeLabel), code,
      el("label", {for: "totp-off-password"}, TEXT.passwordLabel), password,
      el("div", {class: "toolbar"},
         el("button", {type: "submit", id: "totp-off-confirm"}, TEXT.confirmOff),
         el("button", {type: "button", onclick: () => this.showStatus()}, TEXT.cancel)),
      error));
    code.focus();
  }
}
