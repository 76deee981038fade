// Form fields of the admin screens (Team, Settings): a labelled control with the place its error
// shows, and a refusal put next to the fields it names. A field's control has the id `id`, its error
// `${id}-error` (linked by aria-describedby), so an error found by the browser or by the server (a 400's
// `details`, by field name) lands in the same place.
import {el} from "./dom.js";

// A .field box: the label, the control (given its id), an optional hint and the error slot.
export function field(id, label, control, hint = null) {
  control.id = id;
  const describedBy = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(" ");
  control.setAttribute("aria-describedby", describedBy);
  return el("div", {class: "field"},
    el("label", {for: id}, label), control,
    hint ? el("span", {id: `${id}-hint`, class: "muted hint"}, hint) : null,
    el("span", {id: `${id}-error`, class: "error field-error"}));
}

// A checkbox with its label after it, and an error slot like field()'s.
export function checkField(id, label, checkbox) {
  checkbox.id = id;
  checkbox.setAttribute("aria-describedby", `${id}-error`);
  return el("div", {class: "field"}, el("label", {class: "check"}, checkbox, label),
    el("span", {id: `${id}-error`, class: "error field-error"}));
}

// Shows `message` under the control `id` (or clears it with ""); returns whether there was a place for it.
export function fieldError(root, id, message) {
  const slot = root.querySelector(`#${CSS.escape(id)}-error`);
  const control = root.querySelector(`#${CSS.escape(id)}`);
  if (!slot) return false;
  slot.textContent = message;
  if (control && message) control.setAttribute("aria-invalid", "true");
  else if (control) control.removeAttribute("aria-invalid");
  return true;
}

export function clearErrors(root) {
  for (const slot of root.querySelectorAll(".field-error")) slot.textContent = "";
  for (const control of root.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
}

// A 400's details ([{field, message}]) under the fields they name: the field `name` is the control
// `${prefix}${name with - for _}`. Returns whether any detail found its field.
export function showFieldRefusals(root, failure, prefix, message) {
  let placed = false;
  for (const detail of failure.details || []) {
    const name = String(detail.field || "").split(".")[0].replaceAll("_", "-");
    placed = fieldError(root, `${prefix}${name}`, message) || placed;
  }
  return placed;
}
