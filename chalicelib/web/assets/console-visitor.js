// The visitor panel beside the open chat: the visitor's profile, tags and notes (saved with
// PATCH /v1/visitors/{id}) and their past conversations.
import {accessExportControls} from "./console-access-export.js";
import {erasureControls} from "./console-erasure.js";
import {AUDITING_ROLES} from "./console-roles.js";
import {el, replace} from "./dom.js";

// onProfile(profile): called once the profile is read, before the panel is drawn; role: the
// signed-in user's (admins get the right-of-access export, erasure and its receipt).
export async function drawVisitorPanel(panel, visitorId, {api, onProfile, role}) {
  if (!visitorId) { replace(panel); return; }
  let profile;
  try {
    profile = await api.get(`v1/visitors/${encodeURIComponent(visitorId)}`);
  } catch (failure) {
    replace(panel, el("p", {class: "error"}, failure.message));
    return;
  }
  onProfile(profile);
  const tags = el("input", {id: "visitor-tags", value: profile.tags.join(", "), "aria-label": "Tags"});
  const notes = el("textarea", {id: "visitor-notes", rows: 4, maxlength: 2000, value: profile.notes || "", "aria-label": "Notes"});
  const status = el("p", {id: "visitor-saved", class: "muted", role: "status"});
  const save = async () => {
    try {
      const tagList = tags.value.split(",").map((tag) => tag.trim()).filter(Boolean);
      await api.patch(`v1/visitors/${encodeURIComponent(visitorId)}`, {tags: tagList, notes: notes.value});
      status.textContent = "Saved.";
    } catch (failure) {
      status.textContent = failure.message;
    }
  };
  replace(panel,
    el("h2", {}, profile.name || "Anonymous visitor"),
    el("dl", {},
       el("dt", {}, "Email"), el("dd", {id: "visitor-email"}, profile.email || "—"),
       el("dt", {}, "Locale"), el("dd", {}, profile.locale || "—"),
       el("dt", {}, "First seen"), el("dd", {}, new Date(profile.created_at).toLocaleString()),
       ...(profile.user_id ? [el("dt", {}, "Verified user"), el("dd", {id: "visitor-user"}, profile.user_id)] : []),
       // An email match proves nothing: a hint with its id, never that visitor's history.
       ...(profile.possible_match ? [el("dt", {}, "Possible match"), el("dd", {id: "visitor-possible-match"},
         `Unverified: visitor …${profile.possible_match.visitor_id.slice(-6)} gave the same email`)] : [])),
    el("label", {for: "visitor-tags"}, "Tags (comma-separated)"), tags,
    el("label", {for: "visitor-notes"}, "Notes"), notes,
    el("button", {type: "button", id: "visitor-save", onclick: save}, "Save"), status,
    ...(AUDITING_ROLES.has(role) ? accessExportControls(api, () => visitorId) : []),
    ...(AUDITING_ROLES.has(role) ? erasureControls(api, () => visitorId) : []),
    el("h3", {}, "History"),
    el("ul", {id: "visitor-history", class: "history"}, profile.conversations.map((item) =>
      el("li", {}, `${new Date(item.created_at).toLocaleDateString()} · ${item.status}${item.resolution ? ` (${item.resolution})` : ""}`))));
}
