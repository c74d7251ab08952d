"""Pages and media as the unit of truth; notices per page; bank categories

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 08:42:20

A reported URL becomes a page shared by every case that reports it, and every picture
or video a page showed (or a reporter hashed on a device) becomes a media record with
its own hashes; decisions say which media they cover; notices name pages and their
media and belong to no case; banks and their entries carry a category, and hashes an
analyst confirmed move from the single ``confirmed`` bank into the verified bank of
their category (tombstones in ``confirmed`` tell partners where they went).

Existing rows are carried over.  Where the old tables cannot say which picture on a
page a hash belonged to (a page with several fetched pictures), the SHA-256 goes to the
picture with that digest and the other hashes to the most recently fetched picture of
the item; fetching the page for review again rebuilds the exact links.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_DECISION_REF = re.compile(r"decision (\d+)")
_CATEGORY = {
    "csam": "csam",
    "self_generated_minor": "self_generated_minor",
    "adult_ncii": "adult_ncii",
    "sextortion_threat": "sextortion",
}
_VERIFIED_BANK = {
    "csam": "csam",
    "self_generated_minor": "minor-self-generated",
    "adult_ncii": "adult-ncii",
    "sextortion": "sextortion",
}


def upgrade() -> None:
    _create_tables()
    bind = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("page_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("quarantined_media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("media_id", sa.Integer(), nullable=True))
    _pages_from_items(bind, now)
    _media_from_items(bind, now)
    _decision_coverage(bind)
    _notices_per_page(bind)
    _seen_from_audit(bind)
    _bank_categories(bind, now)
    _drop_replaced()
    _finish_columns()


def _create_tables() -> None:
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_pages_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages")),
        sa.UniqueConstraint("url", name=op.f("uq_pages_url")),
    )
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pages_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_fetched_at", sa.DateTime(), nullable=True),
        sa.Column("seen_by_id", sa.Integer(), nullable=True),
        sa.Column("seen_at", sa.DateTime(), nullable=True),
        sa.Column("seen_how", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_media_item_id_items")),
        sa.ForeignKeyConstraint(["page_id"], ["pages.id"], name=op.f("fk_media_page_id_pages")),
        sa.ForeignKeyConstraint(
            ["seen_by_id"], ["users.id"], name=op.f("fk_media_seen_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
        sa.UniqueConstraint("page_id", "url", "sha256", name="uq_media_page_url_sha256"),
    )
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_media_page_id"), ["page_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_media_sha256"), ["sha256"], unique=False)

    op.create_table(
        "media_signals",
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("signal_id", sa.Integer(), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
            name=op.f("fk_media_signals_media_id_media"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["signal_id"], ["signals.id"], name=op.f("fk_media_signals_signal_id_signals")
        ),
        sa.PrimaryKeyConstraint("media_id", "signal_id", name=op.f("pk_media_signals")),
    )
    with op.batch_alter_table("media_signals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_signals_signal_id"), ["signal_id"], unique=False)

    op.create_table(
        "decision_media",
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_decision_media_decision_id_decisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media.id"], name=op.f("fk_decision_media_media_id_media")
        ),
        sa.PrimaryKeyConstraint("decision_id", "media_id", name=op.f("pk_decision_media")),
    )
    with op.batch_alter_table("decision_media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decision_media_media_id"), ["media_id"], unique=False)

    op.create_table(
        "notice_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("classification", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("platform_outcome", sa.String(length=32), nullable=True),
        sa.Column("platform_reason", sa.Text(), nullable=True),
        sa.Column("platform_answered_at", sa.DateTime(), nullable=True),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("checks_done", sa.Integer(), nullable=False),
        sa.Column("next_check_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_notice_pages_notice_id_notices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["page_id"], ["pages.id"], name=op.f("fk_notice_pages_page_id_pages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_pages")),
        sa.UniqueConstraint("notice_id", "page_id", name="uq_notice_pages_notice_page"),
    )
    with op.batch_alter_table("notice_pages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notice_pages_next_check_at"), ["next_check_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_notice_pages_page_id"), ["page_id"], unique=False)

    op.create_table(
        "notice_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_page_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("baseline_sha256", sa.String(length=64), nullable=True),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media.id"], name=op.f("fk_notice_media_media_id_media")
        ),
        sa.ForeignKeyConstraint(
            ["notice_page_id"],
            ["notice_pages.id"],
            name=op.f("fk_notice_media_notice_page_id_notice_pages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_media")),
        sa.UniqueConstraint("notice_page_id", "media_id", name="uq_notice_media_page_media"),
    )
    with op.batch_alter_table("notice_media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_media_media_id"), ["media_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_notice_media_notice_page_id"), ["notice_page_id"], unique=False
        )

    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_page_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("requested_by_id", sa.Integer(), nullable=True))

    op.create_table(
        "media_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("verification_id", sa.Integer(), nullable=False),
        sa.Column("notice_media_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_media_id"],
            ["notice_media.id"],
            name=op.f("fk_media_checks_notice_media_id_notice_media"),
        ),
        sa.ForeignKeyConstraint(
            ["verification_id"],
            ["verifications.id"],
            name=op.f("fk_media_checks_verification_id_verifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_checks")),
    )
    with op.batch_alter_table("media_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_media_checks_notice_media_id"), ["notice_media_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_media_checks_verification_id"), ["verification_id"], unique=False
        )

    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="content")
        )
        batch_op.add_column(sa.Column("subject", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=True))
    with op.batch_alter_table("banks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("verified", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("category", sa.String(length=32), nullable=True))
    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("category", sa.String(length=32), nullable=False, server_default="unknown")
        )
        batch_op.add_column(sa.Column("verified_via", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_reason", sa.String(length=500), nullable=True))


# --- carrying the rows over ------------------------------------------------------------


def _pages_from_items(bind: sa.Connection, now: datetime) -> None:
    rows = bind.execute(
        sa.text("SELECT id, url, platform_id FROM items WHERE url IS NOT NULL ORDER BY id")
    ).all()
    pages: dict[str, int] = {}
    for item_id, reported, platform_id in rows:
        # The page is the URL without its fragment (as cases.pages.page_url says).
        parts = urlsplit(reported)
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
        page_id = pages.get(url)
        if page_id is None:
            page_id = bind.execute(
                sa.text(
                    "INSERT INTO pages (url, platform_id, created_at) "
                    "VALUES (:url, :platform, :now) RETURNING id"
                ),
                {"url": url, "platform": platform_id, "now": now},
            ).scalar_one()
            pages[url] = page_id
        elif platform_id is not None:
            bind.execute(
                sa.text(
                    "UPDATE pages SET platform_id = :platform "
                    "WHERE id = :id AND platform_id IS NULL"
                ),
                {"platform": platform_id, "id": page_id},
            )
        bind.execute(
            sa.text("UPDATE items SET page_id = :page WHERE id = :id"),
            {"page": page_id, "id": item_id},
        )


def _media_from_items(bind: sa.Connection, now: datetime) -> None:
    signals_of: dict[int, list[tuple[int, int | None, str, str]]] = {}
    for item_id, signal_id, quality, kind, value in bind.execute(
        sa.text(
            "SELECT s.item_id, s.signal_id, s.quality, g.type, g.value "
            "FROM item_signals s JOIN signals g ON g.id = s.signal_id"
        )
    ):
        signals_of.setdefault(item_id, []).append((signal_id, quality, kind, value))

    # Files hashed on reporters' devices: one media each, all the item's hashes.
    for item_id, media_kind, created_at in bind.execute(
        sa.text("SELECT id, media_kind, created_at FROM items WHERE kind = 'file'")
    ).all():
        media_id = _insert_media(
            bind,
            page_id=None,
            item_id=item_id,
            origin="device",
            kind=media_kind,
            url=None,
            sha256=None,
            first_seen=created_at,
            fetched=None,
        )
        for signal_id, quality, _kind, _value in signals_of.get(item_id, []):
            _link(bind, media_id, signal_id, quality)

    # Fetched media: one per quarantined object (same page, URL and bytes: one media).
    fetched = bind.execute(
        sa.text(
            "SELECT q.id, q.item_id, i.page_id, q.final_url, q.sha256, q.content_type, "
            "q.fetched_at FROM quarantined_media q JOIN items i ON i.id = q.item_id "
            "ORDER BY q.id"
        )
    ).all()
    media_of_item: dict[int, list[tuple[int, str]]] = {}
    known: dict[tuple[int | None, str, str], int] = {}
    for object_id, item_id, page_id, url, sha256, content_type, fetched_at in fetched:
        key = (page_id, url, sha256)
        found = known.get(key)
        if found is None:
            kind = "video" if str(content_type).startswith("video/") else "image"
            found = _insert_media(
                bind,
                page_id=page_id,
                item_id=None,
                origin="fetched",
                kind=kind,
                url=url,
                sha256=sha256,
                first_seen=fetched_at,
                fetched=fetched_at,
            )
            known[key] = found
        bind.execute(
            sa.text("UPDATE quarantined_media SET media_id = :media WHERE id = :id"),
            {"media": found, "id": object_id},
        )
        media_of_item.setdefault(item_id, []).append((found, sha256))
    for item_id, media in media_of_item.items():
        by_digest = {sha256: media_id for media_id, sha256 in media}
        latest = media[-1][0]
        for signal_id, quality, kind, value in signals_of.get(item_id, []):
            target = by_digest.get(value, latest) if kind == "sha256" else latest
            if len(by_digest) == 1:
                target = latest
            _link(bind, target, signal_id, quality)


def _insert_media(bind: sa.Connection, **values: object) -> int:
    media_id: int = bind.execute(
        sa.text(
            "INSERT INTO media (page_id, item_id, origin, kind, url, sha256, first_seen_at, "
            "last_fetched_at) VALUES (:page_id, :item_id, :origin, :kind, :url, :sha256, "
            ":first_seen, :fetched) RETURNING id"
        ),
        values,
    ).scalar_one()
    return media_id


def _link(bind: sa.Connection, media_id: int, signal_id: int, quality: int | None) -> None:
    exists = bind.execute(
        sa.text("SELECT 1 FROM media_signals WHERE media_id = :m AND signal_id = :s"),
        {"m": media_id, "s": signal_id},
    ).first()
    if exists is None:
        bind.execute(
            sa.text("INSERT INTO media_signals (media_id, signal_id, quality) VALUES (:m, :s, :q)"),
            {"m": media_id, "s": signal_id, "q": quality},
        )


def _decision_coverage(bind: sa.Connection) -> None:
    """A decision made before media existed covered all that its item showed."""
    bind.execute(
        sa.text(
            "INSERT INTO decision_media (decision_id, media_id) "
            "SELECT d.id, m.id FROM decisions d JOIN items i ON i.id = d.item_id "
            "JOIN media m ON (m.page_id = i.page_id OR m.item_id = i.id)"
        )
    )


def _notices_per_page(bind: sa.Connection) -> None:
    rows = bind.execute(
        sa.text(
            "SELECT n.id, n.notice_id, i.page_id, n.classification, n.outcome, "
            "n.platform_outcome, n.platform_reason, n.removed_at, n.baseline_sha256, "
            "n.checks_done, n.next_check_at FROM notice_items n JOIN items i "
            "ON i.id = n.item_id ORDER BY n.id"
        )
    ).all()
    page_row: dict[tuple[int, int], int] = {}
    new_id: dict[int, int] = {}
    for old_id, notice_id, page_id, classification, outcome, p_out, p_reason, removed_at, \
            baseline, checks, next_check in rows:  # fmt: skip
        key = (notice_id, page_id)
        if key not in page_row:
            page_row[key] = bind.execute(
                sa.text(
                    "INSERT INTO notice_pages (notice_id, page_id, classification, outcome, "
                    "platform_outcome, platform_reason, removed_at, checks_done, next_check_at) "
                    "VALUES (:n, :p, :c, :o, :po, :pr, :r, :k, :x) RETURNING id"
                ),
                {
                    "n": notice_id,
                    "p": page_id,
                    "c": classification,
                    "o": outcome,
                    "po": p_out,
                    "pr": p_reason,
                    "r": removed_at,
                    "k": checks,
                    "x": next_check,
                },
            ).scalar_one()
            media_gone = "removed" if outcome in ("removed", "not_found") else "pending"
            for (media_id,) in bind.execute(
                sa.text("SELECT id FROM media WHERE page_id = :p"), {"p": page_id}
            ).all():
                bind.execute(
                    sa.text(
                        "INSERT INTO notice_media (notice_page_id, media_id, outcome, "
                        "baseline_sha256, removed_at) VALUES (:np, :m, :o, :b, :r)"
                    ),
                    {
                        "np": page_row[key],
                        "m": media_id,
                        "o": media_gone,
                        "b": baseline,
                        "r": removed_at if media_gone == "removed" else None,
                    },
                )
        new_id[old_id] = page_row[key]
    for old_id, page_row_id in new_id.items():
        bind.execute(
            sa.text("UPDATE verifications SET notice_page_id = :p WHERE notice_item_id = :o"),
            {"p": page_row_id, "o": old_id},
        )


def _seen_from_audit(bind: sa.Connection) -> None:
    """Media someone looked at (a preview or a reveal in the audit trail) were seen by
    them: the first look counts, an original look upgrades a preview."""
    looks = bind.execute(
        sa.text(
            "SELECT tag, actor_id, details, created_at FROM audit_events "
            "WHERE tag IN ('case:item:previewed', 'case:item:revealed') ORDER BY id"
        )
    ).all()
    for tag, actor_id, details, created_at in looks:
        found = details if isinstance(details, dict) else json.loads(details or "{}")
        copy_id = found.get("media")
        if not isinstance(copy_id, int):
            continue
        how = "original" if tag.endswith("revealed") else "preview"
        media_id = bind.execute(
            sa.text("SELECT media_id FROM quarantined_media WHERE id = :q"), {"q": copy_id}
        ).scalar()
        if media_id is None:
            continue
        bind.execute(
            sa.text(
                "UPDATE media SET seen_by_id = COALESCE(seen_by_id, :who), "
                "seen_at = COALESCE(seen_at, :at), "
                "seen_how = CASE WHEN seen_how IS NULL OR :how = 'original' THEN :how "
                "ELSE seen_how END WHERE id = :m"
            ),
            {"who": actor_id, "at": created_at, "how": how, "m": media_id},
        )


def _bank_categories(bind: sa.Connection, now: datetime) -> None:
    """Analysts' decisions move out of the single ``confirmed`` bank, each to where its
    trust allows: the verified bank of its category when someone saw the picture (the
    audit trail says who), ``unverified`` when nobody did, nowhere when it was only ever
    hashed on a reporter's device (it stays in ``self-reported``).  Each move leaves a
    tombstone in ``confirmed`` that says where the hash went."""
    confirmed = bind.execute(sa.text("SELECT id FROM banks WHERE name = 'confirmed'")).scalar()
    if confirmed is None:
        return
    entries = bind.execute(
        sa.text(
            "SELECT id, signal_id, quality, source_ref FROM bank_entries WHERE bank_id = :b "
            "AND withdrawn_at IS NULL AND source = 'decision' ORDER BY id"
        ),
        {"b": confirmed},
    ).all()
    for entry_id, signal_id, quality, source_ref in entries:
        found = _DECISION_REF.search(source_ref or "")
        decision_id = int(found.group(1)) if found else None
        classification = bind.execute(
            sa.text("SELECT classification FROM decisions WHERE id = :d"), {"d": decision_id}
        ).scalar()
        category = _CATEGORY.get(str(classification))
        if category is None:
            continue
        trust = _trust(bind, decision_id, signal_id)
        if trust == "device":
            target, verified, why = None, False, "hashed on a reporter's device: nobody here saw it"
        elif trust is None:
            target, verified = _bank(bind, "unverified", None, now), False
            why = "nobody at the hotline saw the picture: moved to the unverified bank"
        else:
            target, verified = _bank(bind, _VERIFIED_BANK[category], category, now), True
            why = f"moved to the {_VERIFIED_BANK[category]} bank"
        if target is not None:
            _add_entry(
                bind,
                target,
                signal_id,
                quality=quality,
                category=category,
                verified=verified,
                source_ref=source_ref,
                via=trust,
                now=now,
            )
        (seq,) = _next_feed(bind, 1)
        bind.execute(
            sa.text(
                "UPDATE bank_entries SET withdrawn_at = :now, withdrawn_reason = :why, "
                "category = :c, change_seq = :seq WHERE id = :id"
            ),
            {"now": now, "why": why, "c": category, "seq": seq, "id": entry_id},
        )
    # What stays in ``confirmed`` came from elsewhere (imports): no longer built in, and
    # verified only if every entry left says so.
    unverified_left = bind.execute(
        sa.text(
            "SELECT COUNT(*) FROM bank_entries WHERE bank_id = :b AND withdrawn_at IS NULL "
            "AND verified = :f"
        ),
        {"b": confirmed, "f": False},
    ).scalar()
    bind.execute(
        sa.text("UPDATE banks SET builtin = :f, verified = :v WHERE id = :b"),
        {"f": False, "v": not unverified_left, "b": confirmed},
    )


def _trust(bind: sa.Connection, decision_id: int | None, signal_id: int) -> str | None:
    """Who vouches for this decided hash: "seen by user N" when someone saw a covered
    picture with it, "device" when it only exists as a reporter's hash, else None."""
    rows = bind.execute(
        sa.text(
            "SELECT m.origin, m.seen_by_id FROM media m "
            "JOIN media_signals s ON s.media_id = m.id "
            "JOIN decision_media d ON d.media_id = m.id "
            "WHERE d.decision_id = :d AND s.signal_id = :s"
        ),
        {"d": decision_id, "s": signal_id},
    ).all()
    seen = [who for origin, who in rows if origin == "fetched" and who is not None]
    if seen:
        return f"seen by user {seen[0]} (from the audit trail)"
    if rows and all(origin == "device" for origin, _who in rows):
        return "device"
    return None


