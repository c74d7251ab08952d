"""An operator withdraws hashes from a bank (a wrong hash, a list that was recalled):
by value, with a reason that travels with the tombstones in the hash feed; audited."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.banks.banking import BankError, withdraw_signals
from reclaim.banks.models import Bank
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.signals import InvalidSignalError, Signal

MAX_REASON = 500


@dataclass(slots=True)
class Withdrawal:
    withdrawn: int = 0
    not_active: list[Signal] = field(default_factory=list)


def parse_listed(lines: Iterable[str]) -> tuple[list[Signal], list[str]]:
    """``TYPE VALUE`` or ``TYPE:VALUE`` per line (``#`` comments, blank lines skipped);
    returns the signals and the problems (by line number)."""
    signals: list[Signal] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        kind, _, value = text.replace(":", " ", 1).partition(" ")
        try:
            signals.append(Signal.parse(kind, value))
        except InvalidSignalError as exc:
            problems.append(f"line {number}: {exc}")
    return signals, problems


def withdraw(
    session: Session,
    bank: Bank,
    signals: Iterable[Signal],
    *,
    reason: str,
    actor: audit.Actor,
    clock: Clock = system_clock,
) -> Withdrawal:
    """Withdraw these signals from ``bank`` (tombstones in the feed carry ``reason``)."""
    why = " ".join(reason.split())[:MAX_REASON]
    if not why:
        raise BankError("say why these hashes are withdrawn (partners see the reason)")
    wanted = list(dict.fromkeys(signals))
    withdrawn = withdraw_signals(session, bank, wanted, reason=why, clock=clock)
    gone = {(e.signal.type, e.signal.value) for e in withdrawn}
    outcome = Withdrawal(
        withdrawn=len(withdrawn),
        not_active=[s for s in wanted if (s.type, s.value) not in gone],
    )
    audit.record(
        session,
        AuditTag.SIGNAL_WITHDRAWN,
        actor=actor,
        target=(TargetKind.BANK, bank.id),
        details={"bank": bank.name, "withdrawn": outcome.withdrawn, "reason": why},
        clock=clock,
    )
    return outcome
