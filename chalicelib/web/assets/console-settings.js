// The Settings tab (admins): time zone and default language, business hours (always open, or the
// week in console-hours.js), the offline message, the bot, first-response timeout and SLA (and its alert
// emails, docs/alerts.md), the satisfaction survey, retention and the sites allowed to carry the widget.
// Save sends only what changed (PUT /v1/settings), after checking it here; the server's refusals show by field.
import {append, el, replace} from "./dom.js";
import {checkField, clearErrors, field, fieldError, showFieldRefusals} from "./console-form.js";
import {inboundAddressSection} from "./console-email.js";
import {HoursEditor} from "./console-hours.js";
import {format, t} from "./i18n.js";

const PREFIX = "setting-";  // not UI text
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;
const MAX_ORIGINS = 50;
// Each language by its own name: data, shown as it is in every language.
const LANGUAGES = [["en", "English"], ["zh-CN", "简体中文"]];  // not UI text
// The numbers: their bounds are the server's (chalicelib/storage/settings.py).
const NUMBERS = {first_response_timeout_seconds: [5, 86400], sla_first_response_seconds: [1, 86400],
                 survey_delay_seconds: [0, 7 * 86400], retention_days: [1, 3650]};
// The largest attachment, shown in MiB to one decimal (the server's bounds: 1 KiB to 25 MiB).
const MIB = 1024 * 1024;
const ATTACHMENT_MIB = [0.1, 25];
const mib = (bytes) => String(Math.round((bytes / MIB) * 10) / 10);

function timeZones(current) {
  const zones = new Set(typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : []);
  zones.add("UTC").add(current);
  return [...zones].sort();
}

const id = (name) => `${PREFIX}${name.replaceAll("_", "-")}`;

export class Settings {
  // notify(message): the console's toast.
  constructor(api, notify) {
    Object.assign(this, {api, notify});
  }

  async draw(main) {
    this.panel = el("div", {class: "panel", id: "settings-screen"}, el("h2", {}, t("console-settings.title")),
                    el("p", {class: "muted"}, t("console-common.loading")));
    replace(main, this.panel);
    try {
      this.saved = await this.api.get("v1/settings");
    } catch (failure) {
      this.notify(failure.message);
      return;
    }
    this.drawForm();
  }

  drawForm() {
    const s = this.saved;
    const number = (name) => el("input", {type: "number", step: 1, required: true, min: NUMBERS[name][0],
                                           max: NUMBERS[name][1], value: String(s[name])});
    const check = (name) => el("input", {type: "checkbox", checked: s[name]});
    this.controls = {
      timezone: el("select", {translate: "no"}, timeZones(s.timezone).map((zone) => el("option", {value: zone}, zone))),
      default_locale: el("select", {translate: "no"}, LANGUAGES.map(([tag, name]) => el("option", {value: tag}, name))),
      // Empty (null): our own text, in each visitor's language.
      offline_message: el("textarea", {rows: 3, maxlength: 1000, value: s.offline_message,
                                       placeholder: t("console-settings.default_text_placeholder")}),
      bot_enabled: check("bot_enabled"),
      first_response_timeout_seconds: number("first_response_timeout_seconds"),
      sla_first_response_seconds: number("sla_first_response_seconds"),
      sla_alerts_enabled: check("sla_alerts_enabled"),
      survey_enabled: check("survey_enabled"),
      survey_delay_seconds: number("survey_delay_seconds"),
      survey_question: el("input", {type: "text", maxlength: 300, value: s.survey_question,
                                    placeholder: t("console-settings.default_text_placeholder")}),
      retention_days: number("retention_days"),
      attachments_max_bytes: el("input", {type: "number", step: 0.1, required: true, min: ATTACHMENT_MIB[0],
                                          max: ATTACHMENT_MIB[1], value: mib(s.attachments_max_bytes)}),
    };
    this.controls.timezone.value = s.timezone;
    this.controls.default_locale.value = s.default_locale;
    this.alwaysOpen = el("input", {type: "checkbox", checked: s.business_hours === null,
                                   onchange: () => { this.hours.element.hidden = this.alwaysOpen.checked; }});
    this.hours = new HoursEditor(s.business_hours);
    this.hours.element.hidden = this.alwaysOpen.checked;
    this.origins = el("ul", {id: "setting-origins", class: "origins", "aria-labelledby": "origins-label"});
    for (const origin of s.allowed_origins) this.addOrigin(origin, false);
    this.status = el("p", {id: "settings-status", class: "muted", role: "status"});
    this.formError = el("p", {id: "settings-error", class: "error", role: "alert"});
    const c = this.controls;
    const labelled = (name, hint = null) => field(id(name), t(`console-settings.field_${name}`), c[name], hint);
    const checked = (name) => checkField(id(name), t(`console-settings.field_${name}`), c[name]);
    const section = (key, ...children) => el("fieldset", {class: "section"}, el("legend", {}, t(key)), children);
    this.form = el("form", {id: "settings-form", class: "admin-form", novalidate: true,
                            onsubmit: (event) => { event.preventDefault(); this.save(); }},
      section("console-settings.section_general", labelled("timezone", t("console-settings.timezone_hint")),
              labelled("default_locale", t("console-settings.default_locale_hint"))),
      section("console-settings.section_hours",
              checkField(id("always_open"), t("console-settings.field_always_open"), this.alwaysOpen),
              el("p", {class: "muted hint", id: "hours-hint"}, t("console-settings.hours_hint")), this.hours.element,
              el("span", {id: `${id("business_hours")}-error`, class: "error field-error"}),
              labelled("offline_message", t("console-settings.offline_message_hint"))),
      section("console-settings.section_routing", checked("bot_enabled"),
              labelled("first_response_timeout_seconds", t("console-settings.timeout_hint")),
              labelled("sla_first_response_seconds", t("console-settings.sla_hint")),
              checkField(id("sla_alerts_enabled"), t("console-alerts.field_sla_alerts_enabled"), c.sla_alerts_enabled)),
      section("console-settings.section_survey", checked("survey_enabled"),
              labelled("survey_delay_seconds", t("console-settings.survey_delay_hint")), labelled("survey_question")),
      section("console-settings.section_data", labelled("retention_days", t("console-settings.retention_hint")),
              field(id("attachments_max_bytes"), t("console-attachments.field_max_mib"), c.attachments_max_bytes,
                    t("console-attachments.max_mib_hint")),
              el("p", {class: "label", id: "origins-label"}, t("console-settings.field_allowed_origins")),
              el("p", {class: "muted hint", id: "origins-hint"}, t("console-settings.origins_hint")), this.origins,
              el("button", {type: "button", id: "setting-add-origin", onclick: () => this.addOrigin("", true)},
                 t("console-settings.add_origin")),
              el("span", {id: `${id("allowed_origins")}-error`, class: "error field-error"})),
      s.inbound_email_address ? inboundAddressSection(s.inbound_email_address) : null,
      this.formError,
      el("div", {class: "toolbar"}, el("button", {type: "submit", id: "settings-save"}, t("console-common.save")),
         this.status));
    replace(this.panel, el("h2", {}, t("console-settings.title")), this.form);
  }

