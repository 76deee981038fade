// The business-hours editor of the Settings tab: a row per weekday holding its opening ranges ("from"
// and "to" as HH:MM, 24:00 being the midnight that ends the day), added and removed with buttons. Every
// control is a labelled input or button in reading order, so the whole editor works from the keyboard;
// focus follows what was added or removed. value() gives the setting ({mon: [["09:00", "17:30"]], ...,
// sun: []}) when every range is sound, else null with each fault shown on its day.
import {el, replace} from "./dom.js";
import {format, t} from "./i18n.js";

export const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MAX_RANGES = 12;  // the server's limit per day
const TIME = /^(\d{1,2}):?(\d{2})$/;
const A_MONDAY = Date.UTC(2024, 0, 1);  // to name the weekdays in the console's language
const DAY_MS = 24 * 60 * 60 * 1000;

export function dayName(day) {
  return format.date(new Date(A_MONDAY + DAYS.indexOf(day) * DAY_MS), {weekday: "long", timeZone: "UTC"});
}

// "9:00", "0900" and "09:00" all mean 09:00; anything else (or past 24:00) is null.
export function normalTime(text) {
  const match = TIME.exec(text.trim());
  if (!match) return null;
  const [hours, minutes] = [Number(match[1]), Number(match[2])];
  if (minutes > 59 || hours > 24 || (hours === 24 && minutes)) return null;
  return `${String(hours).padStart(2, "0")}:${match[2]}`;
}

export class HoursEditor {
  // hours: the setting's week ({mon: [[from, to]], ...}); a missing day is closed.
  constructor(hours) {
    this.lists = {};
    this.element = el("div", {id: "hours-editor", class: "hours"}, DAYS.map((day) => this.dayRow(day, hours?.[day] ?? [])));
  }

  dayRow(day, ranges) {
    this.lists[day] = el("ul", {class: "ranges", id: `hours-${day}-ranges`});
    const row = el("fieldset", {class: "day", "data-day": day, "aria-describedby": `hours-${day}-error`},
      el("legend", {}, dayName(day)), this.lists[day],
      el("button", {type: "button", class: "add-range", id: `hours-${day}-add`, onclick: () => this.add(day)},
         t("console-settings.hours_add_range")),
      el("span", {id: `hours-${day}-error`, class: "error field-error"}));
    this.drawDay(day, ranges);
    return row;
  }

  drawDay(day, ranges) {
    const name = dayName(day);
    const items = ranges.map(([from, to], index) => {
      const number = index + 1;
      const input = (end, value) => el("input", {
        type: "text", class: `time ${end}`, id: `hours-${day}-${index}-${end}`, value, size: 5, maxlength: 5,
        autocomplete: "off", placeholder: t("console-settings.hours_time_placeholder"),
        "aria-label": t(`console-settings.hours_${end}`, {day: name, number}),
        "aria-describedby": `hours-${day}-error`});
      return el("li", {class: "range"}, input("from", from), el("span", {"aria-hidden": "true"}, "–"), input("to", to),
        el("button", {type: "button", class: "remove-range", onclick: () => this.remove(day, index),
                      "aria-label": t("console-settings.hours_remove_range", {day: name, number})}, "×"));
    });
    replace(this.lists[day], items.length ? items : el("li", {class: "closed muted"}, t("console-settings.hours_closed")));
  }

  // The day's ranges as typed (not yet checked).
  typed(day) {
    return [...this.lists[day].querySelectorAll("li.range")].map((item) =>
      [item.querySelector("input.from").value, item.querySelector("input.to").value]);
  }

  add(day) {
    const ranges = this.typed(day);
    if (ranges.length >= MAX_RANGES) {
      this.showError(day, t("console-settings.hours_too_many", {count: MAX_RANGES}));
      return;
    }
    // A new range starts where the last one ended (or at a working day's usual start).
    const start = ranges.length ? normalTime(ranges[ranges.length - 1][1]) ?? "" : "09:00";
    this.drawDay(day, [...ranges, [start, ""]]);
    this.lists[day].querySelector(`#hours-${day}-${ranges.length}-${ranges.length ? "to" : "from"}`).focus();
  }

  remove(day, index) {
    const ranges = this.typed(day).filter((_, at) => at !== index);
    this.drawDay(day, ranges);
    this.showError(day, "");
    const left = this.lists[day].querySelectorAll("button.remove-range");
    (left[Math.min(index, left.length - 1)] || this.element.querySelector(`#hours-${day}-add`)).focus();
  }

  showError(day, message) {
    this.element.querySelector(`#hours-${day}-error`).textContent = message;
    for (const input of this.lists[day].querySelectorAll("input")) {
      if (message) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
  }

  // The week as the setting holds it, or null when a day has a fault (shown there, focus on the first).
  value() {
    const week = {};
    let firstFault = null;
    for (const day of DAYS) {
      const ranges = this.typed(day).map(([from, to]) => [normalTime(from), normalTime(to)]);
      const fault = dayFault(ranges);
      this.showError(day, fault ? t(`console-settings.hours_${fault}`) : "");
      if (fault) firstFault ??= day;
      week[day] = fault ? [] : ranges.sort((a, b) => a[0].localeCompare(b[0]));
    }
    if (firstFault) {
      this.lists[firstFault].querySelector("input")?.focus();
      return null;
    }
    return week;
  }
}

// What is wrong with a day's ranges (a catalog key's end), or null.
function dayFault(ranges) {
  if (ranges.some(([from, to]) => !from || !to || from === "24:00")) return "bad_time";
  if (ranges.some(([from, to]) => from >= to)) return "ends_before_start";
  const sorted = [...ranges].sort((a, b) => a[0].localeCompare(b[0]));
  return sorted.some(([from], index) => index && from < sorted[index - 1][1]) ? "overlap" : null;
}
