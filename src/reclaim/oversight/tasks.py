"""Oversight's background jobs: anchoring the audit chain with a signed checkpoint, and
sending each checkpoint to the witnesses (retried until they have it)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from huey import Huey, crontab
from sqlalchemy.orm import Session, sessionmaker

from reclaim.config import Settings
from reclaim.delivery import DeliveryError, PermanentDeliveryError, TemporaryDeliveryError
from reclaim.delivery.factory import retry_policy
from reclaim.domain.clock import Clock, system_clock
from reclaim.oversight.checkpoints import take_now
from reclaim.oversight.witness import send_witness, witness_channels

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OversightTasks:
    write_checkpoint: Any
    witness_checkpoint: Any


def register(
    huey: Huey,
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    clock: Clock = system_clock,
) -> OversightTasks:
    schedule = crontab(minute=f"*/{settings.audit_checkpoint_minutes}")
    retry = retry_policy(settings)

    @huey.task(name="reclaim.witness_checkpoint")  # type: ignore[untyped-decorator]
    def witness_checkpoint(document: dict[str, Any], channel: str, attempt: int = 1) -> Any:
        """Send one checkpoint to one witness; on failure, queue the next try with the
        outbox's backoff until the attempts run out."""
        sequence = document["sequence"]
        try:
            send_witness(settings, document, channel, clock=clock)
        except DeliveryError as exc:
            permanent = isinstance(exc, PermanentDeliveryError)
            if permanent or retry.exhausted(attempt):
                log.error(
                    "audit checkpoint %s: %s to the witness failed for good after %s "
                    "attempt(s): %s",
                    sequence,
                    channel,
                    attempt,
                    exc,
                )
                return {"sent": False, "attempt": attempt, "error": str(exc)[:200]}
            delay = retry.delay(attempt, exc if isinstance(exc, TemporaryDeliveryError) else None)
            log.warning(
                "audit checkpoint %s: %s to the witness failed (attempt %s), again in %.0f s: %s",
                sequence,
                channel,
                attempt,
                delay,
                exc,
            )
            witness_checkpoint.schedule((document, channel, attempt + 1), delay=delay)
            return {"sent": False, "attempt": attempt, "retry_in": delay}
        return {"sent": True, "attempt": attempt}

    @huey.periodic_task(schedule, name="reclaim.audit_checkpoint")  # type: ignore[untyped-decorator]
    def write_checkpoint() -> dict[str, Any]:
        """Sign the audit chain's head into the checkpoint directory; queue the witnesses."""
        taken = take_now(sessions, settings, clock=clock)
        if taken is None:
            return {"written": None}
        checkpoint, document, path = taken
        log.info("audit checkpoint %s written to %s", checkpoint.sequence, path)
        channels = witness_channels(settings)
        for channel in channels:
            witness_checkpoint(document, channel)
        return {"written": checkpoint.sequence, "witnesses": channels}

    return OversightTasks(write_checkpoint=write_checkpoint, witness_checkpoint=witness_checkpoint)
