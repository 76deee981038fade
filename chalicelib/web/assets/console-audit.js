// The Compliance screen (compliance users and admins): the audit trail for a time range, filtered by
// action, actor and target, page by page; signed exports followed until ready, each with its file,
// the public key to check it with (GET /v1/audit/public-keys, saved as audit.pem) and the one-line
// offline verify command (docs/audit.md); and a visitor's right of access and erasure.
import {accessExportControls} from "./console-access-export.js";
import {erasureControls} from "./console-erasure.js";
import {isoSeconds, localInput} from "./dates.js";
import {append, el, replace} from "./dom.js";
import {format, t} from "./i18n.js";

const EXPORT_POLL_MS = 1500;
// An empty filtered page with a next cursor means "none in the events read so far": read on, this often.
const EMPTY_PAGES_READ_ON = 5;
const PEM_NAME = "audit.pem";  // not UI text: the file name the docs' command uses

export class AuditTrail {
  // notify(message): shows a failure in the console's toast.
  constructor(api, notify) {
    this.api = api;
    this.notify = notify;
  }

  draw(main) {
    const now = new Date();
    const input = (id, props = {}) => el("input", {id, ...props});
    const from = input("audit-from", {type: "datetime-local", value: localInput(new Date(now.getTime() - 86400000))});
    const to = input("audit-to", {type: "datetime-local", value: localInput(new Date(now.getTime() + 60000))});
    const action = input("audit-action", {placeholder: t("console-compliance.action_hint"), autocomplete: "off"});
    const actor = input("audit-actor", {placeholder: t("console-compliance.actor_hint"), autocomplete: "off"});
    const target = input("audit-target", {placeholder: t("console-compliance.target_hint"), autocomplete: "off"});
    const rows = el("tbody", {id: "audit-rows"});
    const more = el("button", {type: "button", id: "audit-more", hidden: true}, t("console-compliance.more"));
    const empty = el("p", {id: "audit-empty", class: "muted", hidden: true}, t("console-compliance.no_events"));
    this.exports = el("ul", {id: "export-status", class: "exports", "aria-live": "polite"});
    const visitor = input("access-visitor", {placeholder: "v_…"});  // not UI text: the shape of an id
    const [accessButton, accessStatus] = accessExportControls(this.api, () => visitor.value.trim());
    const [eraseButton, receiptButton, erasureStatus] = erasureControls(this.api, () => visitor.value.trim());
    const range = () => ({from: isoSeconds(new Date(from.value)), to: isoSeconds(new Date(to.value))});
    const filters = () => ({action: action.value.trim(), actor: actor.value.trim(), target: target.value.trim()});
    const load = async (cursor = null) => {
      try {
        let page;
        let reads = 0;
        do {
          page = await this.api.get("v1/audit/events", {...range(), ...filters(), cursor: page ? page.next_cursor : cursor});
          reads += 1;
        } while (!page.items.length && page.next_cursor && reads < EMPTY_PAGES_READ_ON);
        if (!cursor) replace(rows);
        append(rows, page.items.map((event) => el("tr", {"data-seq": event.seq},
          el("td", {}, format.number(event.seq, {useGrouping: false})), el("td", {}, format.dateTime(event.ts)),
          el("td", {class: "actor", translate: "no"}, `${event.actor.kind} ${event.actor.id}`),  // not UI text: data
          el("td", {class: "action", translate: "no"}, event.action),
          el("td", {class: "target", translate: "no"}, event.target || ""))));
        empty.hidden = rows.children.length > 0 || Boolean(page.next_cursor);
        more.hidden = !page.next_cursor;
        more.onclick = () => load(page.next_cursor);
      } catch (failure) {
        this.notify(failure.status === 400 ? t("console-compliance.bad_filter") : failure.message);
      }
    };
    const clear = () => {
      for (const field of [action, actor, target]) field.value = "";
      load();
    };
    const field = (id, label, control) => el("span", {class: "field"}, el("label", {for: id}, label), control);
    const submitted = (event) => {
      event.preventDefault();
      load();
    };
    replace(main, el("div", {class: "panel", id: "compliance"},
      el("h2", {}, t("console-compliance.title")),
      el("section", {id: "compliance-audit", "aria-labelledby": "compliance-trail"},
        el("h3", {id: "compliance-trail"}, t("console-compliance.trail")),
        el("form", {class: "toolbar", id: "audit-filters", onsubmit: submitted},
           field("audit-from", t("console-compliance.from"), from), field("audit-to", t("console-compliance.to"), to),
           field("audit-action", t("console-compliance.action"), action),
           field("audit-actor", t("console-compliance.actor"), actor),
           field("audit-target", t("console-compliance.target"), target),
           el("button", {type: "submit", id: "audit-load"}, t("console-compliance.show")),
           el("button", {type: "button", id: "audit-clear", onclick: clear}, t("console-compliance.clear")),
           el("button", {type: "button", id: "audit-export", onclick: () => this.startExport(range())},
              t("console-compliance.export"))),
        el("h4", {}, t("console-compliance.exports")),
        this.exports,
        el("table", {id: "audit-events"}, el("thead", {}, el("tr", {},
          [t("console-compliance.seq"), t("console-compliance.when"), t("console-compliance.actor_column"),
           t("console-compliance.action"), t("console-compliance.target")].map((h) => el("th", {scope: "col"}, h)))), rows),
        empty, more),
      el("section", {id: "compliance-visitor-data", "aria-labelledby": "compliance-visitor-heading"},
        el("h3", {id: "compliance-visitor-heading"}, t("console-compliance.visitor_data")),
        el("div", {class: "toolbar"}, el("label", {for: "access-visitor"}, t("console-compliance.visitor")), visitor,
           accessButton, receiptButton, eraseButton),
        accessStatus, erasureStatus)));
    load();
  }