def _add_entry(
    bind: sa.Connection,
    bank_id: int,
    signal_id: int,
    *,
    quality: int | None,
    category: str,
    verified: bool,
    source_ref: str | None,
    via: str | None,
    now: datetime,
) -> None:
    existing = bind.execute(
        sa.text("SELECT id FROM bank_entries WHERE bank_id = :b AND signal_id = :s"),
        {"b": bank_id, "s": signal_id},
    ).scalar()
    if existing is not None:
        return
    (seq,) = _next_feed(bind, 1)
    bind.execute(
        sa.text(
            "INSERT INTO bank_entries (bank_id, signal_id, quality, verified, category, "
            "source, source_ref, verified_via, added_at, change_seq) VALUES (:b, :s, :q, "
            ":t, :c, 'decision', :r, :via, :now, :seq)"
        ),
        {
            "b": bank_id,
            "s": signal_id,
            "q": quality,
            "t": verified,
            "c": category,
            "r": source_ref,
            "via": via if verified else None,
            "now": now,
            "seq": seq,
        },
    )


_DESCRIPTIONS = {
    "unverified": "Hashes of pictures an analyst decided on without seeing them (unverified; "
    "they move to their category's bank once someone looks)",
    "csam": "Child sexual abuse material, seen by a hotline analyst (verified)",
    "minor-self-generated": "Minors' self-generated intimate images, seen by a hotline "
    "analyst (verified)",
    "adult-ncii": "Adults' intimate images shared without consent, seen by a hotline analyst "
    "(verified)",
    "sextortion": "Pictures that are part of a sextortion threat, seen by a hotline analyst "
    "(verified)",
}


