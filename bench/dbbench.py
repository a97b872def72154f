"""Figures on a large database through the core (`Core.handle`, console platform): search, card, typo search,
the morning digest against a hand-written SQL floor, and chat commands while the digest runs."""

from __future__ import annotations

import logging
import random
import threading
from datetime import timedelta

from sqlalchemy import bindparam, delete, text
from sqlalchemy.engine import Engine

from bench import datagen
from bench.report import Row, median, ms, paired, pct
from handlers.context import Inbound
from handlers.router import Core
from handlers.settings import DomainSettings
from scheduler.runner import run_job
from storage.models import JobRun, Outbox
from storage.types import UTCDateTime

ADMIN = "bench-admin"
NO_HIT = ("Quarzel Mintobe", "Xylofant Brimwick", "Zorbulate Kestrin", "Plonkish Varetta")


def make_core(engine: Engine) -> Core:
    return Core(engine, DomainSettings(_env_file=None), secret=b"bench", clock=lambda: datagen.NOW)


def say(core: Core, user: str, line: str) -> None:
    core.handle(Inbound(platform="console", user_ref=user, chat_ref=f"@{user}", text=line))


def _sql(engine: Engine, sql: str, **params: object) -> None:
    with engine.connect() as c:
        c.execute(text(sql), params).fetchall()


