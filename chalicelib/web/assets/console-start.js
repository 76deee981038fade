// The Get started tab (admins; a new owner lands on it after creating the workspace): a checklist
// computed from the workspace as it is (a second agent, opening hours set or deliberately always open,
// an FAQ entry for the bot, the widget styled, a first visitor chat), each item opening the tab that
// does it, and the snippet that puts the widget on the owner's pages. The widget key comes from
// GET /v1/widget-embed; a build without that route falls back to the key this tab signed up with.
import {el, replace} from "./dom.js";
import {format, t} from "./i18n.js";

const SIGNED_UP_WIDGET_KEY = "switchboard.console.signed-up-widget-key";  // not UI text
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];  // not UI text
const WHOLE_DAY = [["00:00", "24:00"]];  // not UI text
// The widget's colour when nobody chose one (storage/settings.py WidgetStyle).
const DEFAULT_WIDGET_COLOR = "#1f5fbf";  // not UI text
const SNIPPET_LOCALES = [["", null], ["en", "English"], ["zh-CN", "简体中文"]];  // not UI text

// The sign-up keeps the widget key for this tab (it is public: every page with the widget shows it).
export function rememberSignedUpWidgetKey(key) {
  sessionStorage.setItem(SIGNED_UP_WIDGET_KEY, key);
}

// Hours set, or every day open all day (the owner's "we are always open", which null only defaults to).
const hoursChosen = (settings) => settings.business_hours !== null && settings.business_hours !== undefined;
const alwaysOpen = (hours) => DAYS.every((day) => JSON.stringify(hours[day]) === JSON.stringify(WHOLE_DAY));

function widgetStyled(widget) {
  if (!widget) return false;  // a build without the widget setting
  return widget.color !== DEFAULT_WIDGET_COLOR || widget.position !== "bottom-right"
    || Object.keys(widget.greeting || {}).length > 0 || Object.keys(widget.launcher_text || {}).length > 0
    || (widget.prechat_fields || []).length > 0;
}

export class GetStarted {
  // hasScreen(tab): whether this console has that tab; openTab(tab): opens it; notify(message): the toast.
  constructor(api, hasScreen, openTab, notify) {
    Object.assign(this, {api, hasScreen, openTab, notify});
    this.snippetLocale = "";
  }

  async draw(main) {
    this.list = el("ol", {id: "start-checklist", class: "checklist"});
    this.progress = el("p", {id: "start-progress", class: "muted", role: "status"});
    this.embed = el("section", {id: "start-embed", class: "start-embed"});  // labelled once its heading is drawn
    replace(main, el("div", {class: "panel", id: "start-screen"},
      el("div", {class: "toolbar"}, el("h2", {}, t("console-start.title")),
         el("button", {type: "button", id: "start-refresh", onclick: () => this.refresh()}, t("console-common.refresh"))),
      el("p", {}, t("console-start.intro")), this.progress, this.list, this.embed));
    await this.refresh();
  }

  async refresh() {
    let agents, settings, faq, conversations, embed;
    try {
      [agents, settings, faq, conversations, embed] = await Promise.all([
        this.api.get("v1/agents"), this.api.get("v1/settings"), this.api.get("v1/faq"),
        this.api.get("v1/conversations"), this.embedKey()]);
    } catch (failure) {
      this.notify(failure.message);
      return;
    }
    const items = [
      {id: "team", tab: "team", done: agents.items.filter((agent) => agent.active).length > 1},
      {id: "hours", tab: "settings", done: hoursChosen(settings),
       extra: hoursChosen(settings) ? null : el("button", {type: "button", id: "start-always-open",
                                                          onclick: () => this.alwaysOpen()},
                                                 t("console-start.always_open"))},
      {id: "faq", tab: "knowledge", done: faq.items.length > 0},
      {id: "widget", tab: "widget", done: widgetStyled(settings.widget)},
      {id: "chat", tab: "conversations", done: conversations.items.length > 0},
    ];
    if (settings.business_hours && alwaysOpen(settings.business_hours)) items[1].note = t("console-start.hours_always_open");
    replace(this.list, items.map((item) => this.item(item)));
    const done = items.filter((item) => item.done).length;
    this.progress.textContent = t("console-start.progress", {done: format.number(done), count: items.length});
    this.showEmbed(embed);
  }

