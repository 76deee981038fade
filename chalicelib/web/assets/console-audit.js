// The audit trail (compliance and admins): events for a time range, page by page, and the signed
// export file, followed until it can be downloaded.
import {accessExportControls} from "./console-access-export.js";
import {erasureControls} from "./console-erasure.js";
import {isoSeconds, localInput} from "./dates.js";
import {append, el, replace} from "./dom.js";

const EXPORT_POLL_MS = 1500;
const ACCESS_TEXT = {heading: "Visitor data (right of access, erasure)", visitor: "Visitor id"};

export class AuditTrail {
  // notify(message): shows a failure in the console's toast.
  constructor(api, notify) {
    this.api = api;
    this.notify = notify;
  }

  draw(main) {
    const now = new Date();
    const from = el("input", {id: "audit-from", type: "datetime-local", value: localInput(new Date(now.getTime() - 86400000))});
    const to = el("input", {id: "audit-to", type: "datetime-local", value: localInput(new Date(now.getTime() + 60000))});
    const rows = el("tbody", {id: "audit-rows"});
    const more = el("button", {type: "button", id: "audit-more", hidden: true}, "Load more");
    const exportStatus = el("p", {id: "export-status", role: "status"});
    const visitor = el("input", {id: "access-visitor", placeholder: "v_…", "aria-label": ACCESS_TEXT.visitor});
    const [accessButton, accessStatus] = accessExportControls(this.api, () => visitor.value.trim());
    const [eraseButton, receiptButton, erasureStatus] = erasureControls(this.api, () => visitor.value.trim());
    const range = () => ({from: isoSeconds(new Date(from.value)), to: isoSeconds(new Date(to.value))});
    const load = async (cursor = null) => {
      try {
        const page = await this.api.get("v1/audit/events", {...range(), cursor});
        if (!cursor) replace(rows);
        append(rows, page.items.map((event) => el("tr", {},
          el("td", {}, String(event.seq)), el("td", {}, new Date(event.ts).toLocaleString()),
          el("td", {}, `${event.actor.kind} ${event.actor.id}`), el("td", {class: "action"}, event.action),
          el("td", {}, event.target || ""))));
        more.hidden = !page.next_cursor;
        more.onclick = () => load(page.next_cursor);
      } catch (failure) {
        this.notify(failure.message);
      }
    };
    const startExport = async () => {
      try {
        exportStatus.textContent = "Export requested…";
        const {export_id: exportId} = await this.api.post("v1/audit/exports", range());
        this.pollExport(exportId, exportStatus);
      } catch (failure) {
        exportStatus.textContent = failure.message;
      }
    };
    replace(main, el("div", {class: "panel"},
      el("h2", {}, "Audit trail"),
      el("div", {class: "toolbar"}, el("label", {for: "audit-from"}, "From"), from, el("label", {for: "audit-to"}, "To"), to,
         el("button", {type: "button", id: "audit-load", onclick: () => load()}, "Show events"),
         el("button", {type: "button", id: "audit-export", onclick: startExport}, "Export signed file")),
      exportStatus,
      el("table", {id: "audit-events"}, el("thead", {}, el("tr", {}, ["Seq", "When", "Actor", "Action", "Target"].map((h) => el("th", {}, h)))), rows),
      more,
      el("h3", {}, ACCESS_TEXT.heading),
      el("div", {class: "toolbar"}, el("label", {for: "access-visitor"}, ACCESS_TEXT.visitor), visitor, accessButton,
         receiptButton, eraseButton),
      accessStatus, erasureStatus));
    load();
  }

  async pollExport(exportId, status) {
    const started = Date.now();
    for (;;) {
      let job;
      try {
        job = await this.api.get(`v1/audit/exports/${encodeURIComponent(exportId)}`);
      } catch (failure) {
        status.textContent = failure.message;
        return;
      }
      if (job.status === "ready") {
        replace(status, `Ready: ${job.event_count} events, SHA-256 ${job.sha256}. `,
                el("a", {id: "export-download", href: job.url, download: `audit-${exportId}.jsonl.gz`, rel: "noopener"}, "Download"),
                " (the link works for 15 minutes)");
        return;
      }
      if (job.status === "failed") {
        status.textContent = `The export failed: ${job.error || "unknown error"}`;
        return;
      }
      status.textContent = `Exporting… ${Math.round((Date.now() - started) / 1000)} s`;
      await new Promise((resolve) => setTimeout(resolve, EXPORT_POLL_MS));
    }
  }
}
