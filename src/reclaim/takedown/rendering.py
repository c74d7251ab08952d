"""Rendering a notice: email (text and HTML) in the platform's language, and JSON.

The templates live beside this module (``templates/``) and are rendered with
their own Jinja2 environment: notices are documents for platforms, not web pages, so
they do not go through the web layer.  URLs in notices are never made into links.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.cases.domain import Classification
from reclaim.cases.models import Item
from reclaim.config import Settings
from reclaim.takedown.account_notices import cited_cases
from reclaim.takedown.domain import NoticeKind
from reclaim.takedown.models import Notice

TEMPLATES = Path(__file__).parent / "templates"
# Escapes in the .html template only; the plain-text part is not HTML.
_templates = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"], default_for_string=True, default=False),
    undefined=StrictUndefined,
)

CATEGORY = {
    Classification.CSAM: ("Child sexual abuse material", "兒童性剝削內容"),
    Classification.SELF_GENERATED_MINOR: (
        "Intimate image of a minor",
        "未成年人的私密影像",
    ),
    Classification.SYNTHETIC_MINOR: (
        "Sexual image of a child made or altered with AI",
        "以人工智慧生成或變造的兒童性影像",
    ),
    Classification.ADULT_NCII: (
        "Intimate image of an adult shared without consent",
        "未經同意散布的成年人私密影像",
    ),
    Classification.SEXTORTION_THREAT: ("Sexual extortion (sextortion)", "性勒索"),
    Classification.GROOMING: ("Sexual grooming of a child", "對兒童的性誘騙"),
}
SUBJECT = {
    "en": "Removal notice {reference}: {count} page(s), deadline {deadline}",
    "zh_TW": "移除通知 {reference}：{count} 個網頁，期限 {deadline}",
}
#: An account notice names what the account did: extortion, or grooming when that is
#: all its pages were decided as (an account that approached a child and threatened no one).
ACCOUNT_SUBJECT = {
    Classification.SEXTORTION_THREAT: {
        "en": "Account notice {reference}: an account used for sexual extortion, "
        "deadline {deadline}",
        "zh_TW": "帳號通知 {reference}：用於性勒索的帳號，期限 {deadline}",
    },
    Classification.GROOMING: {
        "en": "Account notice {reference}: an account used to groom a child, deadline {deadline}",
        "zh_TW": "帳號通知 {reference}：用於性誘騙兒童的帳號，期限 {deadline}",
    },
}
ACCOUNT_INTRO = {
    Classification.SEXTORTION_THREAT: {
        "en": "The account below is used to threaten a person with their intimate images "
        "(sexual extortion). Please act on the account (suspend it, preserve its data for "
        "the police) without delay.",
        "zh_TW": "下列帳號被用來以私密影像威脅他人（性勒索）。請立即處理該帳號"
        "（停權，並保存資料供警方偵查）。",
    },
    Classification.GROOMING: {
        "en": "The account below is used to approach a child sexually online (grooming: "
        "asking for intimate images or a meeting). Please act on the account (suspend it, "
        "preserve its data for the police) without delay.",
        "zh_TW": "下列帳號被用來在網路上對兒童進行性誘騙（索取私密影像或邀約見面）。"
        "請立即處理該帳號（停權，並保存資料供警方偵查）。",
    },
}
REMINDER = {"en": " (reminder {n})", "zh_TW": "（第 {n} 次提醒）"}
LABELS = {
    "en": {
        "intro": "Please remove or disable access to the content below without delay: "
        "each page, and each picture or video listed under it.",
        "page": "Page",
        "account": "Account",
        "media": "Pictures and videos to remove",
        "posted_by": "Posted by",
        "category": "Category",
        "legal_basis": "Legal basis",
        "deadline": "Deadline",
        "no_forward": "Do not forward this content to anyone except as the law requires. "
        "Keep the related data as evidence.",
        "reply": "Reply by email quoting %s, or resolve the notice through the partner API "
        "(POST /api/v1/notices/%s/resolve). We check each page and picture again until it "
        "is gone.",
        "notifier": "Notifier",
        "email": "Email",
        "phone": "Phone",
        "reference": "Reference",
        "cases": "This account was reported to us in %s cases (our case numbers; what each "
        "reported on your service is listed under it). The reporters' details stay with us.",
        "case": "Case",
    },
    "zh_TW": {
        "intro": "請立即移除或限制瀏覽下列內容：每個網頁，以及列於其下的每張圖片或影片。",
        "page": "網頁",
        "account": "帳號",
        "media": "須移除的圖片及影片",
        "posted_by": "張貼帳號",
        "category": "類別",
        "legal_basis": "法律依據",
        "deadline": "期限",
        "no_forward": "除法律要求外，請勿轉傳上述內容，並請保存相關資料以供偵查。",
        "reply": "回覆時請以電子郵件引用編號 %s，或透過合作夥伴 API"
        "（POST /api/v1/notices/%s/resolve）回報處理結果。"
        "我們會持續檢查各網頁及圖片，直到內容移除為止。",
        "notifier": "通報單位",
        "email": "電子郵件",
        "phone": "電話",
        "reference": "編號",
        "cases": "本中心共收到 %s 件案件通報此帳號"
        "（下列為本中心案件編號，及各案通報的貴平臺內容）。通報人的資料由本中心保管，不隨本通知提供。",
        "case": "案件",
    },
}
WITHIN = {"en": "within {hours} hours of this notice", "zh_TW": "收到本通知後 {hours} 小時內"}


@dataclass(frozen=True, slots=True)
class RenderedNotice:
    language: str
    subject: str
    text: str
    html: str
    document: dict[str, Any]  # the webhook body


def notice_document(session: Session, notice: Notice, settings: Settings) -> dict[str, Any]:
    """The notice as data: the webhook body, and what the templates render."""
    language = notice.language if notice.language in SUBJECT else "en"
    posted_by = _posted_by(session, [page.page_id for page in notice.pages])
    pages = []
    for noticed in notice.pages:
        classification = noticed.classification
        is_minor = classification.involves_minor
        english, chinese = CATEGORY.get(
            classification, (classification.value, classification.value)
        )
        hours = _deadline_hours(notice, classification, settings)
        pages.append(
            {
                "id": noticed.id,
                "url": noticed.page.url,
                "media": [
                    {"id": m.id, "url": m.media.url, "outcome": m.outcome.value}
                    for m in noticed.media
                    if m.media.url and m.media.url != noticed.page.url
                ],
                "posted_by": posted_by.get(noticed.page_id),
                "category": classification.value,
                "category_en": english,
                "category_zh": chinese,
                "legal_basis": _legal_basis(settings, language, is_minor=is_minor),
                "deadline_hours": hours,
                "outcome": noticed.outcome.value,
            }
        )
    return {
        "type": "reclaim.notice",
        "kind": notice.kind.value,
        "id": notice.id,
        "reference": notice.reference,
        "platform": notice.platform.name,
        "status": notice.status.value,
        "language": notice.language,
        "sent_at": _iso(notice.sent_at),
        "deadline": _iso(notice.deadline_at),
        "items": pages,
        # An account notice of a cluster: every case naming the account (numbers and
        # what each reported on this platform; never a reporter's details).
        "cases": [
            {"case": cited.number, "urls": list(cited.urls)}
            for cited in cited_cases(session, notice.id)
        ]
        if notice.kind is NoticeKind.ACCOUNT
        else [],
        "notifier": {
            "name": settings.hotline_name,
            "email": settings.hotline_email or None,
            "phone": settings.hotline_phone or None,
        },
    }


def render_notice(
    session: Session,
    notice: Notice,
    settings: Settings,
    *,
    reminder: int = 0,
    sending_at: datetime | None = None,
) -> RenderedNotice:
    """The notice in its platform's language.  ``sending_at``: when it is being sent
    (its deadline runs from then), for a notice whose deadline is not set yet."""
    language = notice.language if notice.language in SUBJECT else "en"
    document = notice_document(session, notice, settings)
    hours = min((i["deadline_hours"] for i in document["items"]), default=0)
    deadline = deadline_text(notice, hours, settings, language, sending_at=sending_at)
    subjects, label = SUBJECT, LABELS[language]
    if notice.kind is NoticeKind.ACCOUNT:
        conduct = _conduct(notice)
        subjects = ACCOUNT_SUBJECT[conduct]
        label = label | {"account_intro": ACCOUNT_INTRO[conduct][language]}
    subject = subjects[language].format(
        reference=notice.reference, count=len(document["items"]), deadline=deadline
    )
    if reminder:
        subject += REMINDER[language].format(n=reminder)
    context = {
        "n": document,
        "account": notice.kind is NoticeKind.ACCOUNT,
        "hotline": settings.hotline_name,
        "contact": {"email": settings.hotline_email, "phone": settings.hotline_phone},
        "reminder": reminder,
        "language": language,
        "subject": subject,
        "deadline": deadline,
        "label": label,
    }
    text = _templates.get_template(f"notice.{language}.txt").render(context)
    html = _templates.get_template("notice.html").render(context)
    return RenderedNotice(language, subject, text, html, document | {"reminder": reminder})


def deadline_text(
    notice: Notice,
    hours: int,
    settings: Settings,
    language: str,
    *,
    sending_at: datetime | None = None,
) -> str:
    """An absolute deadline in the operator's time zone, with UTC beside it; for a
    preview (not being sent), the relative one."""
    due = notice.deadline_at
    if due is None and sending_at is not None:
        due = sending_at + timedelta(hours=hours)
    if due is None:
        return WITHIN[language].format(hours=hours)
    local = due.astimezone(settings.zone)
    utc = due.astimezone(UTC)
    offset = local.strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}".replace(":00", "")
    return f"{local:%Y-%m-%d %H:%M} ({zone}; {utc:%Y-%m-%d %H:%M} UTC)"


def _conduct(notice: Notice) -> Classification:
    """What an account notice's account did: grooming only if nothing else was decided."""
    if all(page.classification is Classification.GROOMING for page in notice.pages):
        return Classification.GROOMING
    return Classification.SEXTORTION_THREAT


def _deadline_hours(notice: Notice, classification: Classification, settings: Settings) -> int:
    if notice.kind is NoticeKind.ACCOUNT:
        return settings.notice_deadline_hours_account
    if classification.involves_minor:
        return settings.notice_deadline_hours_minor
    return settings.notice_deadline_hours_adult


def _legal_basis(settings: Settings, language: str, *, is_minor: bool) -> str:
    if language == "zh_TW":
        return settings.legal_basis_minor_zh_tw if is_minor else settings.legal_basis_adult_zh_tw
    return settings.legal_basis_minor if is_minor else settings.legal_basis_adult


def _posted_by(session: Session, page_ids: list[int]) -> dict[int, str]:
    """page id -> the posting account an analyst recorded on any item naming it."""
    rows = session.execute(
        select(Item.page_id, Item.posted_by)
        .where(Item.page_id.in_(page_ids), Item.posted_by.is_not(None))
        .order_by(Item.id)
    )
    found: dict[int, str] = {}
    for page_id, account in rows:
        if page_id is not None and account:
            found.setdefault(page_id, account)
    return found


def _iso(moment: Any) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None
