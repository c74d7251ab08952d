"""Hash banks: the built-in banks and (later) adding, withdrawing and listing signals."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.domain.banks import BUILTIN_BANKS
from reclaim.storage.models import Bank


def ensure_builtin_banks(session: Session) -> list[Bank]:
    """Create `self-reported` and `confirmed` if they are not there yet."""
    banks = []
    for name, description in BUILTIN_BANKS.items():
        bank = session.scalar(select(Bank).where(Bank.name == name))
        if bank is None:
            bank = Bank(name=name, description=description, builtin=True)
            session.add(bank)
        banks.append(bank)
    session.flush()
    return banks
