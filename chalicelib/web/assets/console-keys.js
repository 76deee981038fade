// The admin's API keys tab: API keys for the tenant's own servers (create with a name and a role,
// the secret shown once with a copy button; list; revoke), and the two rotations a tenant's pages
// depend on: the widget key (the old one stops working at once; the new embed snippet is shown)
// and the identity-verification secret (shown once). Every destructive step asks first. Key names,
// secrets and snippets are data: shown translate="no".
import {append, el, replace} from "./dom.js";
import {format, t} from "./i18n.js";

const ROLES = ["agent", "supervisor", "compliance", "admin"];
const ROLE_NAMES = {agent: () => t("console-keys.role_agent"), supervisor: () => t("console-keys.role_supervisor"),
                    compliance: () => t("console-keys.role_compliance"), admin: () => t("console-keys.role_admin")};

// The tag a tenant pastes into its pages (as GET /demo shows it), for the widget served beside this console.
export function embedSnippet(widgetKey) {
  const src = new URL("widget.js", document.baseURI).href;
  return `<script type="module" src="${src}" data-widget-key="${widgetKey}"></script>`; // not UI text
}

// A value shown once: what it is, the value, a copy button and what the copy did.
export function shownOnce(id, what, value) {
  const status = el("span", {class: "muted", role: "status", id: `${id}-copied`});
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      status.textContent = t("console-common.copied");
    } catch (failure) {
      window.getSelection().selectAllChildren(code);
      status.textContent = t("console-keys.copy_by_hand");
    }
  };
  const code = el("code", {id, class: "secret", translate: "no"}, value);
  return el("div", {class: "shown-once", id: `${id}-box`},
    el("p", {}, what), el("pre", {}, code),
    el("div", {class: "actions"},
      el("button", {type: "button", id: `${id}-copy`, onclick: copy}, t("console-common.copy")), status));
}

export class Keys {
  // notify(message): shows a failure in the console's toast.
  constructor(api, notify) {
    Object.assign(this, {api, notify});
  }

  async draw(main) {
    this.rows = el("tbody", {id: "api-key-rows"});
    this.name = el("input", {id: "api-key-name", required: true, maxlength: 100, translate: "no"});
    this.role = el("select", {id: "api-key-role"},
      ROLES.map((role) => el("option", {value: role}, ROLE_NAMES[role]())));
    this.created = el("div", {id: "api-key-created", "aria-live": "polite"});
    this.widgetResult = el("div", {id: "widget-key-result", "aria-live": "polite"});
    this.identityState = el("p", {id: "identity-state"});
    this.identityResult = el("div", {id: "identity-secret-result", "aria-live": "polite"});
    replace(main, el("div", {class: "panel", id: "keys-screen"},
      el("h2", {}, t("console-keys.title")),
      el("section", {"aria-labelledby": "api-keys-heading"},
        el("h3", {id: "api-keys-heading"}, t("console-keys.api_keys")),
        el("p", {class: "muted"}, t("console-keys.api_keys_intro")),
        el("form", {id: "api-key-form", class: "settings-form", onsubmit: (event) => this.create(event)},
          el("label", {for: "api-key-name"}, t("console-keys.name")), this.name,
          el("label", {for: "api-key-role"}, t("console-keys.role")), this.role,
          el("div", {class: "actions"}, el("button", {type: "submit", id: "api-key-create"}, t("console-keys.create")))),
        this.created,
        el("table", {id: "api-key-table"},
          el("thead", {}, el("tr", {},
            el("th", {scope: "col"}, t("console-keys.name")), el("th", {scope: "col"}, t("console-keys.role")),
            el("th", {scope: "col"}, t("console-keys.created_at")), el("th", {scope: "col"}, t("console-keys.status")),
            el("th", {scope: "col"}, el("span", {class: "visually-hidden"}, t("console-keys.actions"))))),
          this.rows)),
      el("section", {"aria-labelledby": "widget-key-heading"},
        el("h3", {id: "widget-key-heading"}, t("console-keys.widget_key")),
        el("p", {class: "muted"}, t("console-keys.widget_key_intro")),
        el("button", {type: "button", id: "widget-key-rotate", class: "danger", onclick: () => this.rotateWidgetKey()},
           t("console-keys.widget_key_rotate")),
        this.widgetResult),
      el("section", {"aria-labelledby": "identity-heading"},
        el("h3", {id: "identity-heading"}, t("console-keys.identity")),
        el("p", {class: "muted"}, t("console-keys.identity_intro")), this.identityState,
        el("button", {type: "button", id: "identity-secret-rotate", class: "danger",
                      onclick: () => this.rotateIdentitySecret()}, t("console-keys.identity_rotate")),
        this.identityResult)));
    try {
      await Promise.all([this.listKeys(), this.showIdentityState()]);
    } catch (failure) {
      this.notify(failure.message);
    }
  }

