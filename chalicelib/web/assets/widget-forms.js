// The widget's forms and its colours: the pre-chat form (name and email, as the tenant asks), the
// out-of-hours form (name, email, message), the survey after a chat, and the text colour that reads
// on the tenant's colour. Every text is the widget catalog's (widget.json), in the visitor's language.
import {el, replace} from "./dom.js";
import {t} from "./i18n.js";

// WCAG 2.1 relative luminance of "#rrggbb", and the contrast ratio of two luminances.
function luminance(hex) {
  const [r, g, b] = [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

const contrast = (a, b) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);

// Black or white, whichever contrasts more with the tenant's colour (one always reaches 4.5:1 or
// nearly: the worst colour, mid grey, still gives 4.6:1 with black).
export function textOn(hex) {
  const background = luminance(hex);
  return contrast(background, 0) >= contrast(background, 1) ? "#000000" : "#ffffff";  // not UI text
}

let fieldIds = 0;

// A labelled input; `required` false adds "(optional)" to its label.
function field(kind, required, props = {}) {
  fieldIds += 1;
  const id = `sb-${kind}-${fieldIds}`;
  const input = el(kind === "text" ? "textarea" : "input", {
    id, name: kind, required, rows: kind === "text" ? 3 : null, maxlength: kind === "text" ? 4000 : 100,
    type: kind === "email" ? "email" : (kind === "name" ? "text" : null),
    autocomplete: kind === "email" ? "email" : (kind === "name" ? "name" : null), ...props});
  const label = el("label", {for: id}, t(`widget.${kind === "text" ? "offline_text" : kind}`),
                   required ? null : ` ${t("widget.optional")}`);
  return {input, node: el("div", {class: "field"}, label, input)};
}

// What the visitor wrote in the form's name and email fields (left out when empty).
function details(fields) {
  const out = {};
  for (const [name, {input}] of Object.entries(fields)) {
    if (name !== "text" && input.value.trim()) out[name] = input.value.trim();
  }
  return out;
}

// The tenant's pre-chat questions ([{field, required}]); onStart(details) begins the chat.
export function prechatForm(questions, onStart) {
  const fields = Object.fromEntries(questions.map((question) => [question.field, field(question.field, question.required)]));
  return el("form", {class: "prechat", onsubmit: (event) => { event.preventDefault(); onStart(details(fields)); }},
    el("p", {}, t("widget.prechat_intro")), Object.values(fields).map((entry) => entry.node),
    el("button", {type: "submit", class: "primary"}, t("widget.prechat_start")));
}

// Out of hours: the tenant's own offline text (else ours) and a message to leave. onSend(details, text).
// The name is asked as the pre-chat form asks it (optional when it does not); the email always: it is
// how the answer reaches the visitor.
export function offlineForm(offlineMessage, questions, onSend) {
  const nameRequired = questions.some((question) => question.field === "name" && question.required);
  const fields = {name: field("name", nameRequired), email: field("email", true), text: field("text", true)};
  const message = offlineMessage
    ? el("p", {class: "offline-message", translate: "no"}, offlineMessage)
    : el("p", {class: "offline-message"}, t("widget.offline_message"));
  return el("form", {class: "offline", onsubmit: (event) => {
    event.preventDefault();
    onSend(details(fields), fields.text.input.value.trim());
  }}, el("h3", {}, t("widget.offline_title")), message, Object.values(fields).map((entry) => entry.node),
  el("button", {type: "submit", class: "primary"}, t("widget.offline_send")));
}

// The survey the server sends after a close (survey.request). question: the tenant's own, or null for
// ours; submit(body) posts the answer and resolves to the Response.
export function surveyForm(into, question, submit) {
  let rating = 0;
  const comment = el("textarea", {rows: 2, maxlength: 1000, placeholder: t("widget.survey_comment_placeholder"),
                                  "aria-label": t("widget.survey_comment")});
  const stars = [1, 2, 3, 4, 5].map((n) => el("button", {
    type: "button", class: "star", "aria-label": t("widget.survey_rating", {n}), "aria-pressed": "false",
    onclick: () => {
      rating = n;
      stars.forEach((star, i) => {
        star.classList.toggle("chosen", i < n);
        star.setAttribute("aria-pressed", String(i === n - 1));
      });
    }}, String(n)));
  const status = el("p", {class: "survey-status", role: "status"});
  const send = el("button", {type: "button", class: "send-survey primary", onclick: async () => {
    if (!rating) { status.textContent = t("widget.survey_choose"); return; }
    const response = await submit(comment.value.trim() ? {rating, comment: comment.value.trim()} : {rating});
    const done = response.status === 409 || response.status === 410;
    status.textContent = t(response.ok ? "widget.survey_thanks" : (done ? "widget.survey_done" : "widget.error_failed"));
    if (response.ok || done) send.disabled = true;
  }}, t("widget.survey_send"));
  const heading = question ? el("p", {translate: "no"}, question) : el("p", {}, t("widget.survey_question"));
  replace(into, heading, el("div", {class: "stars", role: "group", "aria-label": t("widget.survey_question")}, stars),
          comment, send, status);
  into.hidden = false;
}
