"""People: accounts and sign-in, login sessions, departments, HR scope, the audit trail and privacy."""
