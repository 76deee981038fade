// Keyboard shortcuts of the Conversations screen, and `?`, the dialog that lists them.
// A single key (J, K, ?) would be typed text in a box, so it works only when no text field has the
// focus; the Alt keys are made for use while typing (in the reply box above all) and work everywhere.
// Alt keys are read by their physical key (event.code): with Alt, macOS types "®" for R.
import {el} from "./dom.js";
import {t} from "./i18n.js";

// [action, [the keys of each way to press it]]: each key as shown, and how it matches an event.
const ARROW_DOWN = "↓";  // not UI text
const ARROW_UP = "↑";  // not UI text
export const SHORTCUTS = [
  ["next", [["Alt", ARROW_DOWN], ["J"]]],  // not UI text
  ["previous", [["Alt", ARROW_UP], ["K"]]],  // not UI text
  ["reply", [["Alt", "R"]]],  // not UI text
  ["transfer", [["Alt", "T"]]],  // not UI text
  ["close", [["Alt", "C"]]],  // not UI text
  ["help", [["?"]]],
];
const WITH_ALT = {ArrowDown: "next", ArrowUp: "previous", KeyR: "reply", KeyT: "transfer", KeyC: "close"};
// "？": the question mark a Chinese input method gives.
const ALONE = {j: "next", J: "next", k: "previous", K: "previous", "?": "help", "？": "help"};
const LABELS = {next: () => t("console-shortcuts.next"), previous: () => t("console-shortcuts.previous"),
                reply: () => t("console-shortcuts.reply"), transfer: () => t("console-shortcuts.transfer"),
                close: () => t("console-shortcuts.close"), help: () => t("console-shortcuts.help")};

const typingIn = (target) => target instanceof Element && target.closest("input, textarea, select, [contenteditable]");

// The action an event asks for, or null.
export function actionOf(event) {
  if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.metaKey) return null;
  if (event.altKey) {
    // In a select, Alt+arrows open its list.
    const select = event.target instanceof HTMLSelectElement && event.code.startsWith("Arrow");  // not UI text
    return event.shiftKey || select ? null : WITH_ALT[event.code] || null;
  }
  return typingIn(event.target) ? null : ALONE[event.key] || null;
}

export class Shortcuts {
  // actions: {next, previous, reply, transfer, close}, each a function; active(): whether the
  // screen is shown (the keys do nothing on the other tabs).
  constructor(actions, active) {
    this.actions = {...actions, help: () => this.openHelp()};
    this.active = active;
    this.listener = (event) => this.onKey(event);
    this.dialog = null;
  }

  install() {
    document.addEventListener("keydown", this.listener);
  }

  uninstall() {
    document.removeEventListener("keydown", this.listener);
  }

  onKey(event) {
    if (!this.active() || this.dialog?.open) return;
    const action = actionOf(event);
    if (!action) return;
    event.preventDefault();
    this.actions[action]();
  }

  // The button that opens the list, for those who do not know about `?`.
  button() {
    return el("button", {type: "button", id: "shortcuts-open", class: "link", "aria-haspopup": "dialog",
                         "aria-keyshortcuts": "?", onclick: () => this.openHelp()}, t("console-shortcuts.open"));
  }

  // A modal dialog (Esc closes it, as does its button); the focus goes back where it was.
  openHelp() {
    const returnTo = document.activeElement;
    this.dialog?.remove();
    const keys = (way) => el("span", {class: "keys"},
      way.flatMap((key, index) => [index ? " + " : "", el("kbd", {translate: "no"}, key)]));
    this.dialog = el("dialog", {id: "shortcuts", class: "shortcuts", "aria-labelledby": "shortcuts-title",
                                onclose: () => { this.dialog.remove(); if (returnTo?.isConnected) returnTo.focus(); }},
      el("h2", {id: "shortcuts-title"}, t("console-shortcuts.title")),
      el("p", {class: "muted"}, t("console-shortcuts.intro")),
      el("table", {},
         el("thead", {}, el("tr", {}, el("th", {scope: "col"}, t("console-shortcuts.keys")),
                           el("th", {scope: "col"}, t("console-shortcuts.action")))),
         el("tbody", {}, SHORTCUTS.map(([action, ways]) => el("tr", {"data-action": action},
           el("td", {}, ways.flatMap((way, index) => [index ? ` ${t("console-shortcuts.or")} ` : "", keys(way)])),
           el("td", {}, LABELS[action]()))))),
      el("form", {method: "dialog"}, el("button", {type: "submit", id: "shortcuts-close"}, t("console-shortcuts.dismiss"))));
    document.body.append(this.dialog);
    this.dialog.showModal();
  }
}
