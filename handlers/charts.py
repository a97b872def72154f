"""Charts for reports, as PNG: headless matplotlib (the Agg canvas, never pyplot) in the font shipped with the
package, so Chinese labels draw as Chinese on a machine that has only what `pip install` brought.

The font, `handlers/fonts/CRMSansSC-Regular.otf`, is a subset of Noto Sans CJK SC (Latin, punctuation, all of
GB2312 and every character of the zh locale; licence in `handlers/fonts/OFL.txt`, built by
`tools/build_chart_font.py`). It is registered with matplotlib's font manager by path; a character it lacks
falls back to DejaVu Sans, matplotlib's own font.

Every function takes text already translated by the caller (a card) and returns a `Figure`; `png(fig)` turns it
into bytes and `as_file` into the `FileRef` a `Reply` carries, which each adapter sends as a picture (Slack
`files_upload_v2`, Telegram `sendPhoto`, the console saves it and prints the path).
"""

from __future__ import annotations

import io
import tempfile
import threading
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from handlers.views import FileRef

if TYPE_CHECKING:
    from handlers.context import Ctx

FONT_PATH = Path(__file__).resolve().parent / "fonts" / "CRMSansSC-Regular.otf"
FAMILY = "CRM Sans SC"
FALLBACK = "DejaVu Sans"  # ships with matplotlib
MIME = "image/png"

font_manager.fontManager.addfont(str(FONT_PATH))

_RC = {"font.family": [FAMILY, FALLBACK], "axes.unicode_minus": False, "font.size": 10,
       "axes.spines.top": False, "axes.spines.right": False, "axes.titleweight": "normal",
       "axes.titlesize": 13, "axes.grid": False}
_LOCK = threading.Lock()  # rcParams are process-wide: one figure is built at a time

PALETTE = ("#3b6fb6", "#f0a03c", "#4caf7a", "#d9534f", "#8e6bbf", "#5bc0de", "#999999")
WIDTH, HEIGHT, DPI = 8.0, 4.5, 120


def _figure(build: Callable[[Figure], None], *, height: float = HEIGHT) -> Figure:
    with _LOCK, matplotlib.rc_context(_RC):
        fig = Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        build(fig)
        return fig


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    with _LOCK:
        fig.canvas.print_png(buf)
    return buf.getvalue()


def as_file(data: bytes, *, name: str, title: str) -> FileRef:
    """Write the PNG where the adapters can read it (a private temporary folder, like exports)."""
    path = Path(tempfile.mkdtemp(prefix="crm-chart-")) / name
    path.write_bytes(data)
    return FileRef(path=str(path), name=name, mime=MIME, title=title)


def chart_file(ctx: Ctx, fig: Figure, kind: str, title: str) -> FileRef:
    """The chart as the PNG file a reply carries: `funnel-20261205-0930.png`."""
    name = f"{kind}-{ctx.now.astimezone(ctx.tz):%Y%m%d-%H%M}.png"
    return as_file(png(fig), name=name, title=title)


def week_label(monday: date) -> str:
    """A week on an axis: its Monday, `11-16`."""
    return f"{monday:%m-%d}"


