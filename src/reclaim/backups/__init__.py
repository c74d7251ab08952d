"""Backups: a consistent, encrypted copy of the database, the quarantine and the keys
(``taking``), and its restore into an empty installation (``restoring``)."""
