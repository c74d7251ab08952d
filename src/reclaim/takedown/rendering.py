"""Rendering a notice: email (text and HTML) in the platform's language, and JSON.

The templates live beside this module (``templates/``) and are rendered with
their own Jinja2 environment: notices are documents for platforms, not web pages, so
they do not go through the web layer.  URLs in notices are never made into links.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.cases.domain import Classification
from reclaim.cases.models import QuarantinedMedia
from reclaim.config import Settings
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
    Classification.ADULT_NCII: (
        "Intimate image of an adult shared without consent",
        "未經同意散布的成年人私密影像",
    ),
}
SUBJECT = {
    "en": "Removal notice {reference}: {count} item(s), deadline {hours} h",
    "zh_TW": "移除通知 {reference}：{count} 項內容，期限 {hours} 小時",
}
REMINDER = {"en": " (reminder {n})", "zh_TW": "（第 {n} 次提醒）"}
LABELS = {
    "en": {
        "intro": "Please remove or disable access to the content below without delay.",
        "page": "Page",
        "media": "Media",
        "posted_by": "Posted by",
        "category": "Category",
        "legal_basis": "Legal basis",
        "deadline": "Deadline",
        "hours": "within %s hours",
        "reply": "Reply quoting %s, or resolve the notice through the partner API.",
        "reference": "Reference",
    },
    "zh_TW": {
        "intro": "請立即移除或限制瀏覽下列內容。",
        "page": "網頁",
        "media": "媒體檔",
        "posted_by": "張貼帳號",
        "category": "類別",
        "legal_basis": "法律依據",
        "deadline": "期限",
        "hours": "%s 小時內",
        "reply": "回覆時請引用編號 %s，或透過合作夥伴 API 回報處理結果。",
        "reference": "編號",
    },
}


@dataclass(frozen=True, slots=True)
class RenderedNotice:
    language: str
    subject: str
    text: str
    html: str
    document: dict[str, Any]  # the webhook body


def notice_document(session: Session, notice: Notice, settings: Settings) -> dict[str, Any]:
    """The notice as data: the webhook body, and what the templates render."""
    media = {
        m.item_id: m.final_url
        for m in session.scalars(
            select(QuarantinedMedia).where(
                QuarantinedMedia.item_id.in_([i.item_id for i in notice.items])
            )
        )
    }
    minor_hours = settings.notice_deadline_hours_minor
    items = []
    for notice_item in notice.items:
        classification = notice_item.classification
        is_minor = classification.involves_minor
        english, chinese = CATEGORY.get(
            classification, (classification.value, classification.value)
        )
        url = notice_item.item.url or ""
        items.append(
            {
                "id": notice_item.id,
                "url": url,
                "media_url": media.get(notice_item.item_id)
                if media.get(notice_item.item_id) != url
                else None,
                "posted_by": notice_item.item.posted_by,
                "category": classification.value,
                "category_en": english,
                "category_zh": chinese,
                "legal_basis": settings.legal_basis_minor
                if is_minor
                else settings.legal_basis_adult,
                "deadline_hours": minor_hours if is_minor else settings.notice_deadline_hours_adult,
                "outcome": notice_item.outcome.value,
            }
        )
    return {
        "type": "reclaim.notice",
        "id": notice.id,
        "reference": notice.reference,
        "platform": notice.platform.name,
        "status": notice.status.value,
        "language": notice.language,
        "sent_at": _iso(notice.sent_at),
        "deadline": _iso(notice.deadline_at),
        "items": items,
        "notifier": {
            "name": settings.hotline_name,
            "email": settings.hotline_email or None,
            "phone": settings.hotline_phone or None,
        },
    }


def render_notice(
    session: Session, notice: Notice, settings: Settings, *, reminder: int = 0
) -> RenderedNotice:
    language = notice.language if notice.language in SUBJECT else "en"
    document = notice_document(session, notice, settings)
    hours = min((i["deadline_hours"] for i in document["items"]), default=0)
    subject = SUBJECT[language].format(
        reference=notice.reference, count=len(document["items"]), hours=hours
    )
    if reminder:
        subject += REMINDER[language].format(n=reminder)
    context = {
        "n": document,
        "hotline": settings.hotline_name,
        "contact": {"email": settings.hotline_email, "phone": settings.hotline_phone},
        "reminder": reminder,
        "language": language,
        "subject": subject,
        "label": LABELS[language],
    }
    text = _templates.get_template(f"notice.{language}.txt").render(context)
    html = _templates.get_template("notice.html").render(context)
    return RenderedNotice(language, subject, text, html, document | {"reminder": reminder})


def _iso(moment: Any) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None
