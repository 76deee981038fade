// The Team tab (admins): every agent with role, teams, tier, chats held against capacity and
// presence now (online / away / offline, from GET /v1/agents); adding one, changing one (name, role,
// teams, tier, capacity), deactivating (every session of theirs ends at once) and reactivating
// (PATCH active: true). The form checks what it can before sending; the server checks everything
// again, and its refusals land next to the fields they name.
import {append, el, replace} from "./dom.js";
import {clearErrors, field, fieldError, showFieldRefusals} from "./console-form.js";
import {format, t} from "./i18n.js";

const ROLES = ["agent", "supervisor", "admin", "compliance"];
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const TEAM_NAME = /^[\p{L}\p{N}_\- ]{1,50}$/u;
const PREFIX = "agent-";  // not UI text
const COLUMNS = ["name", "email", "role", "teams", "tier", "capacity", "presence", "state", "actions"];

export class Team {
  // me: the signed-in admin (who cannot deactivate themselves); notify(message): the console's toast.
  constructor(api, me, notify) {
    Object.assign(this, {api, me, notify});
  }

  async draw(main) {
    this.rows = el("tbody", {id: "team-agents"});
    this.status = el("p", {id: "team-status", class: "muted", role: "status"});
    this.formBox = el("section", {id: "agent-form-box", "aria-labelledby": "agent-form-title"});
    replace(main, el("div", {class: "panel", id: "team-screen"},
      el("div", {class: "toolbar"}, el("h2", {}, t("console-team.title")),
         el("button", {type: "button", id: "team-refresh", onclick: () => this.list()}, t("console-common.refresh")),
         this.status),
      el("table", {id: "team-table"},
         el("thead", {}, el("tr", {}, COLUMNS.map((name) => el("th", {scope: "col"}, t(`console-team.column_${name}`))))),
         this.rows),
      this.formBox));
    this.showForm(null);
    await this.list();
  }

  async list() {
    let agents;
    try {
      agents = await this.api.all("v1/agents");
    } catch (failure) {
      this.notify(failure.message);
      return;
    }
    this.agents = new Map(agents.map((agent) => [agent.agent_id, agent]));
    replace(this.rows);
    append(this.rows, agents.map((agent) => this.row(agent)));
  }

  row(agent) {
    const id = agent.agent_id;
    const nameId = `agent-name-${id}`;
    const button = (kind, label, onclick, extra = {}) => el("button", {
      type: "button", id: `${kind}-${id}`, class: kind, onclick, "aria-labelledby": `${kind}-${id} ${nameId}`, ...extra},
      label);
    const self = id === this.me.agent_id;
    const switchOver = agent.active
      ? (self ? null : button("deactivate", t("console-team.deactivate"), () => this.deactivate(agent), {class: "danger deactivate"}))
      : button("reactivate", t("console-team.reactivate"), () => this.reactivate(agent));
    return el("tr", {"data-agent": id, class: agent.active ? "" : "inactive"},
      el("td", {id: nameId, translate: "no"}, agent.name),
      el("td", {translate: "no"}, agent.email),
      el("td", {class: "role"}, t(`console-team.role_${agent.role}`)),
      agent.teams.length ? el("td", {class: "teams", translate: "no"}, agent.teams.join(", "))
        : el("td", {class: "teams"}, t("console-common.none")),
      el("td", {class: "tier"}, format.number(agent.tier)),
      el("td", {class: "capacity"}, t("console-team.load_of_capacity",
                                      {load: format.number(agent.load), max: format.number(agent.max_concurrent)})),
      el("td", {class: "presence"}, el("span", {class: "dot", "data-presence": agent.status, "aria-hidden": "true"}),
         t(`console-team.presence_${agent.status}`)),
      el("td", {class: "state"}, t(agent.active ? "console-team.active" : "console-team.deactivated")),
      el("td", {class: "row-actions"}, button("edit", t("console-common.edit"), () => this.showForm(agent)), switchOver));
  }

