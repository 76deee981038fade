// Which roles see which screens of the console. The server checks every call again; this only
// spares a role the screens it would be refused. And the names of roles and presence statuses as
// the console shows them.
import {t} from "./i18n.js";

export const CHATTING_ROLES = new Set(["admin", "supervisor", "agent"]);
export const SUPERVISING_ROLES = new Set(["admin", "supervisor"]);
export const AUDITING_ROLES = new Set(["admin", "compliance"]);
export const STAFF_ROLES = new Set(["admin", "supervisor", "agent", "compliance"]);
export const ADMIN_ROLES = new Set(["admin"]);
export const PRESENCE_STATUSES = ["online", "away", "offline"];

export function roleName(role) {
  const names = {admin: t("console-app.role_admin"), supervisor: t("console-app.role_supervisor"),
                 agent: t("console-app.role_agent"), compliance: t("console-app.role_compliance")};
  return names[role] ?? role;
}

export function presenceName(status) {
  const names = {online: t("console-app.presence_online"), away: t("console-app.presence_away"),
                 offline: t("console-app.presence_offline")};
  return names[status] ?? status;
}
