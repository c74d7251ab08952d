"""What people read for the statistics' categories: one label per member, and the
message ids of every table's title and columns (documents, pages and charts alike)."""

from __future__ import annotations

from reclaim.banks.domain import Category
from reclaim.cases.domain import AgeGroup, ReporterRole
from reclaim.documents.words import Labels, _
from reclaim.partners.domain import FeedbackOutcome
from reclaim.referrals.domain import AgencyKind, ReferralStatus
from reclaim.statistics.domain import Channel, MinistryType
from reclaim.takedown.labels import LABELS as TAKEDOWN_LABELS

AGE_GROUP = {
    AgeGroup.UNDER_18: _("Under 18 when the image was taken"),
    AgeGroup.ADULT: _("18 or older when the image was taken"),
    AgeGroup.UNSURE: _("Age when the image was taken not known"),
}
REPORTER = {
    ReporterRole.SELF: _("The person in the image"),
    ReporterRole.GUARDIAN: _("A parent or guardian"),
    ReporterRole.PROFESSIONAL: _("A professional (teacher, social worker)"),
    ReporterRole.OTHER: _("A bystander"),
}
CHANNEL = {
    Channel.HASH_ONLY: _("Hashes only (files stayed on the device)"),
    Channel.URL: _("Web addresses"),
    Channel.EMPTY: _("Neither (a threat described in words)"),
}
MINISTRY_TYPE = {
    MinistryType.SEXUAL_IMAGES: _("Sexual images of a child (art. 2)"),
    MinistryType.GROOMING: _("Grooming of a child (not art. 2 by itself)"),
    MinistryType.ADULT_IMAGES: _("An adult's intimate image (not art. 2)"),
}

CATEGORY = {
    Category.CSAM: _("Child sexual abuse material"),
    Category.SELF_GENERATED_MINOR: _("Self-generated image of a minor"),
    Category.ADULT_NCII: _("Adult intimate image shared without consent"),
    Category.SEXTORTION: _("Sextortion"),
    Category.UNKNOWN: _("Not decided"),
}
FEEDBACK = {
    FeedbackOutcome.REMOVED: _("Removed by the platform"),
    FeedbackOutcome.BLOCKED_UPLOAD: _("Blocked an upload"),
    FeedbackOutcome.NOT_VIOLATING: _("Not violating, the platform says"),
    FeedbackOutcome.PENDING_REVIEW: _("Under review at the platform"),
}

# The referrals' words (the catalog is referrals.po, as on the referral pages).
AGENCY_KIND = {
    AgencyKind.SOCIAL_SERVICES: _("Social services"),
    AgencyKind.POLICE: _("Police"),
    AgencyKind.PROSECUTOR: _("Prosecutor's office"),
    AgencyKind.HOTLINE: _("Another hotline"),
}
REFERRAL_STATUS = {
    ReferralStatus.DRAFT: _("Draft"),
    ReferralStatus.SENT: _("Sent"),
    ReferralStatus.ACKNOWLEDGED: _("Acknowledged"),
    ReferralStatus.ACCEPTED: _("Accepted"),
    ReferralStatus.DECLINED: _("Declined"),
    ReferralStatus.EXPIRED: _("Expired without an answer"),
    ReferralStatus.CANCELLED: _("Cancelled"),
    ReferralStatus.CLOSED: _("Closed"),
}
#: What an agency reported (``referring.OUTCOMES``); "" none yet.
AGENCY_OUTCOME = {
    "will_contact": _("We will contact the reporter"),
    "investigating": _("An investigation is open"),
    "support_given": _("Support was given"),
    "no_action": _("No action"),
}

LABELS = TAKEDOWN_LABELS | Labels(
    AGE_GROUP,
    REPORTER,
    CHANNEL,
    MINISTRY_TYPE,
    CATEGORY,
    FEEDBACK,
    AGENCY_KIND,
    REFERRAL_STATUS,
)

URGENCY = {"urgent": _("Urgent"), "not_urgent": _("Not urgent")}
MEASURE = {"first_look": _("Time to first look"), "decision": _("Time to a decision")}
BANDS = {
    "within_24h": _("Within 24 hours"),
    "24h_to_72h": _("24 to 72 hours"),
    "72h_to_7d": _("3 to 7 days"),
    "over_7d": _("Over 7 days"),
}

