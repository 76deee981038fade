// The visitor panel beside the open chat: the visitor's profile, tags and notes (saved with
// PATCH /v1/visitors/{id}) and their past conversations. What the visitor gave (name, email, tags,
// notes) is data, shown as it is (translate="no").
import {accessExportControls} from "./console-access-export.js";
import {statusText} from "./console-chat.js";
import {erasureControls} from "./console-erasure.js";
import {AUDITING_ROLES} from "./console-roles.js";
import {tData} from "./console-text.js";
import {el, replace} from "./dom.js";
import {format, t} from "./i18n.js";

// Tags as typed: commas, Chinese commas (，) or enumeration commas (、) between them.
const TAG_SEPARATORS = /[,，、]/;

// onProfile(profile): called once the profile is read, before the panel is drawn; role: the
// signed-in user's (admins get the right-of-access export, erasure and its receipt); stillWanted():
// false once another conversation was opened while this profile was on its way (keys go fast).
export async function drawVisitorPanel(panel, visitorId, {api, onProfile, role, stillWanted = () => true}) {
  if (!visitorId) { replace(panel); return; }
  let profile;
  try {
    profile = await api.get(`v1/visitors/${encodeURIComponent(visitorId)}`);
  } catch (failure) {
    if (stillWanted()) replace(panel, el("p", {class: "error"}, failure.message));
    return;
  }
  if (!stillWanted()) return;
  onProfile(profile);
  const tags = el("input", {id: "visitor-tags", value: profile.tags.join(", "), translate: "no"});
  const notes = el("textarea", {id: "visitor-notes", rows: 4, maxlength: 2000, value: profile.notes || "", translate: "no"});
  const status = el("p", {id: "visitor-saved", class: "muted", role: "status"});
  const save = async () => {
    try {
      const tagList = tags.value.split(TAG_SEPARATORS).map((tag) => tag.trim()).filter(Boolean);
      await api.patch(`v1/visitors/${encodeURIComponent(visitorId)}`, {tags: tagList, notes: notes.value});
      status.textContent = t("console-common.saved");
    } catch (failure) {
      status.textContent = failure.message;
    }
  };
  replace(panel,
    profile.name ? el("h2", {translate: "no"}, profile.name) : el("h2", {}, t("console-visitor.anonymous")),
    el("dl", {},
       el("dt", {}, t("console-visitor.email")), el("dd", {id: "visitor-email", translate: "no"}, profile.email || "—"),
       el("dt", {}, t("console-visitor.locale")), el("dd", {translate: "no"}, profile.locale || "—"),
       el("dt", {}, t("console-visitor.first_seen")), el("dd", {}, format.dateTime(profile.created_at)),
       ...(profile.user_id ? [el("dt", {}, t("console-visitor.verified_user")),
                              el("dd", {id: "visitor-user", translate: "no"}, profile.user_id)] : []),
       // An email match proves nothing: a hint with its id, never that visitor's history.
       ...(profile.possible_match ? [el("dt", {}, t("console-visitor.possible_match")), el("dd", {id: "visitor-possible-match"},
         tData("console-visitor.possible_match_text", {id: profile.possible_match.visitor_id.slice(-6)}))] : [])),
    el("label", {for: "visitor-tags"}, t("console-visitor.tags")), tags,
    el("label", {for: "visitor-notes"}, t("console-visitor.notes")), notes,
    el("button", {type: "button", id: "visitor-save", onclick: save}, t("console-common.save")), status,
    ...(AUDITING_ROLES.has(role) ? accessExportControls(api, () => visitorId) : []),
    ...(AUDITING_ROLES.has(role) ? erasureControls(api, () => visitorId) : []),
    el("h3", {}, t("console-visitor.history")),
    el("ul", {id: "visitor-history", class: "history"}, profile.conversations.map((item) =>
      el("li", {}, format.date(item.created_at), " · ", statusText(item.status, item.resolution)))));
}
