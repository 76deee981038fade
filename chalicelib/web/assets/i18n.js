// Languages in the browser: the console and the widget show no text of their own, only messages
// from the catalogs (chalicelib/i18n/catalogs/*.json), fetched once per page from
// GET /i18n/{scope}/{locale}. t("namespace.key", {name: ...}) gives one, placeholders filled; a
// plural message ({one, other}) is chosen by params.count with the locale's plural rules.
// Dates, times and numbers go through Intl in the same locale (the `format` helpers below).
export const LOCALES = ["en", "zh-CN"];
const DEFAULT = "en";

let current = DEFAULT;
let catalog = {};

// The first tag Switchboard speaks ("zh", "zh-Hans", "zh-SG" -> zh-CN; "en-GB" -> en), else null.
export function supported(tag) {
  if (!tag) return null;
  const lower = String(tag).toLowerCase().replace("_", "-");
  const language = lower.split("-")[0];
  if (language === "zh") return /-(hant|tw|hk|mo)\b/.test(lower) ? null : "zh-CN";
  return language === "en" ? "en" : null;
}

// The locale to use: the first candidate we speak (null/undefined skipped), else the browser's, else English.
export function pickLocale(...candidates) {
  for (const tag of [...candidates, ...(navigator.languages || [navigator.language])]) {
    const found = supported(tag);
    if (found) return found;
  }
  return DEFAULT;
}

// Loads the catalog of `scope` ("console" or "widget") in the locale picked from `candidates`.
// base: the URL the app is mounted at (the widget runs on other sites' pages).
export async function useLocale(scope, candidates = [], base = document.baseURI) {
  const locale = pickLocale(...candidates);
  const response = await fetch(new URL(`i18n/${scope}/${locale}`, base));
  if (!response.ok) throw new Error(`messages for ${locale}: ${response.status}`);
  catalog = (await response.json()).messages;
  current = locale;
  // The console's page is ours to label; the widget's page belongs to the tenant's site.
  if (scope === "console") document.documentElement.lang = locale;
  return locale;
}

export function locale() {
  return current;
}

export function t(key, params = {}) {
  let message = catalog[key];
  if (message === undefined) {
    console.warn(`missing message ${key}`);
    return key;
  }
  if (typeof message === "object") {
    const category = new Intl.PluralRules(current).select(Number(params.count ?? 0));
    message = message[category] ?? message.other;
  }
  return message.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

const valid = (iso) => {
  const when = iso instanceof Date ? iso : new Date(iso);
  return Number.isNaN(when.getTime()) ? null : when;
};

// Intl formatting in the current locale; a bad date gives "".
export const format = {
  date: (iso, options = {dateStyle: "medium"}) => (valid(iso) ? new Intl.DateTimeFormat(current, options).format(valid(iso)) : ""),
  time: (iso) => format.date(iso, {hour: "2-digit", minute: "2-digit"}),
  dateTime: (iso) => format.date(iso, {dateStyle: "medium", timeStyle: "short"}),
  number: (value, options = {}) => new Intl.NumberFormat(current, options).format(value),
  percent: (ratio) => new Intl.NumberFormat(current, {style: "percent", maximumFractionDigits: 1}).format(ratio),
  duration: (seconds) => new Intl.NumberFormat(current, {style: "unit", unit: seconds >= 60 ? "minute" : "second",
    unitDisplay: "short", maximumFractionDigits: 1}).format(seconds >= 60 ? seconds / 60 : seconds),
};
