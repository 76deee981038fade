// The admin's "Widget" tab: the widget's colour, position, greeting and button text (per language),
// pre-chat questions and default language (the `widget` and `default_locale` settings), a live
// preview of the real widget, and the embed code to paste into the tenant's pages.
// The preview is the demo page (/demo?preview=1, same origin; the console's CSP allows framing only
// that) in a frame: the widget there draws itself again from each unsaved change posted to it.
import {el, replace} from "./dom.js";
import {LOCALES, locale, t} from "./i18n.js";

const LANGUAGE_NAMES = {"en": "English", "zh-CN": "中文"};  // not UI text (each language's own name)
const PREVIEW = "switchboard-preview";  // not UI text
const READY = "switchboard-preview-ready";  // not UI text: the framed widget listens from then on
const FIELDS = ["name", "email"];  // not UI text

function languageOptions(extra = []) {
  return [...extra, ...LOCALES.map((code) => el("option", {value: code, translate: "no"}, LANGUAGE_NAMES[code]))];
}

// A labelled control in the form's grid.
function row(control, label, hint) {
  return el("div", {class: "field"}, el("label", {for: control.id}, label), control,
            hint ? el("p", {class: "muted hint"}, hint) : null);
}

export class WidgetScreen {
  // notify(message): shows a failure in the console's toast.
  constructor(api, notify) {
    this.api = api;
    this.notify = notify;
    window.addEventListener("message", (event) => {
      if (event.source === this.frame?.contentWindow && event.data?.type === READY) this.showPreview();
    });
  }