  item({id, tab, done, extra = null, note = null}) {
    const title = `start-${id}-title`;  // not UI text
    return el("li", {id: `start-${id}`, class: done ? "done" : "todo", "data-done": String(done)},
      el("span", {class: "mark", "aria-hidden": "true"}, done ? "✓" : ""),  // not UI text
      el("div", {},
         el("h3", {id: title, tabindex: "-1"}, t(`console-start.${id}_title`),
            el("span", {class: "visually-hidden"}, " ", t(done ? "console-start.done" : "console-start.todo"))),
         el("p", {class: "muted"}, note || t(`console-start.${id}_why`)),
         el("div", {class: "actions"},
            this.hasScreen(tab) ? el("button", {type: "button", id: `start-open-${id}`, "aria-describedby": title,
                                                onclick: () => this.openTab(tab)}, t(`console-start.${id}_action`))
              : null,
            extra)));
  }

  async alwaysOpen() {
    try {
      await this.api.put("v1/settings", {business_hours: Object.fromEntries(DAYS.map((day) => [day, WHOLE_DAY]))});
    } catch (failure) {
      this.notify(failure.message);
      return;
    }
    await this.refresh();
    this.list.querySelector("#start-hours h3").focus();
  }

  // {widget_key, script_url}, or null when neither the API nor this tab knows the key.
  async embedKey() {
    try {
      return await this.api.get("v1/widget-embed");
    } catch (failure) {
      if (failure.status !== 404) throw failure;
    }
    const key = sessionStorage.getItem(SIGNED_UP_WIDGET_KEY);
    return key ? {widget_key: key, script_url: "widget.js"} : null;  // not UI text
  }

  showEmbed(embed) {
    const heading = el("h3", {id: "start-embed-title"}, t("console-start.embed_title"));
    this.embed.setAttribute("aria-labelledby", heading.id);
    if (!embed) {
      replace(this.embed, heading, el("p", {class: "muted"}, t("console-start.embed_unknown")));
      return;
    }
    const code = el("code", {id: "start-snippet", translate: "no"});
    const status = el("p", {id: "start-snippet-status", class: "muted", role: "status"});
    const src = new URL(embed.script_url, document.baseURI).href;  // the API may answer a path ("/widget.js")
    const show = () => {
      const hint = this.snippetLocale ? ` data-locale="${this.snippetLocale}"` : "";
      code.textContent = `<script type="module" src="${src}" data-widget-key="${embed.widget_key}"${hint}></script>`;  // not UI text
    };
    const language = el("select", {id: "start-snippet-locale", onchange: () => {
      this.snippetLocale = language.value;
      show();
    }}, SNIPPET_LOCALES.map(([tag, name]) => (name ? el("option", {value: tag, translate: "no"}, name)
      : el("option", {value: tag}, t("console-start.embed_locale_auto")))));
    language.value = this.snippetLocale;
    show();
    replace(this.embed, heading,
      el("p", {}, t("console-start.embed_why")),
      el("div", {class: "field"}, el("label", {for: "start-snippet-locale"}, t("console-start.embed_locale")), language,
         el("span", {class: "muted hint"}, t("console-start.embed_locale_hint"))),
      el("pre", {class: "snippet"}, code),
      el("div", {class: "actions"},
         el("button", {type: "button", id: "start-snippet-copy", "aria-describedby": "start-snippet", onclick: async () => {
           try {
             await navigator.clipboard.writeText(code.textContent);
             status.textContent = t("console-start.copied");
           } catch (failure) {
             status.textContent = t("console-start.copy_failed");
           }
         }}, t("console-start.copy_snippet")),
         el("a", {id: "start-demo", href: `demo?widget_key=${encodeURIComponent(embed.widget_key)}`,  // not UI text
                  target: "_blank", rel: "noopener"}, t("console-start.try_demo"))),
      status);
  }
}
