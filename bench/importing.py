"""`python -m bench.importing [--rows 100000] [--db URL]`: time `import customers` on a generated CSV.

Generates ROWS customers (zh headers, UTF-8), imports them into a fresh database (a temporary SQLite file,
or URL — that database's tables are recreated), and prints the check and write times and the peak memory
(max RSS). A figure, never an assertion.
"""

from __future__ import annotations

import argparse
import csv
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import SQLModel

from handlers.context import Ctx
from handlers.services.importing import import_customers
from handlers.settings import DomainSettings
from storage.db import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import Staff

_INDUSTRY = ("IT", "金融", "教育", "制造业")
_TYPE = ("意向客户", "潜在客户", "成交客户")


def generate(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["客户名称", "所属行业", "客户类型", "联系人", "联系电话", "客户标签", "备注"])
        for i in range(rows):
            w.writerow([f"测试客户{i:06d}", _INDUSTRY[i % 4], _TYPE[i % 3], f"联系人{i}", f"139{i:08d}",
                        "批量,导入" if i % 10 == 0 else "", f"备注 {i}"])


def run(rows: int, url: str | None) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="crm-import-bench-"))
    src = tmp / "customers.csv"
    generate(src, rows)
    engine = make_engine(url or f"sqlite:///{tmp}/bench.db")
    if url:
        SQLModel.metadata.drop_all(engine)
    upgrade(engine)
    with session_scope(engine) as s:
        boss = Staff(name="boss", role="admin", active=True, created_at=datetime.now(UTC))
        s.add(boss)
        s.flush()
        ctx = Ctx(session=s, now=datetime.now(UTC), settings=DomainSettings(), platform="console",
                  chat_ref="@boss", user_ref="boss", lang="zh", staff=boss)
        t0 = time.perf_counter()
        report = import_customers(ctx, src)
        t1 = time.perf_counter()
        report = import_customers(ctx, src, apply=True)
        t2 = time.perf_counter()
    t3 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows={rows} created={len(report.created)} problems={len(report.problems)} "
          f"db={engine.dialect.name}")
    print(f"dry run {t1 - t0:.1f}s; check+write {t2 - t1:.1f}s; commit {t3 - t2:.1f}s; "
          f"{rows / (t3 - t1):.0f} rows/s; max RSS {rss:.0f} MB")
    engine.dispose()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.importing")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--db", metavar="URL", help="a database to wipe and use (default: a temporary SQLite file)")
    a = p.parse_args()
    run(a.rows, a.db)


if __name__ == "__main__":
    main()