  addOrigin(value, focus) {
    const input = el("input", {type: "url", class: "origin", value, maxlength: 200, autocomplete: "off", translate: "no",
                               "aria-describedby": `origins-hint ${id("allowed_origins")}-error`});
    const item = el("li", {}, input, el("button", {type: "button", class: "remove-origin", onclick: () => {
      const next = item.nextElementSibling?.querySelector("input") || this.form?.querySelector("#setting-add-origin");
      item.remove();
      this.labelOrigins();
      next?.focus();
    }}, t("console-common.delete")));
    append(this.origins, item);
    this.labelOrigins();
    if (focus) input.focus();
  }

  // Each origin's input and button say which origin they are (by position).
  labelOrigins() {
    [...this.origins.children].forEach((item, index) => {
      item.querySelector("input").setAttribute("aria-label", t("console-settings.origin_number", {number: index + 1}));
      item.querySelector("button").setAttribute("aria-label", t("console-settings.remove_origin", {number: index + 1}));
    });
  }

  // The settings the form holds, and what is wrong with them (field name -> message).
  read() {
    const c = this.controls;
    const errors = {};
    const value = {timezone: c.timezone.value, default_locale: c.default_locale.value,
                   offline_message: c.offline_message.value.trim() || null, bot_enabled: c.bot_enabled.checked,
                   sla_alerts_enabled: c.sla_alerts_enabled.checked,
                   survey_enabled: c.survey_enabled.checked, survey_question: c.survey_question.value.trim() || null};
    for (const [name, [min, max]] of Object.entries(NUMBERS)) {
      value[name] = Number(c[name].value);
      if (c[name].value === "" || !Number.isInteger(value[name]) || value[name] < min || value[name] > max) {
        errors[name] = t("console-settings.error_range", {min: format.number(min), max: format.number(max)});
      }
    }
    const size = c.attachments_max_bytes.value;
    const sizeMib = Number(size);
    // Untouched, it keeps the exact bytes saved (the field shows them rounded).
    value.attachments_max_bytes = size === mib(this.saved.attachments_max_bytes) ? this.saved.attachments_max_bytes
      : Math.round(sizeMib * MIB);
    if (!/^\d+(\.\d)?$/.test(size) || sizeMib < ATTACHMENT_MIB[0] || sizeMib > ATTACHMENT_MIB[1]) {
      errors.attachments_max_bytes = t("console-attachments.error_max_mib",
                                       {min: format.number(ATTACHMENT_MIB[0]), max: format.number(ATTACHMENT_MIB[1])});
    }
    value.allowed_origins = [...this.origins.querySelectorAll("input")].map((input) => input.value.trim().replace(/\/$/, ""))
      .filter(Boolean).map((origin) => origin.toLowerCase());
    if (value.allowed_origins.some((origin) => !ORIGIN.test(origin))) errors.allowed_origins = t("console-settings.error_origin");
    if (value.allowed_origins.length > MAX_ORIGINS) errors.allowed_origins = t("console-settings.error_too_many_origins");
    value.business_hours = this.alwaysOpen.checked ? null : this.hours.value();
    if (!this.alwaysOpen.checked && value.business_hours === null) errors.business_hours = t("console-settings.error_hours");
    return {value, errors};
  }

  async save() {
    clearErrors(this.form);
    this.formError.textContent = "";
    this.status.textContent = "";
    const {value, errors} = this.read();
    for (const [name, message] of Object.entries(errors)) fieldError(this.form, id(name), message);
    if (Object.keys(errors).length) {
      this.form.querySelector("[aria-invalid]")?.focus();
      return;
    }
    const changes = Object.fromEntries(Object.entries(value).filter(([name, now]) =>
      JSON.stringify(now) !== JSON.stringify(this.saved[name])));
    if (!Object.keys(changes).length) {
      this.status.textContent = t("console-settings.nothing_changed");
      return;
    }
    try {
      this.saved = await this.api.put("v1/settings", changes);
    } catch (failure) {
      const placed = failure.status === 400 && showFieldRefusals(this.form, failure, PREFIX, t("console-settings.error_refused"));
      if (!placed) this.formError.textContent = failure.status === 409 ? t("console-settings.error_changed_meanwhile") : failure.message;
      return;
    }
    this.status.textContent = t("console-common.saved");
  }
}
