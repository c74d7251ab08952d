"""Offender identifiers, which cases name them, the links between cases and the
clusters those links make.

An identifier row is one normalised identifier, shared by every case that names it
(as a page is shared by every case that reports it): its value is encrypted (it names a
person) and found through ``lookup``, a keyed hash of kind and key.  Links are stored,
not recomputed: finding similar pictures and threat scripts takes an index, so a case
is linked when something about it changes (``linkage/linking.py``) and the case page,
the cluster view and the queue read the rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reclaim.linkage.domain import IdentifierKind, IdentifierSource, LinkReason
from reclaim.storage.base import Base
from reclaim.storage.types import enum_column, utcnow


class OffenderIdentifier(Base):
    """One account, handle, phone, address, payment id or threat text, normalised."""

    __tablename__ = "offender_identifiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[IdentifierKind] = mapped_column(enum_column(IdentifierKind, length=16))
    # HMAC of kind and normalised key (security.lookup_hashes): equal identifiers meet here.
    lookup: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)  # the normalised key, encrypted (FieldCipher)
    platform: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("lookup", name="uq_offender_identifiers_lookup"),)


class CaseIdentifier(Base):
    """A case names an identifier (from one source; several sources give several rows)."""

    __tablename__ = "case_identifiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    identifier_id: Mapped[int] = mapped_column(ForeignKey("offender_identifiers.id"), index=True)
    source: Mapped[IdentifierSource] = mapped_column(enum_column(IdentifierSource, length=16))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    identifier: Mapped[OffenderIdentifier] = relationship()

    __table_args__ = (
        UniqueConstraint(
            "case_id", "identifier_id", "source", name="uq_case_identifiers_case_identifier"
        ),
    )


class ThreatBand(Base):
    """One MinHash band of a threat text (keyed hash): texts sharing a band are
    candidates for the same script, checked exactly before a link is made."""

    __tablename__ = "threat_bands"

    identifier_id: Mapped[int] = mapped_column(
        ForeignKey("offender_identifiers.id"), primary_key=True
    )
    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_threat_bands_band_digest", "band", "digest"),)


class CaseLink(Base):
    """Two cases share something; ``reason`` and ``detail`` say what (never a reporter's
    words or contact: only identifier ids, hash types, distances, hosts, similarity)."""

    __tablename__ = "case_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The pair in order (case_id < other_case_id), so a link is stored once.
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    other_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[LinkReason] = mapped_column(enum_column(LinkReason, length=16))
    # What they share, as a stable key ("identifier:12", "signal:40", "pdq:40:41" ...).
    shared: Mapped[str] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "case_id", "other_case_id", "reason", "shared", name="uq_case_links_pair_shared"
        ),
    )


class ClusterMember(Base):
    """A linked case's cluster (the connected group of linked cases), named by the
    smallest case id in it; ``joined_at``: when the case joined the group."""

    __tablename__ = "cluster_members"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(Integer, index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class LinkRejection(Base):
    """A supervisor said a link is wrong: two cases are not linked (``other_case_id``),
    or a case does not name an identifier (``identifier_id``).  Linking never makes
    that link again; the audit trail keeps who said so and why."""

    __tablename__ = "link_rejections"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    other_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    identifier_id: Mapped[int | None] = mapped_column(ForeignKey("offender_identifiers.id"))
    reason: Mapped[str] = mapped_column(Text)
    rejected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
