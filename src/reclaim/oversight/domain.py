"""Oversight's pure values: what a reader of the audit trail asked to see."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TrailFilter:
    """What the reader asked for, as typed, and what it resolved to."""

    case_number: str = ""
    user_email: str = ""
    tag: str = ""
    case_id: int | None = None
    user_id: int | None = None
    unknown: tuple[str, ...] = ()  # "case", "user", "tag": asked for but not found

    @property
    def is_empty(self) -> bool:
        return not (self.case_number or self.user_email or self.tag)

    def as_details(self) -> dict[str, str]:
        """For the AUDIT_VIEWED / AUDIT_EXPORTED rows: what was looked at."""
        asked = {"case": self.case_number, "user": self.user_email, "tag": self.tag}
        return {name: value for name, value in asked.items() if value}
