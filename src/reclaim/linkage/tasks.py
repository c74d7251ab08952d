"""Linkage's background job: link new cases every minute (``arrivals``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from huey import Huey, crontab
from sqlalchemy.orm import Session, sessionmaker

from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock
from reclaim.linkage import arrivals
from reclaim.linkage.identifiers import keys_for
from reclaim.linkage.media_index import MediaPdqIndex
from reclaim.security.field_crypto import field_cipher

LINK_SCHEDULE = {"minute": "*"}


@dataclass(frozen=True, slots=True)
class LinkageTasks:
    link_new_cases: Any


def register(
    huey: Huey,
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    clock: Clock = system_clock,
) -> LinkageTasks:
    # One index per worker process, kept across runs (it follows the signals table).
    media_index = MediaPdqIndex()

    @huey.periodic_task(crontab(**LINK_SCHEDULE), name="reclaim.link_new_cases")  # type: ignore[untyped-decorator]
    def link_new_cases() -> dict[str, int]:
        """Link the cases that arrived since the last run."""
        linked = arrivals.link_new_cases(
            sessions,
            keys=keys_for(field_cipher(settings), settings.secret_bytes),
            media_index=media_index,
            max_distance=settings.match_max_distance,
            clock=clock,
        )
        return {"linked": linked}

    return LinkageTasks(link_new_cases=link_new_cases)
