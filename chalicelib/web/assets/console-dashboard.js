// The dashboard (supervisors and admins): the report summary for the last 24 hours, 7 days or
// 30 days, as key figures, bar charts and a table by agent.
import {barChart} from "./charts.js";
import {isoSeconds} from "./dates.js";
import {el, replace} from "./dom.js";

export class Dashboard {
  constructor(api) {
    this.api = api;
  }

  async draw(main) {
    const days = el("select", {id: "dashboard-days", "aria-label": "Period", onchange: () => this.draw(main)},
                    [["1", "last 24 hours"], ["7", "last 7 days"], ["30", "last 30 days"]].map(([value, label]) =>
                      el("option", {value}, label)));
    days.value = this.days || "7";
    this.days = days.value;
    const body = el("div", {id: "dashboard", class: "dashboard"}, el("p", {class: "muted"}, "Loading…"));
    replace(main, el("div", {class: "panel"}, el("h2", {}, "Dashboard ", days), body));
    const to = new Date();
    const from = new Date(to.getTime() - Number(days.value) * 86400000);
    let summary;
    try {
      summary = await this.api.get("v1/reports/summary", {from: isoSeconds(from), to: isoSeconds(to)});
    } catch (failure) {
      replace(body, el("p", {class: "error"}, failure.message));
      return;
    }
    const seconds = (value) => (value === null || value === undefined ? "—" : `${Math.round(value)} s`);
    const figure = (id, label, value) => el("div", {class: "figure", id}, el("span", {class: "value"}, String(value)), el("span", {}, label));
    const csat = summary.csat;
    replace(body,
      el("div", {class: "figures"},
         figure("figure-conversations", "conversations", summary.conversations),
         figure("figure-resolution", "resolved", `${Math.round((summary.resolution_rate || 0) * 100)}%`),
         figure("figure-first-response", "first response p50", seconds(summary.first_response_seconds.p50)),
         figure("figure-csat", "CSAT average", csat.average === null ? "—" : csat.average.toFixed(2)),
         figure("figure-bot", "bot contained", summary.bot_contained),
         figure("figure-sla", "SLA breaches", summary.sla_breaches)),
      el("h3", {}, `Conversations by hour (${summary.timezone || "UTC"})`),
      barChart({id: "chart-by-hour", title: "Conversations by hour", labels: summary.by_hour.map((row) => String(row.hour)),
                values: summary.by_hour.map((row) => row.conversations)}),
      el("h3", {}, `Satisfaction (${csat.responses} answers)`),
      barChart({id: "chart-csat", title: "CSAT ratings", labels: ["1", "2", "3", "4", "5"], width: 300,
                values: ["1", "2", "3", "4", "5"].map((rating) => csat.distribution[rating] || 0)}),
      el("h3", {}, "By agent"),
      el("table", {id: "by-agent"}, el("thead", {}, el("tr", {}, ["Agent", "Conversations", "CSAT", "First response p50"].map((h) => el("th", {}, h)))),
         el("tbody", {}, summary.by_agent.map((row) => el("tr", {},
           el("td", {}, row.agent_id), el("td", {}, String(row.conversations)),
           el("td", {}, row.csat_average === null ? "—" : row.csat_average.toFixed(2)), el("td", {}, seconds(row.first_response_p50)))))));
  }
}
