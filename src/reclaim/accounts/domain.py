"""Staff roles."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    ANALYST = "analyst"
    SUPERVISOR = "supervisor"
    SOCIAL_WORKER = "social_worker"
    POLICE_LIAISON = "police_liaison"
    ADMIN = "admin"
