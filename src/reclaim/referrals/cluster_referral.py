"""Referring a whole cluster (one offender, many victims) to one agency.

A supervisor refers every case of a linkage cluster (``linkage.clusters``) at once:
each case gets its own referral, sent through ``referring.send``, so each case's
consent is applied on its own (a minor's case goes without the contact and words its
reporter did not consent to; an adult's case without consent is left out and said
so).  The agency then receives ONE evidence package for the cluster (``build``):
every case's part exactly as the single-case package has it (what was shared, the
custody log, the audit events, snapshots and sealed media under ``cases/<number>/``),
plus the cluster itself: the links between the referred cases with their reasons and
the offender identifiers they name.  Signed once; ``reclaim evidence verify`` checks it.

Which referrals form the cluster's package is worked out when it is built: the
delivered referrals to that agency of the cases in the same cluster, one per case
(the newest).  A case referred alone before is then part of it too.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.cases.models import Case
from reclaim.domain.clock import Clock, system_clock
from reclaim.fetching.quarantine import QuarantineStore
from reclaim.linkage import clusters
from reclaim.linkage.domain import IdentifierKind, LinkReason
from reclaim.linkage.identifiers import Keys
from reclaim.linkage.models import CaseIdentifier, CaseLink, OffenderIdentifier
from reclaim.referrals import custody, evidence, referring
from reclaim.referrals.domain import (
    DELIVERED,
    CustodyAction,
    ReferralPolicy,
    ReferralRefused,
    Share,
)
from reclaim.referrals.models import Agency, Referral
from reclaim.referrals.sharing import shared_case
from reclaim.security.field_crypto import FieldCipher
from reclaim.security.signing import SigningKeyring


@dataclass(slots=True)
class ClusterReferral:
    referrals: list[Referral] = field(default_factory=list)
    # Cases not sent, with why (``no_consent``: an adult's case without consent).
    left_out: list[tuple[str, str]] = field(default_factory=list)


def refer_cluster(
    session: Session,
    case: Case,
    agency: Agency,
    shares: Iterable[Share],
    policy: ReferralPolicy,
    *,
    sender_id: int,
    secret: bytes,
    clock: Clock = system_clock,
) -> ClusterReferral:
    """Draft and send one referral per case of ``case``'s cluster to ``agency``."""
    if not agency.email and not agency.webhook_url:
        raise ReferralRefused("no_channel", "the agency has no email or webhook")
    wanted = list(shares)
    actor = audit.Actor.user(sender_id)
    outcome = ClusterReferral()
    members = clusters.cluster_cases(session, case)
    for member in members:
        referral = referring.draft(
            session,
            member,
            agency,
            wanted,
            actor=actor,
            created_by_id=sender_id,
            mandatory=referring.mandatory(session, member),
            clock=clock,
        )
        try:
            referring.send(
                session, referral, policy, sender_id=sender_id, secret=secret, clock=clock
            )
        except ReferralRefused as exc:  # raised before send changes anything
            referring.cancel(session, referral, actor=actor, clock=clock)
            outcome.left_out.append((member.number, exc.code))
            continue
        outcome.referrals.append(referral)
    audit.record(
        session,
        AuditTag.CLUSTER_REFERRED,
        actor=actor,
        target=(TargetKind.CASE, case.id),
        details={
            "cluster": clusters.cluster_id_of(session, case.id) or case.id,
            "agency": agency.id,
            "referrals": [r.id for r in outcome.referrals],
            "left_out": [number for number, _ in outcome.left_out],
        },
        clock=clock,
    )
    return outcome


def cluster_referrals(session: Session, referral: Referral) -> list[Referral]:
    """The delivered referrals to ``referral``'s agency of the cases in its case's
    cluster, one per case (the newest), by case number."""
    members = {c.id: c for c in clusters.cluster_cases(session, referral.case)}
    newest: dict[int, Referral] = {}
    for row in session.scalars(
        select(Referral)
        .where(
            Referral.agency_id == referral.agency_id,
            Referral.case_id.in_(members),
            Referral.status.in_([s.value for s in DELIVERED]),
        )
        .order_by(Referral.id)
    ):
        newest[row.case_id] = row
    return sorted(newest.values(), key=lambda r: members[r.case_id].number)


