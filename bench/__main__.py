"""`python -m bench [--quick] [--json FILE]`: every figure of issue 13, ours against its reference, in one run.

    python -m bench                      # 100k-customer chat database, 1M for search and the digest (cached)
    python -m bench --quick              # 2k customers, few rounds (CI: keeps the bench alive; < 2 min)
    python -m bench --customers 300000   # the large database at another size
    BENCH_DATABASE_URL=postgresql+psycopg://… python -m bench   # adds the PostgreSQL figures (that database
                                                                # is wiped and refilled when its data differs)
    BENCH_BIG_DATABASE_URL=postgresql+psycopg://… python -m bench   # the large figures on PostgreSQL too
                                                                    # (a database of its own, wiped likewise)

Each figure runs ours and its reference in the same run, interleaved and repeated (medians, p99 over all
samples). Databases are built by `bench.datagen` into `.bench-data/` (BENCH_DATA) once per size and schema
revision; the bench works on copies. Timings are printed (and written with --json), never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bench import datagen
from bench.report import Row, table, write_json
from storage.db import make_engine


@dataclass(frozen=True)
class Plan:
    chat_customers: int
    big_customers: int
    rounds: int  # interleaved rounds for the paired chat figures
    per_client: int  # /log requests per Slack client per round
    lookups: int  # search/card samples
    digest_rounds: int
    complaints: int  # per phase (idle, busy; two phases each)
    tg_users: int
    help_rounds: int
    first_log_rounds: int


QUICK = Plan(2_000, 2_000, 2, 5, 10, 1, 3, 20, 3, 1)
FULL = Plan(100_000, 1_000_000, 3, 25, 60, 2, 10, 60, 10, 3)


def plan(a: argparse.Namespace) -> Plan:
    p = QUICK if a.quick else FULL
    if a.customers:
        p = Plan(**{**p.__dict__, "big_customers": a.customers, "chat_customers": min(a.customers, p.chat_customers)})
    return p


def sqlite_copy(customers: int, work: Path, name: str) -> Engine:
    path, stats = datagen.sqlite_db(customers)
    _say_built("SQLite", customers, stats)
    return make_engine(datagen.working_copy(path, work / f"{name}.db"))


def _say_built(what: str, customers: int, stats: datagen.Stats) -> None:
    if stats.cached:
        print(f"data: {what}, {customers:,} customers: cached", flush=True)
    else:
        print(f"data: {what}, {customers:,} customers: {stats.rows:,} rows in {stats.seconds:.1f} s "
              f"({stats.rows_per_s:,.0f} rows/s)", flush=True)


def owner_of(engine: Engine, code: str) -> str:
    with engine.connect() as c:
        return c.execute(text("SELECT s.name FROM customer c JOIN staff s ON s.id = c.owner_id WHERE c.code = :c"),
                         {"c": code}).scalar_one()


def chat_figures(p: Plan, work: Path, pg_url: str | None) -> list[Row]:
    from bench import dbbench, httpbench, slackbench, startup, telegrambench

    chat = sqlite_copy(p.chat_customers, work, "chat")
    engines = {"SQLite": chat}
    if pg_url:
        stats = datagen.postgres_db(pg_url, p.chat_customers)
        _say_built("PostgreSQL", p.chat_customers, stats)
        engines["PostgreSQL"] = make_engine(pg_url)
    rows = startup.help_rows(p.help_rounds)
    code = datagen.customer_code(1)
    rows += startup.first_log_rows(str(chat.url), owner_of(chat, code), code, p.first_log_rounds)
    _progress(rows)
    rows += slackbench.log_rows(engines, p.per_client, p.rounds)
    if not pg_url:
        rows.append(Row("Slack /log: reply delivered p99, PostgreSQL (set BENCH_DATABASE_URL)", "ms", None, None,
                        "< 150 ms", None))
    for name, e in engines.items():
        rows += slackbench.complaint_rows(e, p.complaints, name)
    rows += httpbench.slow_client_rows(p.help_rounds * 2)
    _progress(rows)
    rows += telegrambench.log_rows(chat, p.tg_users, 2, p.rounds)
    _progress(rows)
    rows += dbbench.quality_rows(dbbench.make_core(chat), p.digest_rounds + 1, f"{p.chat_customers // 1000:,}k")
    _progress(rows)
    for e in engines.values():
        e.dispose()
    return rows


def big_figures(p: Plan, work: Path, pg_url: str | None) -> list[Row]:
    """Search, card and digest on the large database: SQLite, and PostgreSQL too when `pg_url` is given."""
    from bench import dbbench

    size = f"{p.big_customers // 1000:,}k" if p.big_customers < 1_000_000 else f"{p.big_customers / 1e6:g}M"
    engines = {"SQLite": sqlite_copy(p.big_customers, work, "big")}
    if pg_url:
        stats = datagen.postgres_db(pg_url, p.big_customers)
        _say_built("PostgreSQL", p.big_customers, stats)
        engines["PostgreSQL"] = make_engine(pg_url)
    rows: list[Row] = []
    for name, engine in engines.items():
        label = size if name == "SQLite" else f"{size} PostgreSQL"
        core = dbbench.make_core(engine)
        rows += dbbench.lookups(core, p.big_customers, p.lookups, label)
        _progress(rows)
        rows += dbbench.digest_rows(core, datagen.reps_for(p.big_customers), p.digest_rounds, label)
        _progress(rows)
        rows += dbbench.chat_during_digest(core, label)
        engine.dispose()
    return rows


_shown = 0


def _progress(rows: list[Row]) -> None:
    global _shown
    for r in rows[_shown:] if len(rows) > _shown else rows[-1:]:
        print(f"  … {r.figure}: {r.ours if r.ours is None else round(r.ours, 3)} {r.unit}", flush=True)
    _shown = len(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small data, few rounds (CI)")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the rows as JSON")
    ap.add_argument("--customers", type=int, help="size of the large database (default 1,000,000; quick 2,000)")
    ap.add_argument("--only", choices=("chat", "big"), help="run one half of the table")
    a = ap.parse_args(argv)
    p = plan(a)
    pg_url = os.environ.get("BENCH_DATABASE_URL") or None
    work = Path(tempfile.mkdtemp(prefix="crm-bench-"))
    t0 = time.perf_counter()
    rows: list[Row] = []
    try:
        if a.only != "big":
            rows += chat_figures(p, work, pg_url)
        global _shown
        _shown = 0
        if a.only != "chat":
            rows += big_figures(p, work, os.environ.get("BENCH_BIG_DATABASE_URL") or None)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\ncrm-bot bench — {'quick' if a.quick else 'full'}: chat database {p.chat_customers:,} customers, "
          f"large database {p.big_customers:,}; {time.perf_counter() - t0:.0f} s\n")
    print(table(rows))
    if a.json:
        write_json(rows, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
