"""Who may open which console route: one table, read by the routes and by the tests.

Every route under /console is named here (by its route name) with the access it
grants: open to anyone (the login and enrolment pages), to a session that has passed
the password but not yet the second factor, or to fully logged-in staff of some
roles.  Routes declare their access with :func:`permitted`, so the table is what is
enforced; ``tests/web/console/test_access.py`` requests every console route of the
app as every role, as a half-logged-in session and anonymously, and fails for a route
that is missing here or that answers differently from what the table says.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from fastapi import Depends

from reclaim.accounts import domain as roles
from reclaim.accounts.domain import Role
from reclaim.web.console.auth import Staff, half_logged_in, require


class Gate(enum.Enum):
    PUBLIC = "public"  # no session needed
    HALF = "half"  # a session past the password, with or without the second factor
    STAFF = "staff"  # a fully logged-in staff member whose role is listed


@dataclass(frozen=True, slots=True)
class Access:
    gate: Gate
    roles: frozenset[Role] = frozenset()

    def allows(self, role: Role) -> bool:
        return self.gate is not Gate.STAFF or role in self.roles


PUBLIC = Access(Gate.PUBLIC)
PASSWORD_PASSED = Access(Gate.HALF)


def staff(*roles: Role) -> Access:
    return Access(Gate.STAFF, frozenset(roles))


EVERY_ROLE = staff(*Role)
SUPERVISORS = staff(Role.SUPERVISOR, Role.ADMIN)
ADMINS = staff(Role.ADMIN)
# Case work: admins manage accounts and see no case content; social workers and police
# liaisons see only what referrals to their agency shared (the console.referred.*
# routes, which check the agency), never a case page by its number.
CASE_WORKERS = staff(*roles.CASE_WORKERS)
CASE_SUPERVISORS = staff(Role.SUPERVISOR)
AGENCY_STAFF = staff(Role.SOCIAL_WORKER, Role.POLICE_LIAISON)

ROUTES: Mapping[str, Access] = MappingProxyType(
    {
        # logging in and out (web/console/login.py)
        "console.login": PUBLIC,
        "console.login.submit": PUBLIC,
        "console.second_factor": PASSWORD_PASSED,
        "console.second_factor.submit": PASSWORD_PASSED,
        "console.logout": PUBLIC,  # ends whatever session the browser has, if any
        # enrolment through a one-time link (web/console/enrolment.py)
        "console.enrol": PUBLIC,
        "console.enrol.password": PUBLIC,
        "console.enrol.authenticator": PUBLIC,
        "console.enrol.authenticator.submit": PUBLIC,
        # one's own account (web/console/accounts.py)
        "console.account": EVERY_ROLE,
        "console.account.password": EVERY_ROLE,
        "console.account.recovery_codes": EVERY_ROLE,
        "console.account.end_session": EVERY_ROLE,
        "console.account.end_all_sessions": EVERY_ROLE,
        # user administration (web/console/users.py)
        "console.users": ADMINS,
        "console.users.create": ADMINS,
        "console.user": ADMINS,
        "console.user.role": ADMINS,
        "console.user.deactivate": ADMINS,
        "console.user.reactivate": ADMINS,
        "console.user.reset": ADMINS,
        "console.user.revoke_sessions": ADMINS,
        # the audit trail (web/console/audit_trail.py)
        "console.audit": SUPERVISORS,
        "console.audit.export_csv": SUPERVISORS,
        "console.audit.export_json": SUPERVISORS,
        # the queue, cases, safe review and decisions (queue.py, cases.py, review.py)
        "console.queue": CASE_WORKERS,
        "console.case": CASE_WORKERS,
        "console.case.claim": CASE_WORKERS,
        "console.case.assign": CASE_SUPERVISORS,
        "console.case.status": CASE_WORKERS,
        "console.case.notes": CASE_WORKERS,
        "console.item.fetch": CASE_WORKERS,
        "console.item.decide": CASE_WORKERS,
        "console.decision.agree": CASE_WORKERS,
        "console.media": CASE_WORKERS,
        "console.media.preview": CASE_WORKERS,
        "console.media.reveal": CASE_WORKERS,
        # takedown: a case's notices, one notice, platforms' answers (notices.py)
        "console.case.notices": CASE_WORKERS,
        "console.case.notices.draft": CASE_WORKERS,
        "console.case.notices.account": CASE_WORKERS,
        "console.item.platform": CASE_WORKERS,
        "console.item.posted_by": CASE_WORKERS,
        "console.notice": CASE_WORKERS,
        "console.notice.send": CASE_SUPERVISORS,
        "console.notice.answer": CASE_SUPERVISORS,
        "console.notice.check": CASE_WORKERS,
        # the dashboard, escalation, the platform directory (takedown.py)
        "console.takedown": CASE_SUPERVISORS,
        "console.takedown.escalation": CASE_SUPERVISORS,
        "console.platforms": CASE_SUPERVISORS,
        "console.platforms.create": CASE_SUPERVISORS,
        "console.platform": CASE_SUPERVISORS,
        "console.platform.update": CASE_SUPERVISORS,
        # the hash banks (banks.py)
        "console.banks": CASE_WORKERS,
        "console.banks.create": CASE_SUPERVISORS,
        "console.bank": CASE_WORKERS,
        "console.bank.withdraw": CASE_SUPERVISORS,
        "console.bank.import": CASE_SUPERVISORS,
        "console.bank.hold.release": CASE_WORKERS,
        # offender identifiers, clusters and search across cases (linkage.py)
        "console.case.identifiers": CASE_WORKERS,
        "console.case.cluster": CASE_SUPERVISORS,
        "console.search": staff(Role.ANALYST, Role.SUPERVISOR),
        # partners and their API keys (partners.py)
        "console.partners": ADMINS,
        "console.partners.create": ADMINS,
        "console.partner.key_create": ADMINS,
        "console.partner.key_revoke": ADMINS,
        # referrals, consent and legal holds: the hotline's side (referrals.py)
        "console.case.referrals": CASE_WORKERS,
        "console.case.referrals.draft": CASE_WORKERS,
        "console.case.consent": CASE_WORKERS,
        "console.case.hold": CASE_SUPERVISORS,
        "console.case.hold.release": CASE_SUPERVISORS,
        "console.referral.send": CASE_SUPERVISORS,
        "console.referral.cancel": CASE_WORKERS,
        # referrals: the agency's side, only its own referrals (referrals.py)
        "console.referred": AGENCY_STAFF,
        "console.referred.case": AGENCY_STAFF,
        "console.referred.package": AGENCY_STAFF,
        "console.referred.answer": AGENCY_STAFF,
        # the one-time answer link from the referral email; the public signing key
        "console.referral_answer": PUBLIC,
        "console.referral_answer.submit": PUBLIC,
        "console.evidence_key": PUBLIC,
        # the agency directory (agencies.py)
        "console.agencies": ADMINS,
        "console.agencies.create": ADMINS,
        "console.agency": ADMINS,
        "console.agency.update": ADMINS,
        "console.agency.member": ADMINS,
        # statistics and the reports for the authority (statistics.py; aggregates only)
        "console.statistics": SUPERVISORS,
        "console.statistics.export": SUPERVISORS,
        "console.statistics.report": SUPERVISORS,
        # a whole cluster referred to police as one package (cluster_referrals.py): the
        # hotline's supervisors send it; agency staff see only what went to their agency
        "console.case.cluster.refer": CASE_SUPERVISORS,
        # one account notice citing every case of a cluster naming the account
        # (cluster_notices.py), and marking a wrong link (linkage.py)
        "console.case.cluster.account_notice": CASE_SUPERVISORS,
        "console.case.link.reject": CASE_SUPERVISORS,
        "console.case.identifier.reject": CASE_SUPERVISORS,
        "console.referred.cluster": AGENCY_STAFF,
        "console.referred.cluster_package": AGENCY_STAFF,
        # the patrol's watched pages (patrol.py; case numbers and addresses)
        "console.patrol": CASE_SUPERVISORS,
        "console.patrol.add": CASE_SUPERVISORS,
        "console.patrol.remove": CASE_SUPERVISORS,
    }
)


def access(route_name: str) -> Access:
    try:
        return ROUTES[route_name]
    except KeyError:
        raise LookupError(
            f"console route {route_name!r} is not in web/console/permissions.py ROUTES"
        ) from None


def may(staff: Staff, route_name: str) -> bool:
    """Whether the table lets this staff member use a route (for links and forms: the
    route itself enforces it)."""
    return access(route_name).allows(staff.role)


def permitted(route_name: str) -> Any:
    """The dependency for a route's ``staff`` parameter, as the table says.

    ``staff: Annotated[Staff, permitted("console.audit")]``
    """
    granted = access(route_name)
    if granted.gate is Gate.HALF:
        return Depends(half_logged_in)
    if granted.gate is Gate.PUBLIC:
        raise ValueError(f"{route_name} is public: it takes no staff parameter")
    return require(*granted.roles)
