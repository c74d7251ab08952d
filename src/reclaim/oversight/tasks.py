"""Oversight's background job: anchoring the audit chain with a signed checkpoint."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from huey import Huey, crontab
from sqlalchemy.orm import Session, sessionmaker

from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock
from reclaim.oversight.checkpoints import checkpoint_now

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OversightTasks:
    write_checkpoint: Any


def register(
    huey: Huey,
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    clock: Clock = system_clock,
) -> OversightTasks:
    schedule = crontab(minute=f"*/{settings.audit_checkpoint_minutes}")

    @huey.periodic_task(schedule, name="reclaim.audit_checkpoint")  # type: ignore[untyped-decorator]
    def write_checkpoint() -> dict[str, Any]:
        """Sign the audit chain's head into the checkpoint directory (and to witnesses)."""
        taken = checkpoint_now(sessions, settings, clock=clock)
        if taken is None:
            return {"written": None}
        checkpoint, path, problems = taken
        log.info("audit checkpoint %s written to %s", checkpoint.sequence, path)
        return {"written": checkpoint.sequence, "witness_problems": problems}

    return OversightTasks(write_checkpoint=write_checkpoint)
