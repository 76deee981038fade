"""Two-factor sign-in for staff: TOTP (RFC 6238) enrolment, recovery codes, remembered devices, the
tenant's mandatory setting, and the second step of a login (docs/security.md, "Two-factor sign-in")."""