def _bank(bind: sa.Connection, name: str, category: str | None, now: datetime) -> int:
    bank_id = bind.execute(sa.text("SELECT id FROM banks WHERE name = :n"), {"n": name}).scalar()
    if bank_id is None:
        bank_id = bind.execute(
            sa.text(
                "INSERT INTO banks (name, description, builtin, verified, category, created_at) "
                "VALUES (:n, :d, :t, :v, :c, :now) RETURNING id"
            ),
            {
                "n": name,
                "d": _DESCRIPTIONS[name],
                "t": True,
                "v": category is not None,
                "c": category,
                "now": now,
            },
        ).scalar_one()
    return int(bank_id)


def _next_feed(bind: sa.Connection, count: int) -> tuple[int, ...]:
    """The next ``count`` bank-feed change numbers."""
    current = bind.execute(sa.text("SELECT value FROM counters WHERE name = 'bank_feed'")).scalar()
    if current is None:
        bind.execute(sa.text("INSERT INTO counters (name, value) VALUES ('bank_feed', 0)"))
        current = 0
    bind.execute(
        sa.text("UPDATE counters SET value = :v WHERE name = 'bank_feed'"),
        {"v": current + count},
    )
    return tuple(range(current + 1, current + count + 1))


def _drop_replaced() -> None:
    with op.batch_alter_table("item_signals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_signals_signal_id"))
    op.drop_table("item_signals")
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verifications_notice_item_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_verifications_notice_item_id_notice_items"), type_="foreignkey"
        )
        batch_op.drop_column("notice_item_id")
        batch_op.drop_column("content_sha256")
    with op.batch_alter_table("notice_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_items_item_id"))
        batch_op.drop_index(batch_op.f("ix_notice_items_next_check_at"))
    op.drop_table("notice_items")


