"""How many reports may be made: per client and by everyone together, per hour.

Thirty reports from one client, each with a fresh form key, would otherwise all be
accepted, and each puts hashes into the self-reported bank that platforms match
against.  Reports are counted in the throttle table (keyed hashes: no address is
stored); a retried submission of a report already made is not counted again.  The
web layer refuses with the advice and the numbers to call, never with a bare error:
a child in a crisis must still see what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.cases.models import Report
from reclaim.config import Settings
from reclaim.intake.submission import idempotency_digest
from reclaim.security.throttle import Check, Limit, Throttle

REPORT_CLIENT_BUCKET = "report-client"
REPORT_ALL_BUCKET = "report-all"
_EVERYONE = "*"


@dataclass(frozen=True, slots=True)
class CreationPolicy:
    per_client: Limit
    overall: Limit

    @classmethod
    def from_settings(cls, settings: Settings) -> CreationPolicy:
        hour = timedelta(hours=1)
        return cls(
            Limit(REPORT_CLIENT_BUCKET, settings.report_max_per_client_per_hour, hour),
            Limit(REPORT_ALL_BUCKET, settings.report_max_per_hour, hour),
        )


def admit(
    session: Session,
    idempotency_key: str,
    *,
    client: str,
    policy: CreationPolicy,
    throttle: Throttle,
) -> datetime | None:
    """Count a new report and return None, or return when reporting opens again.

    A retry (a report with this key exists) is always admitted: its reporter already
    has a case number and must get it back.  The count joins the caller's transaction,
    so a report that is not committed is not counted either.
    """
    digest = idempotency_digest(idempotency_key)
    if session.scalar(select(Report.id).where(Report.idempotency_key == digest)) is not None:
        return None
    checks = [Check(policy.per_client, client), Check(policy.overall, _EVERYONE)]
    until = throttle.locked_until(session, checks)
    if until is not None:
        return until
    throttle.count(session, checks)
    return None
