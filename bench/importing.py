"""`python -m bench.importing [--rows 1000,100000] [--db URL]`: time the imports on generated CSVs.

For each size (a child process each, so each has its own peak memory), generates ROWS customers (zh headers,
UTF-8), imports them into a fresh database (a temporary SQLite file, or URL — that database's tables are
recreated), then imports the same file again (every row matched, nothing to change), a copy whose notes
changed in the first `--updates` rows (those rows updated, an audit entry each), and `--history` follow-ups and
purchases of those customers. Prints a table: wall and CPU seconds (the commit included; on a shared machine
the CPU time is the steadier figure), rows of the file per second, rows to write, and the process's peak RSS
after each step. Figures, never assertions.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlmodel import SQLModel

from handlers.context import Ctx
from handlers.services.import_kinds import IMPORTS
from handlers.settings import DomainSettings
from storage.db import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import Staff

_INDUSTRY = ("IT", "金融", "教育", "制造业")
_TYPE = ("意向客户", "潜在客户", "成交客户")


def generate(path: Path, rows: int, *, changed: int = 0) -> None:
    """`rows` customers; the notes of the first `changed` rows differ from the plain file's."""
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["客户名称", "所属行业", "客户类型", "联系人", "联系电话", "客户标签", "备注"])
        for i in range(rows):
            w.writerow([f"测试客户{i:06d}", _INDUSTRY[i % 4], _TYPE[i % 3], f"联系人{i}", f"139{i:08d}",
                        "批量,导入" if i % 10 == 0 else "", f"{'新' if i < changed else ''}备注 {i}"])


def generate_history(folder: Path, rows: int) -> tuple[Path, Path]:
    """`rows` follow-ups and `rows` purchases of the first `rows` generated customers (zh headers)."""
    fu, pu = folder / "followups.csv", folder / "purchases.csv"
    with fu.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["客户名称", "跟进日期", "跟进方式", "沟通内容", "下次跟进时间", "跟进人"])
        for i in range(rows):
            w.writerow([f"测试客户{i:06d}", f"2025-{i % 12 + 1:02d}-{i % 28 + 1:02d} 10:00", "电话", f"沟通 {i}",
                        "2026-12-20", "boss"])
    with pu.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["客户名称", "购买日期", "产品", "金额"])
        for i in range(rows):
            w.writerow([f"测试客户{i:06d}", f"2025-{i % 12 + 1:02d}-01", "ERP", str(1000 + i)])
    return fu, pu


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def _step(engine, path: Path, *, apply: bool, kind: str = "customers") -> tuple[float, dict]:  # noqa: ANN001
    cpu = _cpu()
    with session_scope(engine) as s:
        boss = s.get(Staff, 1)
        ctx = Ctx(session=s, now=datetime.now(UTC), settings=DomainSettings(), platform="console",
                  chat_ref="@boss", user_ref="boss", lang="zh", staff=boss)
        t0 = time.perf_counter()
        r = IMPORTS[kind](ctx, path, apply=apply)
    took = time.perf_counter() - t0  # the commit included
    return took, {"cpu": _cpu() - cpu, "created": len(r.created), "updated": len(r.updated),
                  "unchanged": len(r.unchanged), "problems": len(r.problems)}


def one(rows: int, url: str | None, updates: int, history: int = 10_000) -> list[dict]:
    """The steps for one size, in this process: [{step, rows, seconds, rss_mb, …counts}]."""
    tmp = Path(tempfile.mkdtemp(prefix="crm-import-bench-"))
    src, changed = tmp / "customers.csv", tmp / "changed.csv"
    generate(src, rows)
    generate(changed, rows, changed=min(updates, rows))
    fu, pu = generate_history(tmp, min(history, rows))
    engine = make_engine(url or f"sqlite:///{tmp}/bench.db")
    if url:
        SQLModel.metadata.drop_all(engine)
        with engine.begin() as c:
            c.execute(text("DROP TABLE IF EXISTS alembic_version"))  # else `upgrade` finds nothing to do
    upgrade(engine)
    with session_scope(engine) as s:
        s.add(Staff(id=1, name="boss", role="admin", active=True, created_at=datetime.now(UTC)))
    out = []
    for step, path, apply, kind, n in (
            ("check only (dry run)", src, False, "customers", rows), ("import: new customers", src, True, "customers", rows),
            ("same file again (dry run)", src, False, "customers", rows),
            ("changed notes: update", changed, True, "customers", rows),
            ("follow-ups: new", fu, True, "followups", min(history, rows)),
            ("purchases: new, regrade", pu, True, "purchases", min(history, rows))):
        took, counts = _step(engine, path, apply=apply, kind=kind)
        out.append({"step": step, "rows": n, "seconds": took, "rss_mb": _rss_mb(), "db": engine.dialect.name,
                    **counts})
    engine.dispose()
    return out


def table(results: list[dict]) -> str:
    head = (f"{'db':<10} {'rows':>7}  {'step':<26} {'s':>6} {'CPU s':>6} {'rows/s':>7} {'to write':>8} "
            f"{'peak RSS MB':>11}")
    lines = [head, "-" * len(head)]
    for r in results:
        written = r["created"] + r["updated"]
        lines.append(f"{r['db']:<10} {r['rows']:>7}  {r['step']:<26} {r['seconds']:>6.1f} {r['cpu']:>6.1f} "
                     f"{r['rows'] / r['seconds']:>7.0f} {written:>8} {r['rss_mb']:>11.0f}")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.importing")
    p.add_argument("--rows", default="1000,100000", help="comma-separated sizes (default 1000,100000)")
    p.add_argument("--updates", type=int, default=10_000, help="rows changed in the update step (default 10000)")
    p.add_argument("--history", type=int, default=10_000, help="follow-ups and purchases imported (default 10000)")
    p.add_argument("--db", metavar="URL", help="a database to wipe and use (default: a temporary SQLite file)")
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child: one size, JSON out
    a = p.parse_args()
    if a.one:
        print(json.dumps(one(a.one, a.db, a.updates, a.history)))
        return
    results = []
    for rows in (int(x) for x in a.rows.split(",")):
        cmd = [sys.executable, "-m", "bench.importing", "--one", str(rows), "--updates", str(a.updates),
               "--history", str(a.history)]
        done = subprocess.run(cmd + (["--db", a.db] if a.db else []), stdout=subprocess.PIPE, text=True, check=True)
        results += json.loads(done.stdout.splitlines()[-1])
    print(table(results))


if __name__ == "__main__":
    main()