def lookups(core: Core, n: int, rounds: int, label: str) -> list[Row]:
    rnd = random.Random(7)
    eng = core.engine
    rows = []
    for lang, words in (("zh", datagen.ZH_WORDS), ("Latin", datagen.LATIN_WORDS), ("zh, 2 characters", None)):
        if words is None:  # too short for a trigram index: a scan of the names that stops when enough are found
            frags = [rnd.choice(datagen.ZH_WORDS) for _ in range(rounds + 1)]
        else:
            frags = [rnd.choice(words) + (rnd.choice(words)[:1] if lang == "zh" else "") for _ in range(rounds + 1)]
        it, it2 = iter(frags), iter(frags)
        a, b = paired(lambda it=it: say(core, ADMIN, f"/customer {next(it)}"),
                      lambda it2=it2: _sql(eng, "SELECT id, code, name FROM customer WHERE name LIKE :p LIMIT 50",
                                           p=f"%{next(it2)}%"), rounds)
        rows.append(Row(f"{label}: search by name fragment ({lang}), p50", "ms", median(a), median(b), "—", None))
        rows.append(Row(f"{label}: search by name fragment ({lang}), p99", "ms", pct(a, 99), pct(b, 99),
                        "< 50 ms", pct(a, 99) < 50))
    codes = iter([datagen.customer_code(rnd.randint(1, n)) for _ in range(2 * rounds + 2)])
    a, b = paired(lambda: say(core, ADMIN, f"/customer {next(codes)}"),
                  lambda: _sql(eng, "SELECT * FROM customer WHERE code = :c", c=next(codes)), rounds)
    rows.append(Row(f"{label}: card by code as admin, p50", "ms", median(a), median(b), "< 10 ms", median(a) < 10))
    few = max(3, rounds // 6)  # seconds each at 1M
    typo = iter([NO_HIT[i % len(NO_HIT)] for i in range(few + 1)])
    typo2 = iter([NO_HIT[i % len(NO_HIT)] for i in range(few + 1)])
    a, b = paired(lambda: say(core, ADMIN, f"/customer {next(typo)}"),
                  lambda: _sql(eng, "SELECT id FROM customer WHERE name_norm LIKE :p LIMIT 50",
                               p=f"%{next(typo2).lower().replace(' ', '')[:5]}%"), few)
    rows.append(Row(f"{label}: typo search with no hit, p50", "ms", median(a), median(b), "< 300 ms",
                    median(a) < 300))
    return rows


# ---------------------------------------------------------------- the digest and its floor

FLOOR = """
WITH due AS (
  SELECT f.assignee_id AS rep, f.id AS fid, f.next_followup_at AS at, c.code AS code, c.name AS name,
         row_number() OVER (PARTITION BY f.assignee_id ORDER BY f.next_followup_at, f.id) AS rn,
         count(*) OVER (PARTITION BY f.assignee_id) AS n
  FROM followup f JOIN customer c ON c.id = f.customer_id
  WHERE f.assignee_id IS NOT NULL AND f.next_followup_at IS NOT NULL AND f.next_followup_at < :day_end
    AND f.done_at IS NULL AND f.deleted_at IS NULL),
behind AS (
  SELECT coalesce(c.owner_id, 0) AS rep, count(*) AS n FROM customer c
  WHERE c.owner_id IS NOT NULL AND c.type != 'lost'
    AND coalesce(c.last_followup_at, c.created_at) <
        CASE c.grade WHEN 'A' THEN :cut_a WHEN 'B' THEN :cut_b ELSE :cut_c END
    AND c.id NOT IN (SELECT p.customer_id FROM followup p WHERE p.next_followup_at >= :now
                     AND p.done_at IS NULL AND p.deleted_at IS NULL)
  GROUP BY coalesce(c.owner_id, 0))  -- not in owner_id index order: no 1M random reads
SELECT rep, fid, at, code, name, n FROM due WHERE rn <= 15
UNION ALL SELECT rep, NULL, NULL, NULL, NULL, n FROM behind
"""


def floor_query(engine: Engine) -> int:
    """What the digest shows (each rep's first 15 due items and the counts) in one statement."""
    s, now = DomainSettings(_env_file=None), datagen.NOW
    dt = UTCDateTime()
    q = text(FLOOR).bindparams(*(bindparam(k, type_=dt) for k in ("day_end", "cut_a", "cut_b", "cut_c", "now")))
    with engine.connect() as c:
        return len(c.execute(q, {"day_end": now + timedelta(days=1), "now": now,
                                 "cut_a": now - timedelta(days=s.cadence_a_days),
                                 "cut_b": now - timedelta(days=s.cadence_b_days),
                                 "cut_c": now - timedelta(days=s.cadence_c_days)}).fetchall())


def digest(core: Core) -> int:
    """The real job as the scheduler runs it, then its rows removed again (so the next round does it all)."""
    n = run_job(core.engine, "followup_digest", now=datagen.NOW, settings=core.settings, channels={})
    with core.engine.begin() as c:
        c.execute(delete(Outbox).where(Outbox.key.like("digest:%")))
        c.execute(delete(JobRun))
    return n


def digest_rows(core: Core, reps: int, rounds: int, label: str) -> list[Row]:
    a, b = [], []
    for _ in range(rounds):  # no warm-up: one round of the real thing is long enough
        a.append(ms(lambda: digest(core)) / 1000)
        b.append(ms(lambda: floor_query(core.engine)) / 1000)
    ours, ref = median(a), median(b)
    return [Row(f"{label}: morning digest for {reps:,} reps vs one SQL query (the floor)", "s", ours, ref,
                "≤ 3× the floor", ours <= 3 * ref)]


class _Errors(logging.Handler):
    """Commands that failed: an unexpected error (ERROR), or "busy, try again" (the router's warning that the
    database was unavailable: a command that waited out the busy timeout)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.n = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.getMessage().startswith("the database is unavailable"):
            self.n += 1


def _chat_mix(core: Core, rep: str, code: str, stop: threading.Event | None, limit: int) -> list[float]:
    lines = ["/followups", f"/customer {code}", f"/log {code} phone: bench call next: in 3 days", "/help"]
    out: list[float] = []
    while len(out) < limit and (stop is None or not stop.is_set()):
        out.append(ms(lambda: say(core, rep, lines[len(out) % len(lines)])))
    return out


def chat_during_digest(core: Core, label: str, limit: int = 400) -> list[Row]:
    rep, code = "rep0000", datagen.customer_code(_first_customer_of(core.engine, "rep0000"))
    errors = _Errors()
    logging.getLogger("crm").addHandler(errors)
    try:
        idle = _chat_mix(core, rep, code, None, 40)
        before = errors.n
        done = threading.Event()
        worker = threading.Thread(target=lambda: (digest(core), done.set()), daemon=True)
        worker.start()
        busy = _chat_mix(core, rep, code, done, limit)
        worker.join()
        failed = errors.n - before
    finally:
        logging.getLogger("crm").removeHandler(errors)
    return [Row(f"{label}: chat commands while the digest runs — failed ({len(busy)} sent)", "failed",
                float(failed), 0.0, "none fail", failed == 0),
            Row(f"{label}: chat commands while the digest runs, p99 (reference: idle)", "ms", pct(busy, 99),
                pct(idle, 99), "< 300 ms", pct(busy, 99) < 300 and failed == 0)]


def _first_customer_of(engine: Engine, rep: str) -> int:
    with engine.connect() as c:
        return int(c.execute(text("SELECT min(c.id) FROM customer c JOIN staff s ON s.id = c.owner_id "
                                  "WHERE s.name = :n"), {"n": rep}).scalar_one())


# ---------------------------------------------------------------- /report quality

QUALITY_FLOOR = """
SELECT (SELECT count(*) FROM (SELECT name_norm FROM customer WHERE merged_into_id IS NULL
                              GROUP BY name_norm HAVING count(*) > 1) g),
       (SELECT count(*) FROM customer c WHERE merged_into_id IS NULL AND NOT EXISTS (
            SELECT 1 FROM contact k WHERE k.customer_id = c.id AND (k.phone IS NOT NULL OR k.email IS NOT NULL))),
       (SELECT count(*) FROM customer WHERE merged_into_id IS NULL AND owner_id IS NOT NULL
            AND coalesce(last_followup_at, created_at) < :before)
"""


def quality_rows(core: Core, rounds: int, label: str) -> list[Row]:
    """`/report quality` as the admin (every section over the whole book, the chart drawn) against a floor
    of three of its counts in one hand-written statement."""
    before = datagen.NOW - timedelta(days=90)
    a, b = paired(lambda: say(core, ADMIN, "/report quality"),
                  lambda: _sql(core.engine, QUALITY_FLOOR, before=before.replace(tzinfo=None)), rounds)
    return [Row(f"{label}: /report quality as admin (whole book), p50", "ms", median(a), median(b), "< 3 s",
                median(a) < 3000)]
