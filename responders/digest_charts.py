"""The charts of a digest as PNG bytes: drawn with matplotlib's Agg canvas, never pyplot, so threads may draw."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from responders.digest_model import BrandDigest, Count, Digest
from responders.digest_text import DigestText

WIDTH, HEIGHT, DPI = 8.0, 4.0, 100  # 800 x 400 px: sharp on a phone, small in an e-mail
NOW_COLOUR, BEFORE_COLOUR = "#1f5fbf", "#a9bfe0"
FEELING_COLOURS = {"positive": "#2e7d32", "neutral": "#9e9e9e", "negative": "#c62828"}
MAX_BARS = 8
LABEL_CHARS = 28
CHART_NAMES = ("timeline", "sources", "sentiment", "topics")


@dataclass(frozen=True)
class Chart:
    name: str  # timeline | sources | sentiment | topics
    title: str
    png: bytes


def chart_key(index: int, name: str) -> str:
    """How renderers find a chart: "<brand index>/<chart name>"."""
    return f"{index}/{name}"


def digest_charts(digest: Digest) -> dict[str, Chart]:
    """Every brand's charts keyed by :func:`chart_key`."""
    t = DigestText(digest.language, digest.timezone)
    return {
        chart_key(i, chart.name): chart for i, brand in enumerate(digest.brands) for chart in brand_charts(brand, t)
    }


def brand_charts(brand: BrandDigest, t: DigestText) -> list[Chart]:
    """The charts of one brand that have something to show (an empty chart says nothing, so it is left out)."""
    drawers: dict[str, tuple[bool, Callable[[Axes], None]]] = {
        "timeline": (any(n for _, n in brand.timeline), lambda ax: _timeline(ax, brand)),
        "sources": (_any(brand.by_source), lambda ax: _paired(ax, brand.by_source, t)),
        "sentiment": (_any(brand.sentiment), lambda ax: _sentiment(ax, brand.sentiment, t)),
        "topics": (_any(brand.topics), lambda ax: _paired(ax, brand.topics, t)),
    }
    charts = []
    for name in CHART_NAMES:
        wanted, draw = drawers[name]
        if wanted:
            title = t.label(f"chart_{name}")
            charts.append(Chart(name, title, _png(title, draw)))
    return charts


def _any(counts: tuple[Count, ...]) -> bool:
    return any(c.now or c.before for c in counts)


def _text(label: str) -> str:
    """A label from outside as matplotlib shows it: one line, short, and never read as mathtext ("$...$")."""
    line = " ".join(label.split())
    line = line if len(line) <= LABEL_CHARS else line[: LABEL_CHARS - 1] + "…"
    return line.replace("\\", "\\\\").replace("$", r"\$")


def _png(title: str, draw: Callable[[Axes], None]) -> bytes:
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # attaches itself: this figure draws with Agg whatever pyplot's backend is
    ax = figure.add_subplot()
    ax.set_title(title, loc="left", fontsize=14)
    ax.tick_params(labelsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    draw(ax)
    buffer = io.BytesIO()
    # No "Software" (version) text chunk: the same figures give the same bytes, whatever matplotlib draws them.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _timeline(ax: Axes, brand: BrandDigest) -> None:
    labels = [label for label, _ in brand.timeline]
    values = [n for _, n in brand.timeline]
    xs = list(range(len(values)))
    ax.plot(xs, values, color=NOW_COLOUR, marker="o", markersize=3, linewidth=1.6)
    ax.fill_between(xs, values, color=NOW_COLOUR, alpha=0.12)
    step = max(1, math.ceil(len(labels) / 12))
    ax.set_xticks(xs[::step], [_text(label) for label in labels[::step]])
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", alpha=0.3)


def _paired(ax: Axes, counts: tuple[Count, ...], t: DigestText) -> None:
    """Horizontal bars, this period against the one before, the biggest at the top."""
    shown = list(counts[:MAX_BARS])[::-1]
    ys = range(len(shown))
    height = 0.38
    ax.barh([y + height / 2 for y in ys], [c.now for c in shown], height, color=NOW_COLOUR, label=t.label("now"))
    ax.barh(
        [y - height / 2 for y in ys], [c.before for c in shown], height, color=BEFORE_COLOUR, label=t.label("before")
    )
    ax.set_yticks(list(ys), [_text(t.term(c.label)) for c in shown])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="best", frameon=False, fontsize=11)


def _sentiment(ax: Axes, feelings: tuple[Count, ...], t: DigestText) -> None:
    """Two 100 % bars, this period above the one before, split positive | neutral | negative."""
    rows = ((t.label("now"), [c.now for c in feelings]), (t.label("before"), [c.before for c in feelings]))
    for y, (_, values) in zip((1, 0), rows, strict=True):
        total = sum(values)
        left = 0.0
        for count, value in zip(feelings, values, strict=True):
            width = value / total if total else 0.0
            colour = FEELING_COLOURS.get(count.label, "#607d8b")
            ax.barh(y, width, 0.6, left=left, color=colour, label=_text(t.term(count.label)) if y else None)
            if width >= 0.08:
                ax.text(left + width / 2, y, t.percent(width), ha="center", va="center", color="white", fontsize=11)
            left += width
    ax.set_yticks([1, 0], [_text(label) for label, _ in rows])
    ax.set_xlim(0, 1)
    ax.set_xticks([])
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.04), ncol=3, frameon=False, fontsize=11)