  // The form adds an agent (agent null) or changes one (only name, role, teams, tier, capacity).
  showForm(agent) {
    this.editing = agent;
    const input = (props) => el("input", {autocomplete: "off", ...props});
    this.controls = {
      email: agent ? null : input({type: "email", required: true, maxlength: 254}),
      name: input({type: "text", required: true, maxlength: 100, value: agent?.name ?? ""}),
      password: agent ? null : input({type: "password", required: true, minlength: 8, autocomplete: "new-password"}),
      role: el("select", {}, ROLES.map((role) => el("option", {value: role}, t(`console-team.role_${role}`)))),
      teams: input({type: "text", value: agent ? agent.teams.join(", ") : ""}),
      tier: input({type: "number", min: 1, max: 100, step: 1, required: true, value: String(agent?.tier ?? 1)}),
      max_concurrent: input({type: "number", min: 1, max: 20, step: 1, required: true,
                             value: String(agent?.max_concurrent ?? 5)}),
    };
    this.controls.role.value = agent?.role ?? "agent";
    const hints = {teams: t("console-team.teams_hint"), tier: t("console-team.tier_hint"),
                   max_concurrent: t("console-team.capacity_hint"), password: t("console-team.password_hint")};
    const fields = Object.entries(this.controls).filter(([, control]) => control).map(([name, control]) =>
      field(`${PREFIX}${name.replaceAll("_", "-")}`, t(`console-team.field_${name}`), control, hints[name]));
    this.formError = el("p", {id: "agent-form-error", class: "error", role: "alert"});
    this.form = el("form", {id: "agent-form", class: "admin-form", novalidate: true, "data-mode": agent ? "edit" : "add",
                            onsubmit: (event) => { event.preventDefault(); this.submit(); }},
      fields, this.formError,
      el("div", {class: "toolbar"},
         el("button", {type: "submit", id: "agent-submit"}, t(agent ? "console-common.save" : "console-team.add_agent")),
         agent ? el("button", {type: "button", id: "agent-cancel", onclick: () => this.showForm(null)},
                    t("console-common.cancel")) : null));
    replace(this.formBox,
      el("h3", {id: "agent-form-title"}, agent ? [t("console-team.editing"), " ", el("span", {translate: "no"}, agent.name)]
        : t("console-team.add_title")),
      this.form);
    if (agent) this.controls.name.focus();
  }

  // What the form holds as the API wants it, and what is wrong with it (control id -> message).
  read() {
    const c = this.controls;
    const errors = {};
    const body = {name: c.name.value.trim(), role: c.role.value,
                  teams: c.teams.value.split(/[,，]/).map((team) => team.trim()).filter(Boolean),
                  tier: Number(c.tier.value), max_concurrent: Number(c.max_concurrent.value)};
    if (c.email) {
      body.email = c.email.value.trim();
      if (!EMAIL.test(body.email)) errors.email = t("console-team.error_email");
    }
    if (c.password) {
      body.password = c.password.value;
      if (body.password.length < 8 || body.password.length > 256) errors.password = t("console-team.error_password");
    }
    if (!body.name) errors.name = t("console-team.error_name");
    if (body.teams.length > 20 || !body.teams.every((team) => TEAM_NAME.test(team))) errors.teams = t("console-team.error_teams");
    if (!Number.isInteger(body.tier) || body.tier < 1 || body.tier > 100) errors.tier = t("console-team.error_tier");
    if (!Number.isInteger(body.max_concurrent) || body.max_concurrent < 1 || body.max_concurrent > 20) {
      errors.max_concurrent = t("console-team.error_capacity");
    }
    return {body, errors};
  }

  async submit() {
    clearErrors(this.form);
    this.formError.textContent = "";
    const {body, errors} = this.read();
    for (const [name, message] of Object.entries(errors)) fieldError(this.form, `${PREFIX}${name.replaceAll("_", "-")}`, message);
    if (Object.keys(errors).length) {
      this.form.querySelector("[aria-invalid]")?.focus();
      return;
    }
    const agent = this.editing;
    const changes = agent ? Object.fromEntries(Object.entries(body).filter(([name, value]) =>
      JSON.stringify(value) !== JSON.stringify(agent[name]))) : body;
    if (agent && !Object.keys(changes).length) {
      this.status.textContent = t("console-team.nothing_changed");
      return;
    }
    try {
      if (agent) await this.api.patch(`v1/agents/${encodeURIComponent(agent.agent_id)}`, changes);
      else await this.api.post("v1/agents", changes);
    } catch (failure) {
      this.refused(failure);
      return;
    }
    this.status.textContent = t(agent ? "console-common.saved" : "console-team.added");
    this.showForm(null);
    await this.list();
  }

  refused(failure) {
    const placed = failure.status === 400 && showFieldRefusals(this.form, failure, PREFIX, t("console-team.error_refused"));
    if (failure.code === "email_taken") fieldError(this.form, `${PREFIX}email`, t("console-team.error_email_taken"));
    else if (failure.code === "self_change") fieldError(this.form, `${PREFIX}role`, t("console-team.error_self_role"));
    else if (failure.status === 409) this.formError.textContent = t("console-team.error_changed_meanwhile");
    else if (!placed) this.formError.textContent = failure.message;
    this.form.querySelector("[aria-invalid]")?.focus();
  }

  async deactivate(agent) {
    if (!window.confirm(t("console-team.confirm_deactivate", {name: agent.name}))) return;
    await this.switchOver(() => this.api.delete(`v1/agents/${encodeURIComponent(agent.agent_id)}`),
                          "console-team.was_deactivated");
  }

  async reactivate(agent) {
    await this.switchOver(() => this.api.patch(`v1/agents/${encodeURIComponent(agent.agent_id)}`, {active: true}),
                          "console-team.was_reactivated");
  }

  async switchOver(request, done) {
    try {
      await request();
      this.status.textContent = t(done);
    } catch (failure) {
      this.notify(failure.status === 409 ? t("console-team.error_changed_meanwhile") : failure.message);
    }
    if (this.editing) this.showForm(null);
    await this.list();
  }
}
