// Alerts for an agent who is looking elsewhere: a short tone (made with the Web Audio API, no file to
// fetch) and a desktop notification (the Notification API) for a new assignment, and for a visitor's
// new message while the console's tab is hidden. Each is switched on and off in the Conversations
// screen and remembered in this browser (localStorage). The browser's permission for desktop
// notifications is asked only when the agent ticks the box (a user gesture, as browsers require).
//
// On a shared screen a notification tells who wrote, not what: the message's text is shown only when
// the agent asks for it ("preview").
import {el} from "./dom.js";
import {locale, t} from "./i18n.js";

const STORAGE_KEY = "switchboard.console.alerts";
const DEFAULTS = {desktop: false, sound: true, preview: false};
// Alerts for one conversation closer together than this are one alert: the transcript that follows
// an assignment, or a visitor's burst of short lines, pings once.
const COALESCE_MS = 3000;
// Two short sine notes (Hz), rising: audible, not alarming.
const TONE = [[660, 0], [990, 0.12]];
const NOTE_SECONDS = 0.22;

const canNotify = () => typeof window.Notification === "function";

function loadSettings() {
  try {
    return {...DEFAULTS, ...JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}")};
  } catch (failure) {
    return {...DEFAULTS};
  }
}

export class Alerts {
  constructor() {
    this.settings = loadSettings();
    this.lastAlert = new Map();  // conversation_id -> when its last alert went off (ms)
    this.audio = null;
  }

  save() {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(this.settings));
  }

  // Desktop notifications are on only while the browser allows them too.
  get desktop() {
    return this.settings.desktop && canNotify() && Notification.permission === "granted";
  }

  // The switches, for the Conversations screen.
  controls() {
    const status = el("p", {id: "alerts-status", class: "muted", role: "status"});
    const box = (name, label, onChange, extra = {}) => el("label", {class: "check"},
      el("input", {type: "checkbox", id: `alerts-${name}`, checked: name === "desktop" ? this.desktop : this.settings[name],
                   onchange: (event) => onChange(event.target), ...extra}),
      label);
    const supported = canNotify();
    const controls = el("fieldset", {id: "alerts", class: "alerts"}, el("legend", {}, t("console-notify.alerts")),
      box("desktop", t("console-notify.desktop"), (input) => this.switchDesktop(input, status), {disabled: !supported}),
      box("sound", t("console-notify.sound"), (input) => this.switchSetting("sound", input.checked)),
      box("preview", t("console-notify.preview"), (input) => this.switchSetting("preview", input.checked)),
      status);
    if (!supported) status.textContent = t("console-notify.unsupported");
    return controls;
  }

  switchSetting(name, on) {
    this.settings[name] = on;
    this.save();
    if (name === "sound" && on) this.tone();  // what it will sound like (and the gesture that unlocks audio)
  }

  async switchDesktop(input, status) {
    status.textContent = "";
    if (input.checked && Notification.permission !== "granted") {
      const answer = await Notification.requestPermission();
      if (answer !== "granted") {
        input.checked = false;
        status.textContent = t("console-notify.blocked");
        return;
      }
    }
    this.switchSetting("desktop", input.checked);
  }

  // A conversation was given to me. name: the visitor's; open(): shows it.
  assigned(conversationId, name, open) {
    this.alert(conversationId, t("console-notify.assigned_title"), t("console-notify.assigned_body", {name}), open);
  }

  // A visitor wrote in one of my conversations: an alert only while the tab is hidden.
  message(conversationId, name, text, open) {
    if (!document.hidden) return;
    const body = this.settings.preview && text ? text : t("console-notify.message_hidden");
    this.alert(conversationId, t("console-notify.message_title", {name}), body, open);
  }

  alert(conversationId, title, body, open) {
    const now = Date.now();
    if (now - (this.lastAlert.get(conversationId) || 0) < COALESCE_MS) return;
    this.lastAlert.set(conversationId, now);
    if (this.settings.sound) this.tone();
    if (!this.desktop) return;
    // One notification per conversation on screen (the tag replaces the older one); silent, as the
    // tone above is the sound, and only when the agent wants one.
    const notification = new Notification(title, {body, tag: `switchboard-${conversationId}`, lang: locale(),
                                                   silent: true});
    notification.onclick = () => {
      window.focus();
      open();
      notification.close();
    };
  }

  tone() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    this.audio = this.audio || new Context();
    // Suspended until the page has had a user gesture (autoplay rules); any click or key since counts.
    if (this.audio.state === "suspended") this.audio.resume().catch(() => {});
    const start = this.audio.currentTime;
    for (const [frequency, delay] of TONE) {
      const oscillator = new OscillatorNode(this.audio, {type: "sine", frequency});
      const gain = new GainNode(this.audio, {gain: 0.0001});
      gain.gain.setValueAtTime(0.0001, start + delay);
      gain.gain.exponentialRampToValueAtTime(0.2, start + delay + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + delay + NOTE_SECONDS);
      oscillator.connect(gain).connect(this.audio.destination);
      oscillator.start(start + delay);
      oscillator.stop(start + delay + NOTE_SECONDS);
    }
  }
}