def _finish_columns() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_items_platform_id"))
        batch_op.drop_constraint(batch_op.f("fk_items_platform_id_platforms"), type_="foreignkey")
        batch_op.drop_column("platform_id")
        batch_op.create_index(batch_op.f("ix_items_page_id"), ["page_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_items_page_id_pages"), "pages", ["page_id"], ["id"]
        )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.alter_column("kind", server_default=None)
        batch_op.drop_index(batch_op.f("ix_notices_case_id"))
        batch_op.drop_constraint(batch_op.f("fk_notices_case_id_cases"), type_="foreignkey")
        batch_op.drop_column("case_id")
    with op.batch_alter_table("quarantined_media", schema=None) as batch_op:
        batch_op.alter_column("media_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_quarantined_media_media_id"), ["media_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_quarantined_media_media_id_media"), "media", ["media_id"], ["id"]
        )
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.alter_column("notice_page_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_verifications_notice_page_id"), ["notice_page_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_verifications_notice_page_id_notice_pages"),
            "notice_pages",
            ["notice_page_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_verifications_requested_by_id_users"),
            "users",
            ["requested_by_id"],
            ["id"],
        )
    with op.batch_alter_table("banks", schema=None) as batch_op:
        batch_op.alter_column("verified", server_default=None)
    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.alter_column("category", server_default=None)