def cluster_part(session: Session, referrals: list[Referral], keys: Keys) -> dict[str, Any]:
    """The cluster as the agency sees it: only the referred cases, the links between
    them with their reasons, and the offender identifiers they name."""
    numbers = {r.case_id: r.case.number for r in referrals}
    ids = list(numbers)
    naming: dict[int, set[str]] = defaultdict(set)
    found: dict[int, OffenderIdentifier] = {}
    for case_id, row in session.execute(
        select(CaseIdentifier.case_id, OffenderIdentifier)
        .join(OffenderIdentifier, OffenderIdentifier.id == CaseIdentifier.identifier_id)
        .where(CaseIdentifier.case_id.in_(ids))
    ):
        naming[row.id].add(numbers[case_id])
        found[row.id] = row
    values = {row_id: keys.reveal(row) for row_id, row in found.items()}
    links = []
    for link in session.scalars(
        select(CaseLink)
        .where(CaseLink.case_id.in_(ids), CaseLink.other_case_id.in_(ids))
        .order_by(CaseLink.id)
    ):
        entry: dict[str, Any] = {
            "case": numbers[link.case_id],
            "other_case": numbers[link.other_case_id],
            "reason": LinkReason(link.reason).value,
            "detail": link.detail,
        }
        if LinkReason(link.reason) is LinkReason.IDENTIFIER:
            row_id = int(link.detail["identifier"])
            entry["identifier"] = values.get(row_id)
        links.append(entry)
    identifiers: list[dict[str, Any]] = sorted(
        (
            {
                "id": row.id,
                "kind": IdentifierKind(row.kind).value,
                "value": values[row.id],
                "platform": row.platform,
                "cases": sorted(naming[row.id]),
            }
            for row in found.values()
        ),
        key=lambda i: (-len(i["cases"]), i["kind"], i["value"] or ""),
    )
    return {
        "cases": sorted(numbers.values()),
        "links": sorted(links, key=lambda e: (e["case"], e["other_case"], e["reason"])),
        "identifiers": identifiers,
    }


def build(
    session: Session,
    referrals: list[Referral],
    *,
    keys: Keys,
    cipher: FieldCipher,
    store: QuarantineStore,
    keyring: SigningKeyring,
    actor: str,
    actor_id: int | None,
    clock: Clock = system_clock,
) -> evidence.Package:
    """One signed package for the cluster's referred cases; the export is recorded in
    every case's custody log and in the audit trail (per referral)."""
    if not referrals:
        raise ValueError("a cluster package needs at least one referral")
    now = clock()
    files: dict[str, bytes] = {}
    cases = []
    for referral in referrals:
        prefix = f"cases/{referral.case.number}/"
        files.update(evidence.case_files(session, referral, store, prefix))
        cases.append(
            {
                "shared": shared_case(session, referral, cipher=cipher),
                "custody": custody.exported(custody.log(session, referral.case_id)),
                "audit_events": evidence.case_audit_events(session, referral),
            }
        )
    manifest = {
        "format": evidence.CLUSTER_FORMAT,
        "created_at": now.isoformat(timespec="seconds"),
        "agency": referrals[0].agency.name,
        "cluster": cluster_part(session, referrals, keys),
        "cases": cases,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    data, digest, key_id = evidence.sign_and_pack(files, manifest, keyring)
    for referral in referrals:
        custody.append(
            session,
            referral.case_id,
            CustodyAction.EXPORTED,
            actor=actor,
            referral_id=referral.id,
            details={"sha256": digest, "key_id": key_id, "cluster": True},
            clock=clock,
        )
        referral.package_sha256 = digest
        audit.record(
            session,
            AuditTag.EVIDENCE_EXPORTED,
            actor=audit.Actor.user(actor_id) if actor_id else audit.SYSTEM,
            target=(TargetKind.REFERRAL, referral.id),
            details={
                "case": referral.case_id,
                "sha256": digest,
                "files": len(files),
                "cluster_cases": len(referrals),
            },
            clock=clock,
        )
    first = referrals[0]
    return evidence.Package(data, digest, f"evidence-cluster-{first.reference}.zip")
