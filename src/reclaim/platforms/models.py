"""The platform directory: who hosts what, and how to reach them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reclaim.storage.base import Base
from reclaim.storage.types import utcnow


class Platform(Base):
    """A service that hosts content and receives notices."""

    __tablename__ = "platforms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    abuse_email: Mapped[str | None] = mapped_column(String(254))
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    webhook_secret: Mapped[str | None] = mapped_column(String(255))  # encrypted
    jurisdiction: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="en")
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    domains: Mapped[list[PlatformDomain]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="PlatformDomain.domain"
    )


class PlatformDomain(Base):
    """A domain a platform serves; hosts match it by suffix (a.b.example.com → example.com)."""

    __tablename__ = "platform_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253), unique=True)

    platform: Mapped[Platform] = relationship(back_populates="domains")