def downgrade() -> None:
    """Back to items, item signals and notices per case (structure; the per-media
    detail and the category banks' entries do not fit the old tables and are lost)."""
    _restore_item_signals()
    _restore_notice_items()
    _restore_items()


def _restore_item_signals() -> None:
    op.create_table(
        "item_signals",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("signal_id", sa.Integer(), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_item_signals_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["signal_id"], ["signals.id"], name=op.f("fk_item_signals_signal_id_signals")
        ),
        sa.PrimaryKeyConstraint("item_id", "signal_id", name=op.f("pk_item_signals")),
    )
    with op.batch_alter_table("item_signals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_signals_signal_id"), ["signal_id"], unique=False)
    op.execute(
        "INSERT INTO item_signals (item_id, signal_id, quality) "
        "SELECT DISTINCT i.id, s.signal_id, s.quality FROM items i JOIN media m "
        "ON (m.page_id = i.page_id OR m.item_id = i.id) JOIN media_signals s ON s.media_id = m.id"
    )


def _restore_notice_items() -> None:
    op.drop_table("media_checks")
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_verifications_notice_page_id_notice_pages"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_verifications_requested_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_verifications_notice_page_id"))
        batch_op.drop_column("requested_by_id")
        batch_op.drop_column("notice_page_id")
        batch_op.add_column(sa.Column("notice_item_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("content_sha256", sa.String(length=64), nullable=True))
    op.execute("DELETE FROM verifications")
    op.drop_table("notice_media")
    op.drop_table("notice_pages")
    op.execute("DELETE FROM delivery_attempts")
    op.execute("DELETE FROM deliveries")
    op.execute("DELETE FROM notices")
    op.create_table(
        "notice_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("classification", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("platform_outcome", sa.String(length=32), nullable=True),
        sa.Column("platform_reason", sa.Text(), nullable=True),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("baseline_sha256", sa.String(length=64), nullable=True),
        sa.Column("checks_done", sa.Integer(), nullable=False),
        sa.Column("next_check_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_notice_items_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_notice_items_notice_id_notices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_items")),
        sa.UniqueConstraint("notice_id", "item_id", name=op.f("uq_notice_items_notice_item")),
    )
    with op.batch_alter_table("notice_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notice_items_next_check_at"), ["next_check_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_notice_items_item_id"), ["item_id"], unique=False)
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.alter_column("notice_item_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_verifications_notice_item_id"), ["notice_item_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_verifications_notice_item_id_notice_items"),
            "notice_items",
            ["notice_item_id"],
            ["id"],
        )


def _restore_items() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_column("text")
        batch_op.drop_column("subject")
        batch_op.drop_column("kind")
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=False))
        batch_op.create_foreign_key(
            batch_op.f("fk_notices_case_id_cases"), "cases", ["case_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_notices_case_id"), ["case_id"], unique=False)
    with op.batch_alter_table("quarantined_media", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_quarantined_media_media_id_media"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_quarantined_media_media_id"))
        batch_op.drop_column("media_id")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE items SET platform_id = (SELECT platform_id FROM pages WHERE pages.id = "
        "items.page_id)"
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_items_page_id_pages"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_items_page_id"))
        batch_op.drop_column("page_id")
        batch_op.create_foreign_key(
            batch_op.f("fk_items_platform_id_platforms"), "platforms", ["platform_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_items_platform_id"), ["platform_id"], unique=False)
    op.drop_table("decision_media")
    op.drop_table("media_signals")
    op.drop_table("media")
    op.drop_table("pages")
    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_reason")
        batch_op.drop_column("verified_via")
        batch_op.drop_column("category")
    with op.batch_alter_table("banks", schema=None) as batch_op:
        batch_op.drop_column("category")
        batch_op.drop_column("verified")
