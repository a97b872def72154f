"""`python -m bench.import_chat [--rows 20000]`: `/import` in chat, timed through the core as an adapter drives it.

Generates ROWS customers (zh headers, GBK, as Excel in China saves them), sends the file to the core as a
rep's attachment (the check: a dry run, then the file kept in the upload folder), presses Import with a
progress callback (what Slack's chat.update / Telegram's editMessageText would show), and prints a table:
the check, the import, the progress lines and the rows per second. A temporary SQLite file. Figures only.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from bot.console.driver import ConsoleSession
from handlers.router import Core
from handlers.settings import DomainSettings
from storage.db import create_all, make_engine, session_scope
from storage.models import Customer, Staff


def generate(path: Path, rows: int) -> None:
    with path.open("w", encoding="gbk", newline="") as f:
        w = csv.writer(f)
        w.writerow(["客户名称", "所属行业", "客户类型", "联系人", "联系电话", "备注"])
        for i in range(rows):
            w.writerow([f"测试客户{i:06d}", "IT", "潜在客户", f"联系人{i}", f"139{i:08d}", f"备注 {i}"])


def run(rows: int) -> list[tuple[str, str, str]]:
    tmp = Path(tempfile.mkdtemp(prefix="crm-import-chat-bench-"))
    src = tmp / "客户.csv"
    generate(src, rows)
    engine = make_engine(f"sqlite:///{tmp}/bench.db")
    create_all(engine)
    with session_scope(engine) as s:
        s.add(Staff(name="rita", role="rep", active=True, lang="zh", created_at=datetime.now(UTC)))
    core = Core(engine, DomainSettings(_env_file=None, upload_dir=str(tmp / "uploads")), secret=b"bench")
    con = ConsoleSession(core, user="rita")
    t0 = time.perf_counter()
    con.send(f"/import {src}")
    t1 = time.perf_counter()
    checking = len(con.progress)
    out = con.press_cmd("/import yes")
    t2 = time.perf_counter()
    importing = len(con.progress) - checking
    with session_scope(engine) as s:
        saved = len(s.exec(select(Customer.id)).all())
    engine.dispose()
    return [("check (dry run, file kept)", f"{t1 - t0:.1f} s", f"{checking} progress lines"),
            ("import (check again + write)", f"{t2 - t1:.1f} s", f"{importing} progress lines"),
            ("rows per second, press to summary", f"{rows / (t2 - t1):.0f}", f"{saved} customers saved"),
            ("answer", out.splitlines()[0][:60], "")]


def table(rows: list[tuple[str, str, str]]) -> str:
    lines = ["| figure | value | note |", "| --- | --- | --- |"]
    return "\n".join(lines + [f"| {a} | {b} | {c} |" for a, b, c in rows])


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.import_chat")
    p.add_argument("--rows", type=int, default=20_000)
    a = p.parse_args()
    print(table(run(a.rows)))


if __name__ == "__main__":
    main()
