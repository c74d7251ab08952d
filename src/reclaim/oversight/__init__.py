"""Oversight: reading the audit trail (search, labels, export) for supervisors and admins."""
