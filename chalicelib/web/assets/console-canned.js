// Canned responses offered under the reply box: "/ref" offers every shortcut starting with "ref";
// Tab, Enter or a click picks one. The tenant's list is fetched once, when first asked for.
import {el, replace} from "./dom.js";
import {t} from "./i18n.js";

export class CannedSuggestions {
  // onPick(text): puts the picked response's text in the reply box.
  constructor(api, onPick) {
    this.api = api;
    this.onPick = onPick;
    this.responses = null;
    this.list = null;
  }

  // A new (hidden) list for a newly drawn reply box.
  element() {
    this.list = el("ul", {id: "canned", class: "canned", hidden: true, "aria-label": t("console-canned.suggestions")});
    return this.list;
  }

  async offer(value) {
    const match = /^\/([a-z0-9_-]*)$/.exec(value);
    if (!match) { this.hide(); return; }
    if (!this.responses) {
      try {
        this.responses = await this.api.all("v1/canned-responses");
      } catch (failure) {
        this.responses = [];
      }
    }
    const found = this.responses.filter((canned) => canned.shortcut.startsWith(match[1])).slice(0, 8);
    // The tenant's own shortcuts and texts: data, in whatever language they were written.
    replace(this.list, found.map((canned) => el("li", {},
      el("button", {type: "button", class: "suggestion", translate: "no", onclick: () => this.onPick(canned.text)},
         el("strong", {}, "/", canned.shortcut), " ", canned.text))));
    this.list.hidden = found.length === 0;
  }

  hide() {
    if (this.list) this.list.hidden = true;
  }

  // The first suggestion shown, or null.
  first() {
    return this.list.hidden ? null : this.list.querySelector("button");
  }
}
