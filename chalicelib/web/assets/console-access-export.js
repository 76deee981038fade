// The right of access (admins and compliance): request a visitor's data bundle, follow it until it
// is built, download it through the API with the bearer token, and show its SHA-256 and the command
// that checks it offline (docs/audit.md, Right of access).
import {errorParts} from "./api.js";
import {tData} from "./console-text.js";
import {el, replace} from "./dom.js";
import {format, t} from "./i18n.js";

const POLL_MS = 1500;
// Where the offline check gets its public key: an API path, the same in every language.
export const PUBLIC_KEYS = "GET /v1/audit/public-keys";  // not UI text

// The button and its status line; visitorIdOf() names the visitor when it is clicked.
export function accessExportControls(api, visitorIdOf) {
  const status = el("div", {id: "access-export-status", class: "access-export", role: "status"});
  const button = el("button", {type: "button", id: "access-export", onclick: async () => {
    const visitorId = visitorIdOf();
    if (!visitorId) return;
    button.disabled = true;
    try {
      replace(status, t("console-visitor-data.requested"));
      const path = `v1/visitors/${encodeURIComponent(visitorId)}/access-exports`;
      const {export_id: exportId} = await api.post(path);
      const job = await follow(api, `${path}/${encodeURIComponent(exportId)}`, status);
      if (job) await save(api, `${path}/${encodeURIComponent(exportId)}/bundle`, visitorId, exportId, job, status);
    } catch (failure) {
      replace(status, ...errorParts(failure));
    } finally {
      button.disabled = false;
    }
  }}, t("console-visitor-data.export"));
  return [button, status];
}

async function follow(api, path, status) {
  const started = Date.now();
  for (;;) {
    const job = await api.get(path);
    if (job.status === "ready") return job;
    if (job.status === "failed") {
      const why = job.error || job.error_code;
      replace(status, ...(why ? tData("console-visitor-data.failed", {error: why})
        : [t("console-visitor-data.failed", {error: t("console-visitor-data.unknown_error")})]));
      return null;
    }
    replace(status, t("console-visitor-data.building",
                      {seconds: format.duration(Math.round((Date.now() - started) / 1000))}));
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

// The bundle route (job.url names it too; never an S3 link), relative like every console call so it
// works wherever the app is mounted: fetched with the token, checked, saved as a file.
async function save(api, bundlePath, visitorId, exportId, job, status) {
  replace(status, t("console-visitor-data.downloading"));
  const blob = await api.blob(bundlePath, "application/zip");
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  const sha256 = [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  if (sha256 !== job.sha256) {
    replace(status, t("console-visitor-data.mismatch"));
    return;
  }
  const name = `access-${visitorId}-${exportId}.zip`;
  const link = el("a", {id: "access-export-download", href: URL.createObjectURL(blob), download: name},
                 t("console-visitor-data.again"));
  link.click();
  replace(status,
    el("p", {}, ...tData("console-visitor-data.ready", {name}, {count: blob.size, size: format.number(blob.size)}),
       " ", link),
    el("p", {}, t("console-visitor-data.sha256"), " ", el("code", {id: "access-export-sha256", translate: "no"}, sha256)),
    el("p", {}, ...tData("console-visitor-data.verify", {path: PUBLIC_KEYS})),
    el("pre", {id: "access-export-verify", translate: "no"},
       `python -m chalicelib.audit.verify_access ${name} --public-key audit.pem --visitor ${visitorId}`));
}
