"""Bench data: N customers (with a contact and a follow-up each) and their staff, in the real schema.

    from bench.datagen import sqlite_db, postgres_db
    path, stats = sqlite_db(100_000)           # cached under .bench-data/ (BENCH_DATA overrides the folder)
    stats = postgres_db(url, 100_000)          # rebuilt only when the size or schema revision changed

The schema comes from the migrations (`storage.migrate.upgrade`), the rows go in by bulk insert through the
models' tables: `executemany` on SQLite, `COPY` on PostgreSQL. A generated SQLite file is keyed by size, staff
count, schema revision and `GEN` (bump it when the generated content changes), so re-runs reuse it; the bench
works on a copy (`working_copy`). Deterministic (seeded): the same size gives the same data.

Shape (per customer): a Chinese or Latin company name, one primary contact with a phone (and an e-mail for Latin
names), one follow-up; 15 % of the follow-ups are open (due from 5 days ago to 10 days ahead), 5 % of the
customers are in the pool. Staff: one admin, one supervisor (Slack `USUP`), agents, managers and `reps(N)`
reps (`rep0000`…, Slack `UREP0`…, Telegram `TG_BASE + i`).
"""

from __future__ import annotations

import os
import random
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Table, text
from sqlalchemy.engine import Engine

from handlers.lookup import normalize_name
from storage.db import is_sqlite, make_engine
from storage.migrate import head, upgrade
from storage.models import CodeCounter, Contact, Customer, FollowUp, Setting, Staff

GEN = 1
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Asia/Shanghai, the digest's morning
ABBR, YEAR = "BEN", 2026
TG_BASE = 70_000_000
CHUNK = 20_000
_KEY = "bench.datagen"

CITIES = ("杭州", "上海", "苏州", "南京", "宁波", "深圳", "广州", "北京", "成都", "武汉", "厦门", "合肥")
ZH_WORDS = ("云栖", "恒通", "精密", "华泰", "嘉禾", "瑞丰", "新源", "远航", "同创", "博远", "鼎盛", "凯达", "天成",
            "宏图", "安信", "金桥", "联合", "东方", "海纳", "正泰", "明德", "永安", "兴业", "中科", "智联", "万象",
            "腾飞", "星辰", "创新", "科技", "光电", "机械", "电子", "信息", "材料", "化工", "医药", "食品", "贸易",
            "物流")
ZH_KINDS = ("科技", "实业", "贸易", "电子", "机械", "医疗器械", "新材料", "软件", "环保", "物流")
LATIN_WORDS = ("Acme", "Hengtong", "Precision", "Pacific", "Golden", "Bridge", "Summit", "Harbor", "Silver",
               "Orient", "Vertex", "Nova", "Apex", "Cedar", "Delta", "Ember", "Falcon", "Granite", "Horizon",
               "Ivory", "Jade", "Keystone", "Lotus", "Meridian", "Northstar", "Oakridge", "Pinnacle", "Quantum",
               "Redwood", "Sapphire", "Titan", "Unity", "Vanguard", "Willow", "Xenon", "Yellowstone", "Zenith",
               "Bright", "Clear", "Dynamic")
LATIN_KINDS = ("Trading", "Technology", "Industrial", "Electronics", "Machinery", "Medical", "Materials",
               "Software", "Logistics", "Foods")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞", "平", "刚")
INDUSTRIES = ("IT", "manufacturing", "retail", "medical", "logistics", "education", "finance")


