"""What the portal's routes share: rendering, translation of problems, the policies
built from the settings."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from fastapi import Request

from reclaim.config import Settings
from reclaim.intake.domain import InputLimits, Problem, parse_file
from reclaim.intake.submission import IntakePolicy
from reclaim.security.field_crypto import FieldCipher, field_cipher
from reclaim.web.common import language_of
from reclaim.web.i18n import Translator


def _(message: str) -> str:
    """Mark a message id for the catalogs; :func:`messages` translates it when shown."""
    return message


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.reclaim.settings
    return settings


def translator(request: Request) -> Translator:
    translated: Translator = request.app.state.reclaim.catalogs.get(language_of(request))
    return translated


def language(request: Request) -> str:
    return translator(request).language


def cipher(request: Request) -> FieldCipher:
    return field_cipher(settings_of(request))


def intake_policy(request: Request) -> IntakePolicy:
    return IntakePolicy.from_settings(settings_of(request))


def input_limits(request: Request) -> InputLimits:
    settings = settings_of(request)
    return InputLimits(max_urls=settings.report_max_urls, max_files=settings.report_max_files)


def new_form_key() -> str:
    """A fresh idempotency key for one rendering of a report form."""
    return secrets.token_urlsafe(24)


def messages(request: Request, problems: Iterable[Problem]) -> dict[str, list[str]]:
    """Problems translated into the reporter's language, by form field."""
    translate = translator(request)
    found: dict[str, list[str]] = {}
    for problem in problems:
        text = translate.gettext(problem.message, **dict(problem.values))
        found.setdefault(problem.field, []).append(text)
    return found


def form_state(
    request: Request, problems: Iterable[Problem], files: Iterable[str]
) -> dict[str, Any]:
    """What a page with a form of URLs and files needs, shown afresh or refused: the
    problems by field, the files already hashed (so they need not be chosen again),
    and the limits."""
    return {
        "errors": messages(request, problems),
        "ready_files": [f for f in (parse_file(v) for v in files) if f is not None],
        "limits": input_limits(request),
        "hashing_limits": settings_of(request).hashing_limits(),
    }
