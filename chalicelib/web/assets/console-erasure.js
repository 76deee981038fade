// Erasing a visitor (admins and compliance) and the proof of it: an erase button that asks once more
// before it crypto-shreds, then the signed erasure receipt saved as the file an auditor checks, with
// the command that checks it against the key store (docs/audit.md, Proof of forgetting).
import {el, replace} from "./dom.js";

// Every string this module shows, in one place (#23 moves them to the catalogs).
const TEXT = {
  erase: "Erase visitor…",
  confirm: (id) => `Erase visitor ${id} for good? Their transcripts can never be decrypted again.`,
  eraseForGood: "Erase for good",
  cancel: "Cancel",
  erasing: "Erasing…",
  erased: (count) => `Erased: ${count} conversation(s) shredded.`,
  receipt: "Download erasure receipt",
  saved: (name) => `Saved ${name}: the signed receipt of the keys and records destroyed.`,
  check: "An auditor checks it against the key store (public key from GET /v1/audit/public-keys):",
};

// visitorIdOf() names the visitor when a button is clicked; onErased(answer) follows an erasure.
export function erasureControls(api, visitorIdOf, onErased = () => {}) {
  const status = el("div", {id: "erasure-status", class: "access-export", role: "status"});
  const path = () => `v1/visitors/${encodeURIComponent(visitorIdOf())}`;
  const receipt = el("button", {type: "button", id: "erasure-receipt", onclick: async () => {
    if (!visitorIdOf()) return;
    try {
      await saveReceipt(api, path(), visitorIdOf(), status);
    } catch (failure) {
      replace(status, failure.message);
    }
  }}, TEXT.receipt);
  const erase = el("button", {type: "button", id: "erase-visitor", class: "danger", onclick: () => {
    const visitorId = visitorIdOf();
    if (!visitorId) return;
    const cancel = el("button", {type: "button", id: "erase-cancel", onclick: () => replace(status)}, TEXT.cancel);
    const confirm = el("button", {type: "button", id: "erase-confirm", class: "danger", onclick: async () => {
      confirm.disabled = true;
      replace(status, TEXT.erasing);
      try {
        const answer = await api.delete(path());
        replace(status, el("p", {}, TEXT.erased(answer.conversations_shredded)));
        onErased(answer);
        await saveReceipt(api, path(), visitorId, status, true);
      } catch (failure) {
        replace(status, failure.message);
      }
    }}, TEXT.eraseForGood);
    replace(status, el("p", {}, TEXT.confirm(visitorId)), confirm, " ", cancel);
    cancel.focus();
  }}, TEXT.erase);
  return [erase, receipt, status];
}

// The receipt as GET .../erasure-receipt answers it, saved as is: the file erasure_proof takes.
async function saveReceipt(api, visitorPath, visitorId, status, keep = false) {
  const answer = await api.get(`${visitorPath}/erasure-receipt`);
  const name = `erasure-receipt-${visitorId}.json`;
  const blob = new Blob([JSON.stringify(answer, null, 2)], {type: "application/json"});
  const link = el("a", {id: "erasure-receipt-download", href: URL.createObjectURL(blob), download: name}, name);
  link.click();
  const lines = [
    el("p", {}, TEXT.saved(name), " ", link),
    el("p", {}, TEXT.check),
    el("pre", {id: "erasure-proof-command"},
       `python -m chalicelib.transcripts.erasure_proof --receipt ${name} --public-key audit.pem `
       + "--tables-prefix STACK_NAME")];
  if (keep) status.append(...lines); else replace(status, ...lines);
}
