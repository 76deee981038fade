// The console's language: the agent's own setting (agent.locale, PATCH /v1/me), else the one last
// picked in this browser (the sign-in form's picker, the Account tab's), else the browser's. A change
// loads that catalog (i18n.js sets <html lang>); the caller redraws what it shows.
import {el} from "./dom.js";
import {LOCALES, locale, pickLocale, t, useLocale} from "./i18n.js";
import {savedLanguage} from "./console-session.js";

// Each language named in itself, whatever the console's language.
const NAMES = {en: "English", "zh-CN": "简体中文"};  // not UI text
let loaded = false;

// Loads the catalog the agent (agentLocale: theirs, or null) should see, unless it is the one loaded.
export async function useConsoleLocale(agentLocale) {
  const wanted = pickLocale(agentLocale, savedLanguage());
  if (!loaded || wanted !== locale()) {
    await useLocale("console", [wanted]);
    loaded = true;
  }
}

// A labelled language select: onChange(tag) gets "en", "zh-CN", or null for "the browser's" (offered
// with followBrowser). value: the tag selected now (null: the browser's).
export function languagePicker(id, value, onChange, followBrowser = false) {
  const select = el("select", {id, onchange: () => onChange(select.value || null)},
    followBrowser ? el("option", {value: ""}, t("console-app.language_browser")) : null,
    LOCALES.map((tag) => el("option", {value: tag, lang: tag, translate: "no"}, NAMES[tag])));
  select.value = value || "";
  return [el("label", {for: id}, t("console-app.language")), select];
}
