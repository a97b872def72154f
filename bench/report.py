"""Rows of the bench table: figure · ours · reference · ratio · goal (met ✓/✗), printed or written as JSON."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Row:
    figure: str
    unit: str  # "ms", "s", "/s", "×", "failed" …
    ours: float | None
    reference: float | None
    goal: str  # e.g. "< 50 ms", "≥ 0.6×"
    met: bool | None
    ratio: float | None = None

    def __post_init__(self) -> None:
        if self.ratio is None and self.ours is not None and self.reference:
            self.ratio = self.ours / self.reference


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    v = sorted(values)
    if not v:
        return float("nan")
    return v[min(len(v) - 1, max(0, round(p / 100 * len(v) + 0.5) - 1))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def paired(ours: Callable[[], object], ref: Callable[[], object], rounds: int) -> tuple[list[float], list[float]]:
    """Both timed `rounds` times, interleaved (ours, ref, ours, …) after one warm-up each, in milliseconds."""
    ours()
    ref()
    a, b = [], []
    for _ in range(rounds):
        a.append(ms(ours))
        b.append(ms(ref))
    return a, b


def _fmt(v: float | None, unit: str) -> str:
    if v is None or v != v:
        return "—"
    if unit == "ms":
        return f"{v:,.1f} ms" if v < 100 else f"{v:,.0f} ms"
    if unit == "s":
        return f"{v:.2f} s"
    return f"{v:,.1f} {unit}".strip()


def table(rows: list[Row]) -> str:
    head = ("figure", "ours", "reference", "ratio", "goal", "met")
    body = [(r.figure, _fmt(r.ours, r.unit), _fmt(r.reference, r.unit),
             "—" if r.ratio is None else f"{r.ratio:.2f}×", r.goal,
             "—" if r.met is None else "✓" if r.met else "✗") for r in rows]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return "\n".join(lines)


def write_json(rows: list[Row], path: Path) -> None:
    keys = ("figure", "unit", "ours", "reference", "ratio", "goal", "met")
    out = []
    for r in rows:
        d = asdict(r)
        out.append({k: (None if isinstance(d[k], float) and d[k] != d[k] else d[k]) for k in keys})
    path.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
