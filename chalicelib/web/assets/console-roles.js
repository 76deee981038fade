// Which roles see which screens of the console. The server checks every call again; this only
// spares a role the screens it would be refused.
export const CHATTING_ROLES = new Set(["admin", "supervisor", "agent"]);
export const SUPERVISING_ROLES = new Set(["admin", "supervisor"]);
export const AUDITING_ROLES = new Set(["admin", "compliance"]);
export const STAFF_ROLES = new Set(["admin", "supervisor", "agent", "compliance"]);
export const ADMIN_ROLES = new Set(["admin"]);