  async listKeys() {
    const keys = await this.api.all("v1/api-keys");
    keys.sort((a, b) => (b.created_at > a.created_at ? 1 : -1));
    replace(this.rows);
    if (!keys.length) {
      append(this.rows, el("tr", {}, el("td", {colspan: 5, class: "empty"}, t("console-keys.no_keys"))));
      return;
    }
    // A row's revoke button is named by its action and the key's name (aria-labelledby keeps the name data).
    append(this.rows, keys.map((key, row) => el("tr", {"data-key": key.key_id, class: key.revoked_at ? "revoked" : ""},
      el("td", {class: "api-key-name", translate: "no", id: `api-key-name-${row}`}, key.name),
      el("td", {}, ROLE_NAMES[key.role] ? ROLE_NAMES[key.role]() : key.role),
      el("td", {}, format.dateTime(key.created_at)),
      el("td", {class: "api-key-status"}, key.revoked_at
        ? t("console-keys.revoked_on", {when: format.dateTime(key.revoked_at)}) : t("console-keys.active")),
      el("td", {class: "row-actions"}, key.revoked_at ? null
        : el("button", {type: "button", class: "api-key-revoke danger", onclick: () => this.revoke(key),
                        id: `api-key-revoke-${row}`, "aria-labelledby": `api-key-revoke-${row} api-key-name-${row}`},
             t("console-keys.revoke"))))));
  }

  async showIdentityState() {
    const settings = await this.api.get("v1/settings");
    this.identityState.textContent = t(settings.identity_verification ? "console-keys.identity_on"
                                                                       : "console-keys.identity_off");
  }

  async create(event) {
    event.preventDefault();
    try {
      const created = await this.api.post("v1/api-keys", {name: this.name.value.trim(), role: this.role.value});
      this.name.value = "";
      replace(this.created, shownOnce("api-key-secret", t("console-keys.secret_once"), created.api_key));
      await this.listKeys();
    } catch (failure) {
      replace(this.created, el("p", {class: "error"}, failure.message));
    }
  }

  async revoke(key) {
    if (!window.confirm(t("console-keys.confirm_revoke", {name: key.name}))) return;
    try {
      await this.api.delete(`v1/api-keys/${encodeURIComponent(key.key_id)}`);
      replace(this.created);
      await this.listKeys();
    } catch (failure) {
      this.notify(failure.message);
    }
  }

  async rotateWidgetKey() {
    if (!window.confirm(t("console-keys.confirm_widget_key"))) return;
    try {
      const {widget_key: widgetKey} = await this.api.post("v1/widget-key");
      replace(this.widgetResult,
        el("p", {}, t("console-keys.widget_key_new"), " ", el("code", {id: "widget-key-new", translate: "no"}, widgetKey)),
        shownOnce("widget-snippet", t("console-keys.widget_snippet"), embedSnippet(widgetKey)));
    } catch (failure) {
      replace(this.widgetResult, el("p", {class: "error"}, failure.message));
    }
  }

  async rotateIdentitySecret() {
    if (!window.confirm(t("console-keys.confirm_identity"))) return;
    try {
      const rotated = await this.api.post("v1/identity-secret");
      replace(this.identityResult, shownOnce("identity-secret", t("console-keys.identity_once"), rotated.identity_secret));
      await this.showIdentityState();
    } catch (failure) {
      replace(this.identityResult, el("p", {class: "error"}, failure.message));
    }
  }
}
