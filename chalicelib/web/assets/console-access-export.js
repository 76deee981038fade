// The right of access (admins and compliance): request a visitor's data bundle, follow it until it
// is built, download it through the API with the bearer token, and show its SHA-256 and the command
// that checks it offline (docs/audit.md, Right of access).
import {el, replace} from "./dom.js";

const POLL_MS = 1500;
// Every string this module shows, in one place (#23 moves them to the catalogs).
const TEXT = {
  button: "Export visitor data",
  requested: "Export requested…",
  building: (seconds) => `Building the bundle… ${seconds} s`,
  failed: (error) => `The export failed: ${error}`,
  downloading: "Downloading…",
  mismatch: "The downloaded bundle does not match its SHA-256: download it again.",
  ready: (name, size) => `Downloaded ${name} (${size} bytes).`,
  sha256: "SHA-256",
  verify: "Check it offline (public key from GET /v1/audit/public-keys):",
  again: "Download again",
};

// The button and its status line; visitorIdOf() names the visitor when it is clicked.
export function accessExportControls(api, visitorIdOf) {
  const status = el("div", {id: "access-export-status", class: "access-export", role: "status"});
  const button = el("button", {type: "button", id: "access-export", onclick: async () => {
    const visitorId = visitorIdOf();
    if (!visitorId) return;
    button.disabled = true;
    try {
      replace(status, TEXT.requested);
      const path = `v1/visitors/${encodeURIComponent(visitorId)}/access-exports`;
      const {export_id: exportId} = await api.post(path);
      const job = await follow(api, `${path}/${encodeURIComponent(exportId)}`, status);
      if (job) await save(api, `${path}/${encodeURIComponent(exportId)}/bundle`, visitorId, exportId, job, status);
    } catch (failure) {
      replace(status, failure.message);
    } finally {
      button.disabled = false;
    }
  }}, TEXT.button);
  return [button, status];
}

async function follow(api, path, status) {
  const started = Date.now();
  for (;;) {
    const job = await api.get(path);
    if (job.status === "ready") return job;
    if (job.status === "failed") {
      replace(status, TEXT.failed(job.error || job.error_code || "unknown error"));
      return null;
    }
    replace(status, TEXT.building(Math.round((Date.now() - started) / 1000)));
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

// The bundle route (job.url names it too; never an S3 link), relative like every console call so it
// works wherever the app is mounted: fetched with the token, checked, saved as a file.
async function save(api, bundlePath, visitorId, exportId, job, status) {
  replace(status, TEXT.downloading);
  const blob = await api.blob(bundlePath, "application/zip");
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  const sha256 = [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  if (sha256 !== job.sha256) {
    replace(status, TEXT.mismatch);
    return;
  }
  const name = `access-${visitorId}-${exportId}.zip`;
  const link = el("a", {id: "access-export-download", href: URL.createObjectURL(blob), download: name}, TEXT.again);
  link.click();
  replace(status,
    el("p", {}, TEXT.ready(name, blob.size), " ", link),
    el("p", {}, `${TEXT.sha256} `, el("code", {id: "access-export-sha256"}, sha256)),
    el("p", {}, TEXT.verify),
    el("pre", {id: "access-export-verify"},
       `python -m chalicelib.audit.verify_access ${name} --public-key audit.pem --visitor ${visitorId}`));
}