  async draw(main) {
    let settings, embed;
    try {
      [settings, embed] = await Promise.all([this.api.get("v1/settings"), this.api.get("v1/widget-embed")]);
    } catch (failure) {
      this.notify(failure.message);
      return;
    }
    this.embed = embed;
    const widget = settings.widget;
    const control = (tag, id, props = {}, ...children) => el(tag, {id, ...props}, ...children);
    this.controls = {
      color: control("input", "widget-color", {type: "color", value: widget.color}),
      position: control("select", "widget-position", {},
        el("option", {value: "bottom-right"}, t("console-widget.bottom_right")),
        el("option", {value: "bottom-left"}, t("console-widget.bottom_left"))),
      greeting: Object.fromEntries(LOCALES.map((code) => [code, control("textarea", `widget-greeting-${code}`,
        {rows: 2, maxlength: 300, lang: code, value: widget.greeting[code] || ""})])),
      launcher: Object.fromEntries(LOCALES.map((code) => [code, control("input", `widget-launcher-${code}`,
        {maxlength: 40, lang: code, value: widget.launcher_text[code] || ""})])),
      prechat: Object.fromEntries(FIELDS.map((name) => [name, control("select", `widget-prechat-${name}`, {},
        el("option", {value: "off"}, t("console-widget.not_asked")),
        el("option", {value: "optional"}, t("console-widget.optional")),
        el("option", {value: "required"}, t("console-widget.required")))])),
      defaultLocale: control("select", "widget-default-locale", {}, languageOptions()),
    };
    const c = this.controls;
    c.position.value = widget.position;
    c.defaultLocale.value = settings.default_locale;
    for (const name of FIELDS) {
      const asked = widget.prechat_fields.find((entry) => entry.field === name);
      c.prechat[name].value = asked ? (asked.required ? "required" : "optional") : "off";
    }
    this.previewLocale = control("select", "widget-preview-locale", {onchange: () => this.showPreview()}, languageOptions());
    this.previewLocale.value = locale();  // the admin's own language first
    this.frame = el("iframe", {id: "widget-preview", title: t("console-widget.preview_frame"),
                               src: `demo?widget_key=${encodeURIComponent(embed.widget_key)}&preview=1`});  // not UI text
    this.snippetLocale = control("select", "widget-snippet-locale", {onchange: () => this.showSnippet()},
      languageOptions([el("option", {value: ""}, t("console-widget.snippet_auto"))]));
    this.snippet = el("code", {id: "widget-snippet", translate: "no"});
    this.status = el("p", {id: "widget-status", role: "status"});
    const copyStatus = el("p", {id: "widget-copy-status", role: "status"});
    const copy = async () => {
      try {
        await navigator.clipboard.writeText(this.snippet.textContent);
        copyStatus.textContent = t("console-widget.copied");
      } catch {
        copyStatus.textContent = t("console-widget.copy_failed");
      }
    };
    const form = el("form", {id: "widget-form", class: "settings-form", oninput: () => this.showPreview(),
                             onchange: () => this.showPreview(), onsubmit: (event) => this.save(event)},
      el("h3", {}, t("console-widget.style")),
      row(c.color, t("console-widget.color"), t("console-widget.color_hint")),
      row(c.position, t("console-widget.position")),
      row(c.greeting.en, t("console-widget.greeting_en")), row(c.greeting["zh-CN"], t("console-widget.greeting_zh")),
      row(c.launcher.en, t("console-widget.launcher_en")), row(c.launcher["zh-CN"], t("console-widget.launcher_zh")),
      el("p", {class: "muted hint"}, t("console-widget.texts_hint")),
      el("h3", {}, t("console-widget.prechat")),
      row(c.prechat.name, t("console-widget.prechat_name")), row(c.prechat.email, t("console-widget.prechat_email")),
      row(c.defaultLocale, t("console-widget.default_locale"), t("console-widget.default_locale_hint")),
      el("div", {class: "actions"}, el("button", {type: "submit", id: "widget-save"}, t("console-common.save"))),
      this.status);
    replace(main, el("div", {class: "panel", id: "widget-screen"},
      el("h2", {}, t("console-widget.title")),
      el("p", {class: "muted"}, t("console-widget.intro")),
      el("div", {class: "widget-layout"}, form,
        el("section", {class: "widget-preview", "aria-labelledby": "widget-preview-title"},
          el("h3", {id: "widget-preview-title"}, t("console-widget.preview")),
          row(this.previewLocale, t("console-widget.preview_locale")), this.frame)),
      el("section", {class: "widget-embed", "aria-labelledby": "widget-embed-title"},
        el("h3", {id: "widget-embed-title"}, t("console-widget.snippet")),
        el("p", {class: "muted"}, t("console-widget.snippet_hint")),
        row(this.snippetLocale, t("console-widget.snippet_locale")),
        el("pre", {class: "snippet"}, this.snippet),
        el("button", {type: "button", id: "widget-copy-snippet", onclick: copy}, t("console-common.copy")),
        copyStatus)));
    this.showSnippet();
  }

  // The widget setting as the form has it now.
  draft() {
    const c = this.controls;
    const texts = (inputs) => Object.fromEntries(Object.entries(inputs)
      .map(([code, input]) => [code, input.value.trim()]).filter(([, value]) => value));
    return {
      color: c.color.value, position: c.position.value, greeting: texts(c.greeting), launcher_text: texts(c.launcher),
      prechat_fields: FIELDS.filter((name) => c.prechat[name].value !== "off")
        .map((name) => ({field: name, required: c.prechat[name].value === "required"})),
    };
  }

  showPreview() {
    this.frame.contentWindow?.postMessage({type: PREVIEW, widget: this.draft(), locale: this.previewLocale.value},
                                          window.location.origin);
  }

  showSnippet() {
    const src = new URL(this.embed.script_url, window.location.origin).href;
    const language = this.snippetLocale.value ? ` data-locale="${this.snippetLocale.value}"` : "";  // not UI text
    this.snippet.textContent = `<script type="module" src="${src}" data-widget-key="${this.embed.widget_key}"${language}></script>`;  // not UI text
  }

  async save(event) {
    event.preventDefault();
    this.status.classList.remove("error");
    try {
      await this.api.put("v1/settings", {widget: this.draft(), default_locale: this.controls.defaultLocale.value});
      this.status.textContent = t("console-common.saved");
    } catch (failure) {
      this.status.textContent = failure.message;
      this.status.classList.add("error");
    }
  }
}
