"""Charts as static SVG, drawn on the server by matplotlib (no browser, no JavaScript).

Why matplotlib: it is the best-kept plotting library in Python, renders SVG with its
own Agg/SVG backends without a browser or a JavaScript runtime (Vega-Lite through
altair needs vl-convert, a bundled Deno), and with ``svg.fonttype = "none"`` keeps
every label as real text — readable by screen readers, selectable, and set in Noto
Sans CJK TC by the browser and by WeasyPrint in the PDFs (which embeds the font).

Every chart comes with the same figures as a text table (:class:`Chart.rows`); pages
and reports show the table beside the chart, and the chart's ``description`` is its
alternative text.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

from reclaim.documents.fonts import DOCUMENT_FONT

#: Colours from the Okabe–Ito palette: distinguishable with colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
RC: Any = {
    "svg.fonttype": "none",
    "svg.hashsalt": "reclaim",  # the same figures give the same SVG
    "font.family": [DOCUMENT_FONT.name, "DejaVu Sans", "sans-serif"],
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    title: str
    description: str  # the alternative text
    svg: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    @property
    def data_url(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()


def bars(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    stacked: bool = True,
    horizontal: bool = False,
    percent: bool = False,
    width: float = 7.0,
) -> str:
    """A bar chart as SVG text: one bar (or stack) per category, one colour per series."""
    with matplotlib.rc_context(RC):
        height = max(2.6, 0.42 * len(categories) + 1.4) if horizontal else 3.2
        figure = Figure(figsize=(width, height), layout="constrained")
        axes = figure.subplots()
        positions: list[float] = [float(p) for p in range(len(categories))]
        base = [0.0] * len(categories)
        count = max(len(series), 1)
        for index, (name, values) in enumerate(series):
            colour = PALETTE[index % len(PALETTE)]
            offsets: list[float]
            if stacked:
                offsets, size = positions, 0.7
            else:
                size = 0.8 / count
                offsets = [p - 0.4 + size * (index + 0.5) for p in positions]
            data = [float(v) for v in values]
            if horizontal:
                axes.barh(
                    offsets, data, size, left=base if stacked else None, label=name, color=colour
                )
            else:
                axes.bar(
                    offsets, data, size, bottom=base if stacked else None, label=name, color=colour
                )
            if stacked:
                base = [b + v for b, v in zip(base, data, strict=True)]
        if horizontal:
            axes.set_yticks(positions, list(categories))
            axes.invert_yaxis()
            if percent:
                axes.set_xlim(0, 100)
        else:
            axes.set_xticks(positions, list(categories), rotation=45 if len(categories) > 6 else 0)
            if percent:
                axes.set_ylim(0, 100)
        if len(series) > 1:
            figure.legend(loc="outside lower center", ncols=min(len(series), 3), frameon=False)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return _strip_prolog(out.getvalue())


def _strip_prolog(svg: str) -> str:
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
