"""Takedown: notices to platforms, their delivery, verification until removal, escalation."""
