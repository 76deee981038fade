// The admin's Canned responses tab: the tenant's shortcuts ("/refund") and the text each expands
// to in an agent's reply box; add, edit (a new shortcut renames it), delete. The form previews the
// expansion as it is typed, and a try box shows what an agent typing "/re" would be offered (the
// same prefix rule as the reply box, console-canned.js). Shortcuts and texts are the tenant's data:
// shown translate="no".
import {append, el, replace} from "./dom.js";
import {format, t} from "./i18n.js";

const SHORTCUT = "^/?[a-z0-9][a-z0-9_\\-]{0,31}$"; // not UI text: the server's pattern (canned/schemas.py)
const OFFERED = 8;
const slashed = (shortcut) => "/" + shortcut;

export class CannedLibrary {
  // notify(message): shows a failure in the console's toast.
  constructor(api, notify) {
    Object.assign(this, {api, notify});
    this.editing = null;
    this.responses = [];
  }

  async draw(main) {
    this.rows = el("tbody", {id: "canned-rows"});
    this.count = el("p", {id: "canned-count", class: "muted", role: "status"});
    this.shortcut = el("input", {id: "canned-shortcut", required: true, pattern: SHORTCUT, maxlength: 33,
                                 translate: "no", autocomplete: "off", "aria-describedby": "canned-shortcut-help",
                                 oninput: () => this.preview()});
    this.text = el("textarea", {id: "canned-text", required: true, maxlength: 2000, rows: 4, translate: "no",
                                oninput: () => this.preview()});
    this.formTitle = el("h3", {id: "canned-form-title"});
    this.cancel = el("button", {type: "button", id: "canned-cancel", onclick: () => this.edit(null)},
                     t("console-common.cancel"));
    this.formStatus = el("p", {id: "canned-form-status", role: "status"});
    this.expansion = el("div", {id: "canned-preview", class: "canned-preview", "aria-live": "polite"});
    this.tryInput = el("input", {id: "canned-try", autocomplete: "off", translate: "no", oninput: () => this.offer()});
    this.offered = el("ul", {id: "canned-offered", class: "canned-offered", "aria-live": "polite"});
    const list = el("section", {"aria-labelledby": "canned-heading"},
      el("h3", {id: "canned-heading"}, t("console-canned-library.list")), this.count,
      el("table", {id: "canned-table"},
        el("thead", {}, el("tr", {},
          el("th", {scope: "col"}, t("console-canned-library.shortcut")),
          el("th", {scope: "col"}, t("console-canned-library.text")),
          el("th", {scope: "col"}, t("console-canned-library.updated")),
          el("th", {scope: "col"}, el("span", {class: "visually-hidden"}, t("console-canned-library.actions"))))),
        this.rows));
    const form = el("form", {id: "canned-form", class: "settings-form", onsubmit: (event) => this.save(event)},
      this.formTitle,
      el("label", {for: "canned-shortcut"}, t("console-canned-library.shortcut")), this.shortcut,
      el("p", {id: "canned-shortcut-help", class: "muted"}, t("console-canned-library.shortcut_help")),
      el("label", {for: "canned-text"}, t("console-canned-library.text")), this.text,
      el("h4", {}, t("console-canned-library.preview_title")), this.expansion,
      el("div", {class: "actions"}, el("button", {type: "submit", id: "canned-save"}, t("console-common.save")),
         this.cancel),
      this.formStatus);
    const tryIt = el("section", {class: "settings-form", "aria-labelledby": "canned-try-heading"},
      el("h3", {id: "canned-try-heading"}, t("console-canned-library.try_title")),
      el("label", {for: "canned-try"}, t("console-canned-library.try_label")), this.tryInput, this.offered);
    replace(main, el("div", {class: "panel", id: "canned-screen"},
      el("h2", {}, t("console-canned-library.title")),
      el("p", {class: "muted"}, t("console-canned-library.intro")),
      el("div", {class: "columns"}, list, el("div", {}, form, tryIt))));
    this.edit(null);
    await this.reload();
  }

  async reload() {
    try {
      this.responses = await this.api.all("v1/canned-responses");
    } catch (failure) {
      this.notify(failure.message);
    }
    this.show();
    this.offer();
  }