def week_of(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _empty(ax, text: str) -> None:  # noqa: ANN001
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#777777", fontsize=12)
    ax.set_axis_off()


# ---------------------------------------------------------------- the kinds of chart


def funnel(*, title: str, labels: Sequence[str], counts: Sequence[int], notes: Sequence[str],
           conversions: Sequence[str], empty: str) -> Figure:
    """A funnel: one centred bar per stage, as wide as its count, its note (count · amount) inside or beside
    it and the conversion to the next stage between the bars."""

    def build(fig: Figure) -> None:
        ax = fig.add_subplot()
        ax.set_title(title)
        top = max(counts, default=0)
        if not top:
            _empty(ax, empty)
            return
        n = len(labels)
        ys = list(range(n - 1, -1, -1))
        widths = [max(c / top, 0.02) for c in counts]
        ax.barh(ys, widths, left=[(1 - w) / 2 for w in widths], height=0.62,
                color=[PALETTE[i % len(PALETTE)] for i in range(n)])
        for y, w, note in zip(ys, widths, notes, strict=True):
            inside = w > 0.45
            ax.text(0.5 if inside else 0.5 + w / 2 + 0.02, y, note, va="center", ha="center" if inside else "left",
                    color="white" if inside else "#333333", fontsize=10)
        for y, conv in zip(ys[:-1], conversions, strict=False):
            if conv:
                ax.text(0.5, y - 0.5, f"↓ {conv}", ha="center", va="center", color="#555555", fontsize=9)
        ax.set_yticks(ys, labels)
        ax.set_xlim(0, 1.25)
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_xticks([])
        ax.spines[["bottom", "left"]].set_visible(False)
        ax.tick_params(axis="y", length=0)

    return _figure(build)


def bars(*, title: str, categories: Sequence[str], series: Sequence[tuple[str, Sequence[float]]],
         ylabel: str, fmt: Callable[[float], str], empty: str) -> Figure:
    """Grouped bars: per category one bar per series, each labelled with its value."""

    def build(fig: Figure) -> None:
        ax = fig.add_subplot()
        ax.set_title(title)
        if not categories or not any(v for _, vals in series for v in vals):
            _empty(ax, empty)
            return
        k = len(series)
        width = 0.8 / k
        for i, (name, vals) in enumerate(series):
            xs = [j - 0.4 + width * (i + 0.5) for j in range(len(categories))]
            rects = ax.bar(xs, vals, width=width * 0.92, label=name, color=PALETTE[i % len(PALETTE)])
            ax.bar_label(rects, labels=[fmt(v) if v else "" for v in vals], fontsize=8, padding=2)
        ax.set_xticks(range(len(categories)), categories)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt(v)))
        ax.margins(y=0.15)
        if k > 1:
            ax.legend(frameon=False)

    return _figure(build)


def lines(*, title: str, categories: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
          ylabel: str, empty: str, percent: bool = False, ylim: tuple[float, float] | None = None,
          integer: bool = False) -> Figure:
    """A weekly trend: one line per series over the categories (None: no value that week, a gap)."""

    def build(fig: Figure) -> None:
        ax = fig.add_subplot()
        ax.set_title(title)
        if not categories or all(v is None for _, vals in series for v in vals):
            _empty(ax, empty)
            return
        xs = range(len(categories))
        for i, (name, vals) in enumerate(series):
            ys = [float("nan") if v is None else v for v in vals]
            ax.plot(xs, ys, marker="o", label=name, color=PALETTE[i % len(PALETTE)], linewidth=2)
        ax.set_xticks(list(xs), categories)
        ax.set_ylabel(ylabel)
        if ylim:
            ax.set_ylim(*ylim)
        if percent:
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f}%"))
        if integer:
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", color="#e5e5e5")
        if len(series) > 1:
            ax.legend(frameon=False)

    return _figure(build)


def hbars(*, title: str, panels: Sequence[tuple[str, Sequence[str], Sequence[int]]], empty: str) -> Figure:
    """Side-by-side panels of horizontal bars (largest on top), each with its subtitle and value labels."""

    def build(fig: Figure) -> None:
        fig.suptitle(title, fontsize=13)
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        for ax, (sub, labels, values) in zip(axes, panels, strict=True):
            ax.set_title(sub, fontsize=11)
            if not values or not any(values):
                _empty(ax, empty)
                continue
            ys = list(range(len(labels) - 1, -1, -1))
            rects = ax.barh(ys, values, color=PALETTE[0], height=0.6)
            ax.bar_label(rects, padding=3, fontsize=9)
            ax.set_yticks(ys, labels)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.margins(x=0.15)
            ax.tick_params(axis="y", length=0)

    return _figure(build)


def money_short(v: float) -> str:
    """¥1.2M, ¥350K, ¥900: short amounts for axis and bar labels."""
    a = abs(v)
    if a >= 1_000_000:
        return f"¥{v / 1_000_000:.1f}M"
    if a >= 10_000:
        return f"¥{v / 1_000:.0f}K"
    return f"¥{v:,.0f}"
