"""Staff accounts: users and roles, passwords, TOTP, recovery codes, enrolment, login, sessions."""
