// The Security tab (admins): whether the workspace requires two-factor sign-in of its staff, and
// each agent's two-factor status, with a reset for an agent who lost their phone and codes (that
// ends every session of theirs; they set it up again at their next sign-in if it is required).
import {append, el, replace} from "./dom.js";
import {t} from "./i18n.js";
import {roleName} from "./console-roles.js";

const STATUS = {active: () => t("console-security.status_active"), pending: () => t("console-security.status_pending"),
                none: () => t("console-security.status_none")};

export class Security {
  // me: the signed-in admin; notify(message or failure): shows a failure in the console's toast.
  constructor(api, me, notify) {
    Object.assign(this, {api, me, notify});
  }

  async draw(main) {
    this.required = el("input", {id: "require-2fa", type: "checkbox", onchange: () => this.setRequired()});
    this.saved = el("span", {id: "require-2fa-saved", class: "muted", role: "status"});
    this.rows = el("tbody", {id: "two-factor-agents"});
    const headers = [t("console-security.name"), t("console-security.email"), t("console-security.role"),
                     t("console-security.two_factor"), t("console-security.codes_left"), t("console-security.actions")];
    replace(main, el("div", {class: "panel", id: "security"},
      el("h2", {}, t("console-security.title")),
      el("label", {class: "check"}, this.required, t("console-security.require")), this.saved,
      el("p", {class: "muted"}, t("console-security.require_help")),
      el("h3", {id: "two-factor-agents-title"}, t("console-security.agents")),
      el("table", {id: "two-factor-table", "aria-labelledby": "two-factor-agents-title"},
         el("thead", {}, el("tr", {}, headers.map((h) => el("th", {scope: "col"}, h)))), this.rows)));
    try {
      this.required.checked = (await this.api.get("v1/settings")).totp_required;
      await this.listAgents();
    } catch (failure) {
      this.notify(failure);
    }
  }

  async setRequired() {
    try {
      const settings = await this.api.put("v1/settings", {totp_required: this.required.checked});
      this.required.checked = settings.totp_required;
      this.saved.textContent = t("console-common.saved");
    } catch (failure) {
      this.required.checked = !this.required.checked;
      this.notify(failure);
    }
  }

  async listAgents() {
    const [agents, enrolments] = await Promise.all([this.api.all("v1/agents"),
                                                    this.api.all("v1/two-factor/enrolments")]);
    const byAgent = new Map(enrolments.map((e) => [e.agent_id, e]));
    replace(this.rows);
    append(this.rows, agents.filter((agent) => agent.active).map((agent) => {
      const enrolment = byAgent.get(agent.agent_id) || {status: "none"};
      const canReset = enrolment.status !== "none" && agent.agent_id !== this.me.agent_id;
      return el("tr", {"data-agent": agent.agent_id},
        el("td", {translate: "no"}, agent.name), el("td", {translate: "no"}, agent.email),
        el("td", {}, roleName(agent.role)),
        el("td", {class: "two-factor-status"}, STATUS[enrolment.status]()),
        el("td", {}, enrolment.recovery_codes_left ?? ""),
        el("td", {}, canReset ? el("button", {type: "button", class: "reset-2fa", onclick: () => this.reset(agent)},
                                   t("console-security.reset")) : null));
    }));
  }

  async reset(agent) {
    if (!window.confirm(t("console-security.confirm_reset", {name: agent.name}))) return;
    try {
      await this.api.delete(`v1/agents/${encodeURIComponent(agent.agent_id)}/totp`);
      await this.listAgents();
    } catch (failure) {
      this.notify(failure);
    }
  }
}
