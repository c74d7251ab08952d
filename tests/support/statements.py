"""Recognising statements a session runs, for listeners that act at a chosen moment."""

from __future__ import annotations

from sqlalchemy import Select
from sqlalchemy.orm import ORMExecuteState

from reclaim.storage.models import Counter


def reads_the_counter(state: ORMExecuteState) -> bool:
    """Whether the statement about to run is a SELECT from the counters table."""
    statement = state.statement
    return isinstance(statement, Select) and Counter.__table__ in statement.get_final_froms()
