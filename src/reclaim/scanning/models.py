"""Patrol tables: pages watched for re-uploads, and what the patrol found on them.

A watched page (a board, a user's page, a search result) is on a platform that hosted
confirmed content in a case; the patrol re-fetches it on a schedule.  Each re-upload it
finds is a new item of that case, recorded here (what makes the item a "re-upload").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reclaim.cases.models import Case, Item
from reclaim.storage.base import Base
from reclaim.storage.types import utcnow


class WatchedPage(Base):
    """A page the patrol re-fetches, tied to the case whose content it hosted."""

    __tablename__ = "watched_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(255), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platforms.id"))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]
    last_run_at: Mapped[datetime | None]
    last_problem: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship()


class PatrolFind(Base):
    """A re-upload: the item the patrol added to the case, and the notice it drafted."""

    __tablename__ = "patrol_finds"

    id: Mapped[int] = mapped_column(primary_key=True)
    watch_id: Mapped[int] = mapped_column(ForeignKey("watched_pages.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), unique=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id"))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))
    bank: Mapped[str] = mapped_column(String(64))
    found_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[Item] = relationship()
