"""The audit trail's one table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from reclaim.audit.domain import ActorKind, TargetKind
from reclaim.storage.base import Base
from reclaim.storage.types import enum_column, utcnow


class AuditEvent(Base):
    """One row of the append-only, hash-chained audit trail."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), index=True)
    actor_type: Mapped[ActorKind] = mapped_column(enum_column(ActorKind, length=16))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    target_type: Mapped[TargetKind | None] = mapped_column(enum_column(TargetKind))
    target_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The audit key whose HMAC ``row_hash`` is; NULL on rows from before audit keys.
    key_id: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (Index("ix_audit_events_target", "target_type", "target_id"),)
