"""The import report as lines of text (the CLI prints them; a chat could send them as one `Text`)."""

from __future__ import annotations

from handlers.i18n import t


def _rows(numbers: list[int], limit: int = 20) -> str:
    shown = ", ".join(str(n) for n in numbers[:limit])
    return shown + (f", … (+{len(numbers) - limit})" if len(numbers) > limit else "")


def import_report(lang: str, report) -> list[str]:  # noqa: ANN001
    """Encoding, columns, counts, every problem by row and field, and whether anything was written."""
    out = [t(lang, "import.encoding", encoding=report.encoding),
           t(lang, "import.columns", columns=", ".join(f"{h}→{f}" for h, f in report.columns.items()) or "—")]
    if report.unknown_columns:
        out.append(t(lang, "import.unknown", columns=", ".join(report.unknown_columns)))
    out.append(t(lang, "import.summary", rows=report.rows, created=len(report.created),
                 updated=len(report.updated), unchanged=len(report.unchanged), skipped=len(report.skipped)))
    for label, numbers in (("import.created", report.created), ("import.updated", report.updated),
                           ("import.skipped", report.skipped)):
        if numbers:
            out.append(t(lang, label, rows=_rows(numbers)))
    labels = report.labels or {"code": "import.code"}
    for p in report.problems:
        key = labels.get(p.field, f"cust.f.{p.field}") if p.field else "import.row_only"
        where = t(lang, key)
        out.append(t(lang, "import.problem", row=p.row, field=where, message=p.message))
    return out

