"""Console routes for the hash banks: what each holds, its latest changes, and the
operator's changes (a new bank for a list, an import, a withdrawal with its reason).

Withdrawals reach partners as tombstones in the hash feed, with the reason; imports go
through the same reader and checks as ``reclaim bank import`` (large lists belong on
the command line: the console takes files up to ``MAX_UPLOAD_BYTES``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response

from reclaim import audit
from reclaim.banks import feed_guard
from reclaim.banks.banking import BankError, create_bank, ensure_builtin_banks, get_bank
from reclaim.banks.contents import bank_stats, recent_changes
from reclaim.banks.domain import Category, HoldOutcome
from reclaim.banks.formats import BankFormat
from reclaim.banks.importing import import_file
from reclaim.banks.models import Bank
from reclaim.banks.withdrawing import parse_listed, withdraw
from reclaim.web.common import render as page
from reclaim.web.common import state_of
from reclaim.web.console.auth import Staff
from reclaim.web.console.permissions import may, permitted
from reclaim.web.console.responses import redirect

router = APIRouter()

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_LISTED = 10_000  # hashes withdrawn from one form


def _actor(staff: Staff) -> audit.Actor:
    return audit.Actor.user(staff.user.id)


def _bank_or_404(staff: Staff, name: str) -> Bank:
    try:
        return get_bank(staff.db, name)
    except BankError:
        raise HTTPException(404, "no such bank") from None


@router.get("/banks", name="console.banks")
def bank_list(request: Request, staff: Annotated[Staff, permitted("console.banks")]) -> Response:
    return _list_page(request, staff)


def _list_page(
    request: Request,
    staff: Staff,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    ensure_builtin_banks(staff.db)
    context: dict[str, Any] = {
        "active": "banks",
        "banks": bank_stats(staff.db),
        "categories": list(Category),
        "can_manage": may(staff, "console.banks.create"),
        "error": error,
        "form": form or {},
        # The feed guard: what it holds back from the feed until an analyst decides.
        "guard": feed_guard.figures(staff.db),
        "holds": feed_guard.open_holds(staff.db),
        "can_release": may(staff, "console.bank.hold.release"),
        "released": request.query_params.get("released"),
    }
    return page(request, "console/banks.html", context, status)


@router.post("/banks/holds/{hold_id}", name="console.bank.hold.release")
def hold_release(
    request: Request,
    hold_id: int,
    staff: Annotated[Staff, permitted("console.bank.hold.release")],
    *,
    outcome: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """An analyst's decision on a hash the flood guard held: back into the feed, or
    benign (onto the allow list)."""
    try:
        decided = HoldOutcome(outcome)
        feed_guard.release(
            staff.db, hold_id, decided, actor=_actor(staff), clock=state_of(request).clock
        )
    except ValueError:
        raise HTTPException(400, "choose restored or benign") from None
    except feed_guard.HoldError:
        raise HTTPException(404, "no such open hold") from None
    staff.db.commit()
    return redirect(f"/console/banks?released={decided.value}#feed-guard")


@router.post("/banks", name="console.banks.create")
def bank_create(
    request: Request,
    staff: Annotated[Staff, permitted("console.banks.create")],
    *,
    name: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
    verified: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
) -> Response:
    form = {"name": name, "description": description, "category": category}
    try:
        chosen = Category(category) if category else None
    except ValueError:
        return _list_page(request, staff, error="category", form=form, status=400)
    try:
        create_bank(
            staff.db,
            name.strip(),
            description.strip(),
            verified=verified == "yes",
            category=chosen,
            actor=_actor(staff),
            clock=state_of(request).clock,
        )
    except BankError as exc:
        staff.db.rollback()
        code = "taken" if "already exists" in str(exc) else "name"
        return _list_page(request, staff, error=code, form=form, status=400)
    staff.db.commit()
    return redirect(f"/console/banks/{name.strip()}?done=created")


@router.get("/banks/{name}", name="console.bank")
def bank_page(
    request: Request, name: str, staff: Annotated[Staff, permitted("console.bank")]
) -> Response:
    return _bank_page(request, staff, _bank_or_404(staff, name))


def _bank_page(
    request: Request,
    staff: Staff,
    bank: Bank,
    *,
    error: str | None = None,
    problems: list[str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    (stats,) = [s for s in bank_stats(staff.db) if s.name == bank.name]
    context: dict[str, Any] = {
        "active": "banks",
        "bank": bank,
        "stats": stats,
        "changes": recent_changes(staff.db, bank),
        "formats": list(BankFormat),
        "can_manage": may(staff, "console.bank.withdraw"),
        "done": request.query_params.get("done"),
        "count": _number(request.query_params.get("count")),
        "missing": _number(request.query_params.get("missing")),
        "error": error,
        "problems": problems or [],
        "form": form or {},
    }
    return page(request, "console/bank.html", context, status)


@router.post("/banks/{name}/withdraw", name="console.bank.withdraw")
def bank_withdraw(
    request: Request,
    name: str,
    staff: Annotated[Staff, permitted("console.bank.withdraw")],
    *,
    hashes: Annotated[str, Form(max_length=2_000_000)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    bank = _bank_or_404(staff, name)
    form = {"hashes": hashes, "reason": reason}
    signals, problems = parse_listed(hashes.splitlines())
    if problems or not signals or len(signals) > MAX_LISTED:
        error = "bad_lines" if problems else "too_many" if signals else "no_hashes"
        return _bank_page(request, staff, bank, error=error, problems=problems[:50], form=form)
    try:
        outcome = withdraw(
            staff.db,
            bank,
            signals,
            reason=reason,
            actor=_actor(staff),
            clock=state_of(request).clock,
        )
    except BankError:
        staff.db.rollback()
        return _bank_page(request, staff, bank, error="no_reason", form=form, status=400)
    staff.db.commit()
    return redirect(
        f"/console/banks/{bank.name}?done=withdrawn&count={outcome.withdrawn}"
        f"&missing={len(outcome.not_active)}"
    )


@router.post("/banks/{name}/import", name="console.bank.import")
async def bank_import(
    request: Request,
    name: str,
    staff: Annotated[Staff, permitted("console.bank.import")],
    *,
    file: UploadFile | None = None,
    file_format: Annotated[str, Form()] = "",
    strict: Annotated[str, Form()] = "",
) -> Response:
    bank = _bank_or_404(staff, name)
    try:
        chosen = BankFormat(file_format)
    except ValueError:
        return _bank_page(request, staff, bank, error="bad_format", status=400)
    if file is None or not file.filename:
        return _bank_page(request, staff, bank, error="no_file", status=400)
    settings = state_of(request).settings
    bank_name = bank.name
    staff.db.commit()  # the import writes in its own transactions: hold nothing meanwhile
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(file.filename).name
        if not await _save(file, path):
            return _bank_page(request, staff, bank, error="too_large", status=413)
        report = import_file(
            state_of(request).sessions,
            bank_name=bank_name,
            path=path,
            file_format=chosen,
            strict=strict == "yes",
            min_pdq_quality=settings.bank_min_pdq_quality,
            actor=_actor(staff),
            clock=state_of(request).clock,
        )
    problems = [str(e) for e in report.errors[:50]]
    problems += [f"{signal}: {why}" for signal, why in report.outcome.rejected[:50]]
    if problems or not report.imported:
        return _bank_page(
            request,
            staff,
            bank,
            error="imported_with_problems" if report.imported else "nothing_imported",
            problems=problems,
            status=200 if report.imported else 400,
        )
    outcome = report.outcome
    return redirect(
        f"/console/banks/{bank_name}?done=imported&count={outcome.added + outcome.reactivated}"
    )


def _number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 10 else 0


async def _save(upload: UploadFile, path: Path) -> bool:
    """Copy the upload to ``path``; False when it is larger than allowed."""
    written = 0
    with path.open("wb") as out:
        while chunk := await upload.read(1 << 20):
            written += len(chunk)
            if written > MAX_UPLOAD_BYTES:
                return False
            out.write(chunk)
    return True
