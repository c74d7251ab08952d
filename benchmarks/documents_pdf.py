"""Benchmark: the escalation PDF (WeasyPrint, Noto Sans CJK TC) against fpdf2 with the
same font, on the same synthetic report.

    .venv/bin/python benchmarks/documents_pdf.py                 # 1, 10 and 50 notices
    .venv/bin/python benchmarks/documents_pdf.py --notices 200

For each size: seconds to render (median of --repeat runs, after one warm-up), bytes,
pages, and the ratio to the peer.  The peer, fpdf2 (the ``bench`` extra), lays out the
same words (every notice's facts, items and history) in simple tables; it is what we
would have used instead.  Both embed Noto Sans CJK TC, subset, from fonts-noto-cjk.
Not measured here, and the reason for the choice: fpdf2 2.8's CFF embedding maps two
codes to one glyph and pdf.js then draws some characters ("?") blank, while WeasyPrint's
PDFs read in poppler, PDFium and pdf.js (tests/documents, tests/browser).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from reclaim.cases.domain import Classification
from reclaim.documents.fonts import find_font
from reclaim.documents.words import Text, Wording, _
from reclaim.domain.languages import Language
from reclaim.domain.times import zone_named
from reclaim.takedown.domain import (
    AttemptOutcome,
    Channel,
    DeliveryPurpose,
    ItemOutcome,
    NoticeStatus,
    VerificationOutcome,
)
from reclaim.takedown.escalation import (
    EscalatedItem,
    EscalatedNotice,
    EscalationReport,
    HistoryLine,
    to_pdf,
)
from reclaim.takedown.labels import LABELS
from reclaim.web.i18n import Catalogs

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def report(notices: int) -> EscalationReport:
    def notice(i: int) -> EscalatedNotice:
        checks = [
            HistoryLine(
                T0 + timedelta(hours=h),
                Text(
                    _("%(outcome)s (HTTP %(status)s)"),
                    outcome=VerificationOutcome.STILL_UP,
                    status=200,
                ),
            )
            for h in (1, 6, 24)
        ]
        items = [
            EscalatedItem(
                url=f"https://forum{i % 7}.example/t/{i}/p/{j}?ref=share&utm=abcdef0123456789",
                category=Classification.SELF_GENERATED_MINOR,
                outcome=ItemOutcome.PENDING,
                removed_at=None,
                verifications=checks,
            )
            for j in range(3)
        ]
        sent = Text(
            _("%(purpose)s by %(channel)s: %(outcome)s (%(detail)s)"),
            purpose=DeliveryPurpose.NOTICE,
            channel=Channel.EMAIL,
            outcome=AttemptOutcome.SENT,
            detail="250 2.0.0 Ok: queued as 4XyZ",
        )
        return EscalatedNotice(
            reference=f"RN-2026-{i:06d}",
            platform=f"論壇 Forum {i % 7}",
            status=NoticeStatus.PARTIALLY_REMOVED,
            sent_at=T0,
            deadline_at=T0 + timedelta(hours=24),
            overdue_by=timedelta(hours=8),
            items=items,
            history=[HistoryLine(T0, Text(_("Notice drafted"))), HistoryLine(T0, sent)],
        )

    return EscalationReport(
        generated_at=T0 + timedelta(hours=32),
        hotline="台灣兒少網路安全熱線",
        notices=[notice(i) for i in range(notices)],
    )


def with_fpdf2(report: EscalationReport, wording: Wording) -> bytes:
    from fpdf import FPDF

    font = find_font("Noto Sans CJK TC")
    assert font is not None
    pdf = FPDF()
    pdf.add_font("Noto", "", str(font.file), collection_font_number=3)  # TC in the .ttc
    pdf.add_font("Noto", "B", str(font.file).replace("Regular", "Bold"), collection_font_number=3)
    pdf.add_page()
    say = wording.say
    pdf.set_font("Noto", "B", 15)
    title = say(_("%(hotline)s: overdue removal notices"), hotline=report.hotline)
    pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Noto", "", 9)
    for notice in report.notices:
        pdf.set_font("Noto", "B", 11)
        pdf.multi_cell(
            0, 8, f"{notice.reference} — {notice.platform}", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_font("Noto", "", 8.5)
        with pdf.table(col_widths=(30, 70)) as facts:
            facts.row([say(_("Notice status")), wording.label(notice.status)])
            facts.row([say(_("Sent")), wording.time(notice.sent_at)])
            facts.row([say(_("Deadline")), wording.time(notice.deadline_at)])
        with pdf.table(col_widths=(40, 18, 14, 28)) as items:
            items.row([say(_("URL")), say(_("Category")), say(_("Removal")), say(_("Checks"))])
            for item in notice.items:
                checks = "\n".join(
                    f"{wording.time(c.at)}: {wording.text(c.what)}" for c in item.verifications
                )
                items.row(
                    [item.url, wording.label(item.category), wording.label(item.outcome), checks]
                )
        with pdf.table(col_widths=(30, 70)) as history:
            for line in notice.history:
                history.row([wording.time(line.at), wording.text(line.what)])
    return bytes(pdf.output())


def measure(render: Callable[[], bytes], repeat: int) -> tuple[float, bytes]:
    render()  # warm-up: imports, font loading, caches
    times, body = [], b""
    for _run in range(repeat):
        started = time.perf_counter()
        body = render()
        times.append(time.perf_counter() - started)
    return statistics.median(times), body


def pages(pdf: bytes) -> int:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notices", type=int, nargs="*", default=[1, 10, 50])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    catalogs = Catalogs("zh_TW")
    wording = Wording(
        Language.ZH_TW, catalogs.get("zh_TW").gettext, LABELS, zone_named("Asia/Taipei")
    )
    try:
        import fpdf

        peer_available = fpdf is not None
    except ImportError:
        peer_available = False
    print(f"{'notices':>8} {'engine':>11} {'seconds':>8} {'KB':>7} {'pages':>6} {'time ratio':>10}")
    for size in args.notices:
        data = report(size)
        ours, pdf = measure(lambda: to_pdf(data, wording), args.repeat)  # noqa: B023
        line = f"{size:>8} {'weasyprint':>11} {ours:>8.2f} {len(pdf) / 1024:>7.0f} {pages(pdf):>6}"
        print(line)
        if peer_available:
            peer, other = measure(lambda: with_fpdf2(data, wording), args.repeat)  # noqa: B023
            print(
                f"{size:>8} {'fpdf2':>11} {peer:>8.2f} {len(other) / 1024:>7.0f} "
                f"{pages(other):>6} {ours / peer:>9.2f}x"
            )


if __name__ == "__main__":
    main()