@dataclass(frozen=True)
class Stats:
    customers: int
    rows: int
    seconds: float
    cached: bool

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def reps_for(customers: int) -> int:
    """2,000 reps from 100k customers up (the digest figure), fewer for small databases."""
    return max(4, min(2000, customers // 50))


def cache_dir() -> Path:
    return Path(os.environ.get("BENCH_DATA", ".bench-data"))


def cache_key(customers: int) -> str:
    return f"{customers}c-{reps_for(customers)}r-rev{head()}-g{GEN}"


def customer_code(i: int) -> str:
    return f"{ABBR}{YEAR}{i:03d}"


def customer_name(i: int) -> str:
    r = random.Random(i)
    if i % 2:
        return f"{r.choice(LATIN_WORDS)} {r.choice(LATIN_WORDS)} {r.choice(LATIN_KINDS)} Co., Ltd."
    return f"{r.choice(CITIES)}{r.choice(ZH_WORDS)}{r.choice(ZH_WORDS)}{r.choice(ZH_KINDS)}有限公司"


# ---------------------------------------------------------------- rows


def staff_rows(reps: int) -> list[dict]:
    base = dict(tz="Asia/Shanghai", reminder_time="09:00", active=True, created_at=NOW, telegram_id=None)
    rows = [dict(base, id=1, name="bench-admin", role="admin", lang="en", notify="console", slack_id="UADMIN"),
            dict(base, id=2, name="bench-sup", role="supervisor", team="service", lang="en", notify="slack",
                 slack_id="USUP")]
    rows += [dict(base, id=3 + a, name=f"agent{a}", role="agent", team="service", lang="zh", notify="console",
                  slack_id=f"UAGENT{a}") for a in range(3)]
    managers = max(1, reps // 50)
    rows += [dict(base, id=6 + m, name=f"mgr{m:03d}", role="manager", team=f"team{m}", lang="en", notify="console",
                  slack_id=f"UMGR{m}") for m in range(managers)]
    first = 6 + managers
    rows += [dict(base, id=first + i, name=f"rep{i:04d}", role="rep", team=f"team{i % managers}",
                  manager_id=6 + i % managers, lang=("en", "zh")[i % 2], notify="slack", slack_id=f"UREP{i}",
                  telegram_id=TG_BASE + i) for i in range(reps)]
    return rows


def rep_ids(reps: int) -> list[int]:
    first = 6 + max(1, reps // 50)
    return list(range(first, first + reps))


def customer_batches(n: int, reps: int) -> Iterator[tuple[list[dict], list[dict], list[dict]]]:
    owners = rep_ids(reps)
    rnd = random.Random(42)
    for start in range(1, n + 1, CHUNK):
        cust, cont, fus = [], [], []
        for i in range(start, min(n, start + CHUNK - 1) + 1):
            name = customer_name(i)
            pooled = rnd.random() < 0.05
            owner = None if pooled else owners[i % len(owners)]
            created = NOW - timedelta(days=rnd.randint(30, 700), minutes=rnd.randint(0, 1440))
            last = NOW - timedelta(days=rnd.randint(1, 60), minutes=rnd.randint(0, 1440))
            open_ = not pooled and rnd.random() < 0.15
            nxt = NOW + timedelta(days=rnd.randint(-5, 10), hours=rnd.randint(-8, 8)) if open_ else None
            cust.append(dict(id=i, code=customer_code(i), name=name, name_norm=normalize_name(name),
                             industry=INDUSTRIES[i % len(INDUSTRIES)], type=("intent", "deal", "potential")[i % 3],
                             grade="ABC"[i % 3], grade_locked=False, owner_id=owner, created_by_id=owner,
                             created_at=created, updated_at=last, last_followup_at=last, next_followup_at=nxt,
                             pooled_at=NOW - timedelta(days=3) if pooled else None))
            person = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 20) % len(GIVEN)]
            phone, email = f"1{3 + i % 6}{i:09d}", f"buyer{i}@example.com" if i % 2 else None
            cont.append(dict(id=i, customer_id=i, name=person, phone=phone, phone_norm=phone, email=email,
                             email_norm=email, is_primary=True, created_at=created))
            by = owner or owners[0]
            fus.append(dict(id=i, customer_id=i, date=last, method=("phone", "wechat", "visit")[i % 3],
                            content=f"bench call {i}: talked about the quote", feedback="positive",
                            next_followup_at=nxt, staff_id=by, assignee_id=owner, created_at=last,
                            done_at=None if open_ else last))
        yield cust, cont, fus


# ---------------------------------------------------------------- loading


def _insert(engine: Engine, table: Table, rows: list[dict]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    procs = [table.c[c].type.bind_processor(engine.dialect) for c in cols] if is_sqlite(engine) else None
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if procs is not None:  # the column types' own conversions, then the driver's executemany
            values = [tuple(v if p is None or v is None else p(v) for p, v in zip(procs, (r[c] for c in cols),
                                                                                 strict=True)) for r in rows]
            cur.execute("PRAGMA synchronous=OFF")  # a throw-away build: no fsync per chunk
            cur.execute("BEGIN IMMEDIATE")
            cur.executemany(f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                            values)
            cur.execute("COMMIT")
        else:
            with cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row(tuple(r[c] for c in cols))
            raw.commit()
        cur.close()
    finally:
        raw.close()


def populate(engine: Engine, customers: int) -> Stats:
    """Fill an empty, migrated database."""
    t0, rows = time.perf_counter(), 0
    reps = reps_for(customers)
    staff = staff_rows(reps)
    for r in staff:
        r.setdefault("team", None)
        r.setdefault("manager_id", None)
    _insert(engine, Staff.__table__, staff)
    for cust, cont, fus in customer_batches(customers, reps):
        _insert(engine, Customer.__table__, cust)
        _insert(engine, Contact.__table__, cont)
        _insert(engine, FollowUp.__table__, fus)
        rows += len(cust) + len(cont) + len(fus)
    _insert(engine, CodeCounter.__table__, [{"series": f"cust:{ABBR}:{YEAR}", "value": customers}])
    _insert(engine, Setting.__table__, [{"key": _KEY, "value": cache_key(customers), "updated_at": NOW}])
    if not is_sqlite(engine):
        with engine.begin() as c:
            for t in ("customer", "contact", "followup", "staff"):  # explicit ids: move the sequences past them
                c.execute(text(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))"))
            c.execute(text("ANALYZE"))
    return Stats(customers, rows + len(staff), time.perf_counter() - t0, cached=False)


def build(url: str, customers: int) -> Stats:
    engine = make_engine(url)
    try:
        upgrade(engine)
        return populate(engine, customers)
    finally:
        engine.dispose()


def sqlite_db(customers: int, folder: Path | None = None) -> tuple[Path, Stats]:
    """The cached SQLite file for `customers` (built when missing)."""
    folder = folder or cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"crm-{cache_key(customers)}.db"
    if path.exists():
        return path, Stats(customers, 0, 0.0, cached=True)
    tmp = path.with_name(path.stem + ".building.db")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    stats = build(f"sqlite:///{tmp}", customers)  # dispose() checkpoints the WAL into the file
    tmp.rename(path)
    return path, stats


def working_copy(path: Path, dest: Path) -> str:
    """A copy of a cached database to run on (the bench writes); returns its URL."""
    shutil.copyfile(path, dest)
    return f"sqlite:///{dest}"


def postgres_db(url: str, customers: int) -> Stats:
    """The PostgreSQL database at `url` holding the bench data for `customers`; rebuilt (everything in its
    public schema dropped) unless it already holds exactly that."""
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            has = c.execute(text("SELECT to_regclass('public.setting') IS NOT NULL")).scalar()
            key = c.execute(text("SELECT value FROM setting WHERE key = :k"), {"k": _KEY}).scalar() if has else None
        if key == cache_key(customers):
            return Stats(customers, 0, 0.0, cached=True)
        with engine.begin() as c:
            c.execute(text("DROP SCHEMA public CASCADE"))
            c.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    return build(url, customers)
