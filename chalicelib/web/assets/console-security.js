// The Security tab (admins): whether the workspace requires two-factor sign-in of its staff, and
// each agent's two-factor status, with a reset for an agent who lost their phone and codes (that
// ends every session of theirs; they set it up again at their next sign-in if it is required).
import {append, el, replace} from "./dom.js";

const TEXT = {
  title: "Security",
  require: "Require two-factor sign-in for all staff",
  requireHelp: "Staff without it are walked through setting it up at their next sign-in. API keys are unaffected.",
  agents: "Two-factor by agent",
  headers: ["Name", "Email", "Role", "Two-factor", "Recovery codes left", ""],
  status: {active: "On", pending: "Being set up", none: "Off"},
  reset: "Reset",
  confirmReset: (name) => `Reset ${name}'s two-factor sign-in? Every session of theirs ends now.`,
  saved: "Saved.",
};

export class Security {
  // me: the signed-in admin; notify(message): shows a failure in the console's toast.
  constructor(api, me, notify) {
    Object.assign(this, {api, me, notify});
  }

  async draw(main) {
    this.required = el("input", {id: "require-2fa", type: "checkbox", onchange: () => this.setRequired()});
    this.saved = el("span", {id: "require-2fa-saved", class: "muted", role: "status"});
    this.rows = el("tbody", {id: "two-factor-agents"});
    replace(main, el("div", {class: "panel"},
      el("h2", {}, TEXT.title),
      el("label", {class: "check"}, this.required, TEXT.require), this.saved,
      el("p", {class: "muted"}, TEXT.requireHelp),
      el("h3", {}, TEXT.agents),
      el("table", {id: "two-factor-table"},
         el("thead", {}, el("tr", {}, TEXT.headers.map((h) => el("th", {}, h)))), this.rows)));
    try {
      this.required.checked = (await this.api.get("v1/settings")).totp_required;
      await this.listAgents();
    } catch (failure) {
      this.notify(failure.message);
    }
  }

  async setRequired() {
    try {
      const settings = await this.api.put("v1/settings", {totp_required: this.required.checked});
      this.required.checked = settings.totp_required;
      this.saved.textContent = TEXT.saved;
    } catch (failure) {
      this.required.checked = !this.required.checked;
      this.notify(failure.message);
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
        el("td", {}, agent.name), el("td", {}, agent.email), el("td", {}, agent.role),
        el("td", {class: "two-factor-status"}, TEXT.status[enrolment.status]),
        el("td", {}, enrolment.recovery_codes_left ?? ""),
        el("td", {}, canReset ? el("button", {type: "button", class: "reset-2fa",
                                              onclick: () => this.reset(agent)}, TEXT.reset) : null));
    }));
  }

  async reset(agent) {
    if (!window.confirm(TEXT.confirmReset(agent.name))) return;
    try {
      await this.api.delete(`v1/agents/${encodeURIComponent(agent.agent_id)}/totp`);
      await this.listAgents();
    } catch (failure) {
      this.notify(failure.message);
    }
  }
}