  show() {
    this.count.textContent = t("console-canned-library.count", {count: this.responses.length,
                                                                shown: format.number(this.responses.length)});
    replace(this.rows);
    if (!this.responses.length) {
      append(this.rows, el("tr", {}, el("td", {colspan: 4, class: "empty"}, t("console-canned-library.empty"))));
      return;
    }
    // Each row's buttons are named by their action and the row's shortcut (aria-labelledby keeps it data).
    append(this.rows, this.responses.map((canned, row) => el("tr", {"data-shortcut": canned.shortcut},
      el("td", {class: "canned-shortcut"}, el("code", {translate: "no", id: `canned-name-${row}`},
                                              slashed(canned.shortcut))),
      el("td", {class: "canned-text", translate: "no"}, canned.text),
      el("td", {}, format.dateTime(canned.updated_at)),
      el("td", {class: "row-actions"},
        el("button", {type: "button", class: "canned-edit", onclick: () => this.edit(canned), id: `canned-edit-${row}`,
                      "aria-labelledby": `canned-edit-${row} canned-name-${row}`}, t("console-common.edit")),
        el("button", {type: "button", class: "canned-delete danger", onclick: () => this.remove(canned),
                      id: `canned-delete-${row}`, "aria-labelledby": `canned-delete-${row} canned-name-${row}`},
           t("console-common.delete"))))));
  }

  // canned: the response to change, or null for a new one.
  edit(canned) {
    this.editing = canned;
    this.formTitle.textContent = t(canned ? "console-canned-library.edit_title" : "console-canned-library.add_title");
    this.shortcut.value = canned ? canned.shortcut : "";
    this.text.value = canned ? canned.text : "";
    this.cancel.hidden = !canned;
    this.formStatus.textContent = "";
    this.preview();
    if (canned) this.shortcut.focus();
  }

  // What an agent typing the shortcut would get in their reply box.
  preview() {
    const shortcut = this.shortcut.value.trim().replace(/^\//, "");
    if (!shortcut || !this.text.value.trim()) {
      replace(this.expansion, el("p", {class: "muted"}, t("console-canned-library.preview_empty")));
      return;
    }
    replace(this.expansion,
      el("p", {}, t("console-canned-library.preview_typed"), " ", el("code", {translate: "no"}, slashed(shortcut))),
      el("p", {}, t("console-canned-library.preview_becomes")),
      el("blockquote", {id: "canned-preview-text", translate: "no"}, this.text.value));
  }

  async save(event) {
    event.preventDefault();
    const body = {shortcut: this.shortcut.value.trim(), text: this.text.value};
    try {
      if (this.editing) {
        await this.api.put(`v1/canned-responses/${encodeURIComponent(this.editing.canned_id)}`, body);
      } else {
        await this.api.post("v1/canned-responses", body);
      }
      await this.reload();
      this.edit(null);
      this.formStatus.textContent = t("console-common.saved");
    } catch (failure) {
      this.formStatus.textContent = failure.message;
    }
  }

  async remove(canned) {
    if (!window.confirm(t("console-canned-library.confirm_delete", {shortcut: slashed(canned.shortcut)}))) return;
    try {
      await this.api.delete(`v1/canned-responses/${encodeURIComponent(canned.canned_id)}`);
      if (this.editing?.canned_id === canned.canned_id) this.edit(null);
      await this.reload();
    } catch (failure) {
      this.notify(failure.message);
    }
  }

  // The reply box's rule: "/" and the start of a shortcut offers every shortcut beginning so.
  offer() {
    const typed = /^\/([a-z0-9_-]*)$/.exec(this.tryInput.value.trim());
    if (!this.tryInput.value.trim()) {
      replace(this.offered);
      return;
    }
    const found = typed ? this.responses.filter((c) => c.shortcut.startsWith(typed[1])).slice(0, OFFERED) : [];
    replace(this.offered, found.length
      ? found.map((canned) => el("li", {},
          el("code", {translate: "no"}, slashed(canned.shortcut)), " → ",
          el("span", {class: "canned-offered-text", translate: "no"}, canned.text)))
      : el("li", {class: "muted"}, t("console-canned-library.try_none")));
  }
}