  async startExport(range) {
    const item = el("li", {class: "export"},
      el("strong", {class: "export-range"}, t("console-compliance.export_range",
        {from: format.dateTime(range.from), to: format.dateTime(range.to)})), " — ",
      el("span", {class: "export-state", role: "status"}, t("console-compliance.export_requested")));
    this.exports.prepend(item);
    try {
      const {export_id: exportId} = await this.api.post("v1/audit/exports", range);
      item.dataset.exportId = exportId;
      await this.follow(exportId, item);
    } catch (failure) {
      replace(item.querySelector(".export-state"), failure.message);
    }
  }

  async follow(exportId, item) {
    const state = item.querySelector(".export-state");
    const started = Date.now();
    for (;;) {
      const job = await this.api.get(`v1/audit/exports/${encodeURIComponent(exportId)}`);
      if (job.status === "ready") {
        await this.finished(exportId, job, item);
        return;
      }
      if (job.status === "failed") {
        replace(state, t("console-compliance.export_failed", {error: job.error || t("console-compliance.unknown_error")}));
        return;
      }
      replace(state, t("console-compliance.exporting", {seconds: format.number(Math.round((Date.now() - started) / 1000))}));
      await new Promise((resolve) => setTimeout(resolve, EXPORT_POLL_MS));
    }
  }

  // A finished export: its file, the key that checks it and the command that does.
  async finished(exportId, job, item) {
    const file = `audit-${exportId}.jsonl.gz`;
    const command = `python -m chalicelib.audit.verify ${file} --public-key ${PEM_NAME}`;  // not UI text
    const copy = el("button", {type: "button", class: "export-copy", onclick: async () => {
      await navigator.clipboard.writeText(command);
      this.notify(t("console-common.copied"));
    }}, t("console-compliance.copy_command"));
    replace(item.querySelector(".export-state"), t("console-compliance.export_ready", {count: job.event_count}), " ",
            "SHA-256 ", el("code", {class: "export-sha256", translate: "no"}, job.sha256));  // not UI text
    append(item,
      el("p", {}, el("a", {class: "export-download", href: job.url, download: file, rel: "noopener"},
                     t("console-compliance.download_export")), " ", t("console-compliance.link_lifetime")),
      el("p", {}, await this.publicKeyLink()),
      el("p", {}, t("console-compliance.verify"), " ", copy),
      el("pre", {class: "export-verify", translate: "no"}, command));
  }

  // The signing key, read once, as a .pem file to save beside the export.
  async publicKeyLink() {
    if (!this.pem) {
      try {
        const {keys} = await this.api.get("v1/audit/public-keys");
        this.pem = URL.createObjectURL(new Blob([keys[0].public_key_pem], {type: "application/x-pem-file"}));
      } catch (failure) {
        return failure.message;
      }
    }
    return el("a", {class: "export-public-key", href: this.pem, download: PEM_NAME},
              t("console-compliance.public_key"), " ", el("code", {translate: "no"}, PEM_NAME));
  }
}
