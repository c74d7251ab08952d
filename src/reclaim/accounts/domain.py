"""Staff roles."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    ANALYST = "analyst"
    SUPERVISOR = "supervisor"
    SOCIAL_WORKER = "social_worker"
    POLICE_LIAISON = "police_liaison"
    ADMIN = "admin"


#: The roles that work cases: triage, review, decide, notice.
CASE_WORKERS = frozenset({Role.ANALYST, Role.SUPERVISOR})
