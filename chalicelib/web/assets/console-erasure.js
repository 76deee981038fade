// Erasing a visitor (admins and compliance) and the proof of it: an erase button that asks once more
// before it crypto-shreds, then the signed erasure receipt saved as the file an auditor checks, with
// the command that checks it against the key store (docs/audit.md, Proof of forgetting).
import {errorParts} from "./api.js";
import {PUBLIC_KEYS} from "./console-access-export.js";
import {tData} from "./console-text.js";
import {el, replace} from "./dom.js";
import {t} from "./i18n.js";

// visitorIdOf() names the visitor when a button is clicked; onErased(answer) follows an erasure.
export function erasureControls(api, visitorIdOf, onErased = () => {}) {
  const status = el("div", {id: "erasure-status", class: "access-export", role: "status"});
  const path = () => `v1/visitors/${encodeURIComponent(visitorIdOf())}`;
  const receipt = el("button", {type: "button", id: "erasure-receipt", onclick: async () => {
    if (!visitorIdOf()) return;
    try {
      await saveReceipt(api, path(), visitorIdOf(), status);
    } catch (failure) {
      replace(status, ...errorParts(failure));
    }
  }}, t("console-visitor-data.receipt"));
  const erase = el("button", {type: "button", id: "erase-visitor", class: "danger", onclick: () => {
    const visitorId = visitorIdOf();
    if (!visitorId) return;
    const cancel = el("button", {type: "button", id: "erase-cancel", onclick: () => replace(status)},
                        t("console-common.cancel"));
    const confirm = el("button", {type: "button", id: "erase-confirm", class: "danger", onclick: async () => {
      confirm.disabled = true;
      replace(status, t("console-visitor-data.erasing"));
      try {
        const answer = await api.delete(path());
        replace(status, el("p", {}, t("console-visitor-data.erased", {count: answer.conversations_shredded})));
        onErased(answer);
        await saveReceipt(api, path(), visitorId, status, true);
      } catch (failure) {
        replace(status, ...errorParts(failure));
      }
    }}, t("console-visitor-data.erase_for_good"));
    replace(status, el("p", {}, ...tData("console-visitor-data.confirm_erase", {id: visitorId})),
            confirm, " ", cancel);
    cancel.focus();
  }}, t("console-visitor-data.erase"));
  return [erase, receipt, status];
}

// The receipt as GET .../erasure-receipt answers it, saved as is: the file erasure_proof takes.
async function saveReceipt(api, visitorPath, visitorId, status, keep = false) {
  const answer = await api.get(`${visitorPath}/erasure-receipt`);
  const name = `erasure-receipt-${visitorId}.json`;
  const blob = new Blob([JSON.stringify(answer, null, 2)], {type: "application/json"});
  const link = el("a", {id: "erasure-receipt-download", href: URL.createObjectURL(blob), download: name,
                        translate: "no"}, name);
  link.click();
  const lines = [
    el("p", {}, ...tData("console-visitor-data.saved", {name}), " ", link),
    el("p", {}, ...tData("console-visitor-data.check", {path: PUBLIC_KEYS})),
    el("pre", {id: "erasure-proof-command", translate: "no"},
       `python -m chalicelib.transcripts.erasure_proof --receipt ${name} --public-key audit.pem `
       + "--tables-prefix STACK_NAME")];
  if (keep) status.append(...lines); else replace(status, ...lines);
}
