// The Reports screen (supervisors and admins): the report summary over a preset period or any dates,
// in clock or business hours, as key figures, first-response percentiles, charts by hour and by CSAT
// rating, a table by agent, and the per-conversation CSV (GET /v1/reports/conversations.csv).
// The controls are drawn once per visit and keep their state; only the figures are redrawn.
import {barChart} from "./charts.js";
import {isoSeconds} from "./dates.js";
import {el, replace} from "./dom.js";
import {format, t} from "./i18n.js";

const HOUR_MS = 3600000;
const DAY_MS = 24 * HOUR_MS;
const PERIODS = ["1", "7", "30", "90"];
const MAX_DAYS = 366;

// A date input's value ("2026-12-07") as local midnight.
function localMidnight(value) {
  const [year, month, day] = value.split("-").map(Number);
  return new Date(year, month - 1, day);
}

function dateInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export class Dashboard {
  constructor(api) {
    this.api = api;
    // What the supervisor chose, kept across visits of the tab.
    this.choice = {period: "7", from: null, to: null, business: false};
  }

  // The range asked for: a preset ends at the next whole hour; custom dates run from the first
  // day's local midnight to the midnight after the last day. Null (and a message) when invalid.
  range() {
    const {period, from, to} = this.choice;
    if (period !== "custom") {
      const end = new Date(Math.ceil(Date.now() / HOUR_MS) * HOUR_MS);
      return {from: new Date(end.getTime() - Number(period) * DAY_MS), to: end};
    }
    if (!from || !to || from > to) return {error: t("console-reports.range_invalid")};
    const start = localMidnight(from);
    const end = localMidnight(to);
    end.setDate(end.getDate() + 1);
    if (end - start > MAX_DAYS * DAY_MS) return {error: t("console-reports.range_too_long")};
    return {from: start, to: end};
  }

  draw(main) {
    const choice = this.choice;
    const period = el("select", {id: "reports-period"},
      [...PERIODS, "custom"].map((value) => el("option", {value}, t(`console-reports.period_${value}`))));
    period.value = choice.period;
    const today = dateInput(new Date());
    const from = el("input", {id: "reports-from", type: "date", max: today,
                              value: choice.from || dateInput(new Date(Date.now() - 7 * DAY_MS))});
    const to = el("input", {id: "reports-to", type: "date", max: today, value: choice.to || today});
    const custom = el("span", {class: "toolbar", id: "reports-custom", hidden: choice.period !== "custom"},
      el("label", {for: "reports-from"}, t("console-reports.from")), from,
      el("label", {for: "reports-to"}, t("console-reports.to")), to,
      el("button", {type: "button", id: "reports-apply", onclick: () => {
        Object.assign(choice, {from: from.value, to: to.value});
        this.load();
      }}, t("console-reports.apply")));
    const business = el("input", {id: "reports-business-hours", type: "checkbox", checked: choice.business});
    period.onchange = () => {
      choice.period = period.value;
      custom.hidden = period.value !== "custom";
      if (period.value === "custom") Object.assign(choice, {from: from.value, to: to.value});
      this.load();
    };
    business.onchange = () => {
      choice.business = business.checked;
      this.load();
    };
    this.status = el("p", {id: "reports-status", role: "status"});
    this.body = el("div", {id: "dashboard", class: "dashboard", "aria-live": "polite"});
    replace(main, el("div", {class: "panel", id: "reports"},
      el("h2", {}, t("console-reports.title")),
      el("div", {class: "toolbar"},
         el("label", {for: "reports-period"}, t("console-reports.period")), period, custom,
         el("label", {for: "reports-business-hours"}, business, " ", t("console-reports.business_hours")),
         el("button", {type: "button", id: "reports-csv", onclick: () => this.downloadCsv()},
            t("console-reports.download_csv"))),
      this.status, this.body));
    this.load();
  }

  async load() {
    const range = this.range();
    if (range.error) {
      replace(this.body, el("p", {class: "error", id: "reports-error"}, range.error));
      return;
    }
    replace(this.body, el("p", {class: "muted"}, t("console-common.loading")));
    const asked = {from: isoSeconds(range.from), to: isoSeconds(range.to),
                   hours: this.choice.business ? "business" : "clock"};
    this.asked = asked;
    let summary;
    try {
      summary = await this.api.get("v1/reports/summary", asked);
    } catch (failure) {
      replace(this.body, el("p", {class: "error"}, failure.message));
      return;
    }
    if (this.asked !== asked) return;  // a newer choice is loading
    this.show(summary);
  }

  show(summary) {
    const none = t("console-common.none");
    const seconds = (value) => (value === null || value === undefined ? none : format.duration(value));
    const business = summary.hours === "business";
    const figure = (id, label, value) => el("div", {class: "figure", id},
      el("span", {class: "value"}, value), el("span", {}, label));
    const frt = summary.first_response_seconds;
    const csat = summary.csat;
    const ratings = ["1", "2", "3", "4", "5"];
    replace(this.body,
      el("p", {id: "reports-range", "data-from": summary.from, "data-to": summary.to, "data-hours": summary.hours},
         t("console-reports.range_shown", {from: format.dateTime(summary.from), to: format.dateTime(summary.to)})),
      el("div", {class: "figures"},
         figure("figure-conversations", t("console-reports.conversations"), format.number(summary.conversations)),
         figure("figure-closed", t("console-reports.closed"), format.number(summary.closed)),
         figure("figure-resolution", t("console-reports.resolution_rate"),
                summary.resolution_rate === null ? none : format.percent(summary.resolution_rate)),
         figure("figure-abandoned", t("console-reports.abandoned"), format.number(summary.abandoned)),
         figure("figure-bot", t("console-reports.bot_contained"), format.number(summary.bot_contained)),
         figure("figure-sla", t(business ? "console-reports.sla_breaches_business" : "console-reports.sla_breaches"),
                format.number(summary.sla_breaches)),
         figure("figure-handle", t("console-reports.handle_p50"), seconds(summary.handle_seconds.p50)),
         figure("figure-csat", t("console-reports.csat_average"),
                csat.average === null ? none : format.number(csat.average, {minimumFractionDigits: 2}))),
      el("h3", {}, t(business ? "console-reports.first_response_business" : "console-reports.first_response")),
      el("p", {class: "muted"}, t("console-reports.answered", {count: frt.count})),
      el("table", {id: "first-response", class: "compact"},
         el("thead", {}, el("tr", {}, el("th", {scope: "col"}, t("console-reports.percentile")),
                                      el("th", {scope: "col"}, t("console-reports.time")))),
         el("tbody", {}, [50, 90, 95].map((n) => el("tr", {id: `first-response-p${n}`},
           el("th", {scope: "row"}, t("console-reports.p", {n})), el("td", {class: "value"}, seconds(frt[`p${n}`])))))),
      el("h3", {}, t("console-reports.by_hour"), " ", el("span", {translate: "no", id: "reports-zone"}, summary.timezone)),
      barChart({id: "chart-by-hour", title: t("console-reports.by_hour"),
                labels: summary.by_hour.map((row) => String(row.hour)),
                values: summary.by_hour.map((row) => row.conversations)}),
      el("h3", {}, t("console-reports.csat", {count: csat.responses})),
      barChart({id: "chart-csat", title: t("console-reports.csat_chart"), labels: ratings, width: 300,
                values: ratings.map((rating) => csat.distribution[rating] || 0)}),
      el("h3", {}, t("console-reports.by_agent")),
      this.agentTable(summary, seconds));
    this.nameAgents();
  }

  agentTable(summary, seconds) {
    if (!summary.by_agent.length) return el("p", {class: "muted", id: "by-agent-empty"}, t("console-reports.no_agents"));
    const business = summary.hours === "business";
    const headings = [t("console-reports.agent"), t("console-reports.agent_conversations"),
                      t("console-reports.first_responses"),
                      `${t("console-reports.first_response")} ${t("console-reports.p", {n: 50})}`,
                      `${t("console-reports.first_response")} ${t("console-reports.p", {n: 90})}`,
                      t(business ? "console-reports.sla_breaches_business" : "console-reports.sla_breaches"),
                      t("console-reports.abandoned"), t("console-reports.csat_average"),
                      t("console-reports.csat_responses")];
    const csat = (value) => (value === null ? t("console-common.none") : format.number(value, {minimumFractionDigits: 2}));
    return el("table", {id: "by-agent"},
      el("thead", {}, el("tr", {}, headings.map((heading) => el("th", {scope: "col"}, heading)))),
      el("tbody", {}, summary.by_agent.map((row) => el("tr", {"data-agent-id": row.agent_id},
        el("td", {class: "agent-name", translate: "no"}, row.agent_id),
        el("td", {}, format.number(row.conversations)), el("td", {}, format.number(row.first_responses)),
        el("td", {}, seconds(row.first_response_p50)), el("td", {}, seconds(row.first_response_p90)),
        el("td", {}, format.number(row.sla_breaches)), el("td", {}, format.number(row.abandoned)),
        el("td", {}, csat(row.csat_average)), el("td", {}, format.number(row.csat_responses))))));
  }

  // Names in place of ids, once the agents are read (ids stay if the listing fails).
  async nameAgents() {
    const cells = [...this.body.querySelectorAll("#by-agent tr[data-agent-id]")];
    if (!cells.length) return;
    let agents;
    try {
      agents = await this.api.all("v1/agents");
    } catch {
      return;
    }
    const names = new Map(agents.map((agent) => [agent.agent_id, agent.name]));
    for (const row of cells) {
      const name = names.get(row.dataset.agentId);
      if (name) row.querySelector(".agent-name").textContent = name;
    }
  }

  // The per-conversation CSV of the range shown, fetched with the token and saved as a file.
  async downloadCsv() {
    const range = this.range();
    if (range.error) {
      replace(this.status, range.error);
      return;
    }
    const query = new URLSearchParams({from: isoSeconds(range.from), to: isoSeconds(range.to)});
    replace(this.status, t("console-reports.downloading"));
    try {
      const blob = await this.api.blob(`v1/reports/conversations.csv?${query}`, "text/csv");
      const name = `conversations-${query.get("from").slice(0, 10)}-${query.get("to").slice(0, 10)}.csv`;
      el("a", {href: URL.createObjectURL(blob), download: name}).click();
      replace(this.status, t("console-reports.downloaded"), " ", el("code", {translate: "no"}, name));
    } catch (failure) {
      replace(this.status, failure.message);
    }
  }
}