#: Table key -> its title (message id).
TITLES = {
    "reports_by_month": _("Reports and cases by month"),
    "cases_by_type_and_month": _("Cases by type and month"),
    "by_type": _("Reports and cases by type of exploitation"),
    "reports_by_age": _("Reports by the victim's age"),
    "reports_by_reporter": _("Reports by who reported"),
    "reports_by_channel": _("Reports by channel"),
    "urgent": _("Urgent cases"),
    "removal_by_platform": _("Removal by platform"),
    "removal_time_bands": _("Time to removal by platform"),
    "hotline_work": _("Hotline work"),
    "bank_entries": _("Hash bank entries"),
    "partner_feedback": _("What platforms reported"),
    "partner_matches": _("What platforms matched"),
    "referrals": _("Referrals by agency and outcome"),
}

#: Column id -> its heading (message id).
COLUMNS = {
    "month": _("Month"),
    "reports": _("Reports"),
    "cases": _("Cases"),
    "classification": _("Type"),
    "ministry_type": _("Ministry category"),
    "age_group": _("Age"),
    "reporter_role": _("Reporter"),
    "channel": _("Channel"),
    "urgent_cases": _("Urgent cases"),
    "urgent_share": _("Urgent share"),
    "platform": _("Platform"),
    "notices": _("Notices"),
    "pages": _("Pages noticed"),
    "removed": _("Pages removed"),
    "partially_removed": _("Partly removed"),
    "refused": _("Refused"),
    "expired": _("Follow-up ended"),
    "media": _("Pictures noticed"),
    "media_removed": _("Pictures removed"),
    "overdue": _("Overdue"),
    "median_hours": _("Median hours"),
    "p90_hours": _("90th percentile hours"),
    "max_hours": _("Longest hours"),
    "removed_with_deadline": _("Removed, with a deadline"),
    "within_deadline": _("Removed within the deadline"),
    "within_deadline_share": _("Share within the deadline"),
    "reuploads": _("Re-uploads"),
    "within_24h": BANDS["within_24h"],
    "24h_to_72h": BANDS["24h_to_72h"],
    "72h_to_7d": BANDS["72h_to_7d"],
    "over_7d": BANDS["over_7d"],
    "measure": _("Measure"),
    "urgency": _("Urgency"),
    "count": _("Count"),
    "bank": _("Bank"),
    "category": _("Category"),
    "added": _("Added"),
    "withdrawn": _("Withdrawn"),
    "outcome": _("Outcome"),
    "signals": _("Signals checked"),
    "signals_matched": _("Signals matched"),
    "videos": _("Videos checked"),
    "videos_matched": _("Videos matched"),
    "agency_kind": _("Agency"),
    "status": _("Status"),
    "agency_outcome": _("Outcome"),
    "referrals": _("Referrals"),
    "mandatory": _("Mandatory (a minor's case)"),
    "mandatory_on_time": _("Mandatory, sent in time"),
}
ALL_PLATFORMS = _("All platforms")
ALL_BANKS = _("All banks")

CHART_TREND = _(
    "Bar chart: cases by type of exploitation for each month from %(first)s to %(last)s; "
    "the table beside it gives the same figures."
)
CHART_REMOVAL = _(
    "Bar chart: for each platform, how many removed pages came down within 24 hours, "
    "24 to 72 hours, 3 to 7 days and after 7 days; the table beside it gives the same "
    "figures."
)
CHART_COMPLIANCE_TITLE = _("Removed within the legal deadline")
CHART_COMPLIANCE = _(
    "Bar chart: for each platform, the percentage of removed pages that came down within "
    "the legal deadline; the table beside it gives the same figures."
)

OTHER_PLATFORMS = _("Other platforms")
PUBLIC_MONTHS = _("Reports by month")
PUBLIC_MONTHS_CHART = _(
    "Bar chart: reports received each month; months with fewer than %(threshold)s reports "
    "are drawn as zero. The table beside it gives the figures."
)

#: The public page's tables (one characteristic each).
PUBLIC_TITLES = {
    "cases_by_type": _("Cases by type of exploitation"),
    "reports_by_age": TITLES["reports_by_age"],
    "reports_by_reporter": TITLES["reports_by_reporter"],
    "reports_by_channel": TITLES["reports_by_channel"],
}
