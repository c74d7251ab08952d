"""Storage's own table: named counters.  Feature tables live in their packages
(``reclaim/<feature>/models.py``); ``reclaim.migrations.schema`` gathers them."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from reclaim.storage.base import Base


class Counter(Base):
    """Named monotonic counters, incremented under a row lock.

    The hash feed's ``change_seq`` comes from here rather than from an autoincrement
    column: a writer holds the counter's row lock until it commits, so sequence numbers
    become visible in order and a partner paging by cursor never skips a change that
    committed late.
    """

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
