"""What people read for a case's statuses and an item's classification.

Message ids for the catalogs (``web/translations``), one per member, used by the
console's pages and by documents (through ``reclaim.documents.words.Labels``).
"""

from __future__ import annotations

from reclaim.cases.domain import CaseStatus, Classification, DecisionStatus
from reclaim.documents.words import Labels, _

CASE_STATUS = {
    CaseStatus.NEW: _("New case"),
    CaseStatus.IN_REVIEW: _("In review"),
    CaseStatus.ACTIONED: _("Decided: notices to send"),
    CaseStatus.AWAITING_REMOVAL: _("Awaiting removal"),
    CaseStatus.RESOLVED: _("Resolved case"),
    CaseStatus.NOT_ACTIONABLE: _("Not actionable (case)"),
    CaseStatus.WITHDRAWN: _("Withdrawn by the reporter"),
}

CLASSIFICATION = {
    Classification.CSAM: _("Child sexual abuse material"),
    Classification.SELF_GENERATED_MINOR: _("Intimate image of a minor (self-generated)"),
    Classification.SYNTHETIC_MINOR: _("Sexual image of a minor made or altered with AI"),
    Classification.ADULT_NCII: _("Adult intimate image shared without consent"),
    Classification.SEXTORTION_THREAT: _("Sextortion threat (no content yet)"),
    Classification.GROOMING: _("Grooming of a child (an approach, no image)"),
    Classification.NOT_ACTIONABLE: _("Not actionable (give a reason)"),
    Classification.NEEDS_INFORMATION: _("Needs more information"),
}

DECISION_STATUS = {
    DecisionStatus.RECORDED: _("in force"),
    DecisionStatus.AWAITING_SECOND: _("waiting for a second analyst"),
    DecisionStatus.SUPERSEDED: _("superseded"),
}

LABELS = Labels(CASE_STATUS, CLASSIFICATION, DECISION_STATUS)
