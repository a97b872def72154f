"""The bench's data generator and its JSON output (timings are never asserted)."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from bench import datagen
from bench.__main__ import main
from handlers.context import Inbound
from handlers.router import Core
from handlers.views import Error, Header
from storage.db import make_engine, session_scope
from storage.migrate import current, head
from storage.models import Contact, Customer, FollowUp, Staff


def test_generator_builds_a_small_database_the_app_opens_and_queries(tmp_path, settings):
    path, stats = datagen.sqlite_db(40, folder=tmp_path)
    assert not stats.cached and stats.rows == 3 * 40 + len(datagen.staff_rows(datagen.reps_for(40)))
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as c:
        assert current(c) == head()  # the real schema, from the migrations
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 40
        assert s.scalar(select(func.count()).select_from(Contact)) == 40
        assert s.scalar(select(func.count()).select_from(FollowUp)) == 40
        assert s.scalar(select(Staff.role).where(Staff.name == "bench-admin")) == "admin"
    core = Core(engine, settings, secret=b"bench", clock=lambda: datagen.NOW)
    code = datagen.customer_code(7)
    reply = core.handle(Inbound(platform="console", user_ref="bench-admin", chat_ref="@a", text=f"/customer {code}"))
    assert any(isinstance(v, Header) and code in v.text for v in reply.views)
    again = core.handle(Inbound(platform="console", user_ref="bench-admin", chat_ref="@a",
                                text=f"/customer {datagen.customer_code(8)}"))  # a new code does not collide
    assert not any(isinstance(v, Error) for v in again.views)
    engine.dispose()
    assert datagen.sqlite_db(40, folder=tmp_path)[1].cached  # re-runs reuse the file


def test_bench_json_rows_have_the_documented_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("BENCH_BIG_DATABASE_URL", raising=False)  # SQLite only here (CI runs it on PostgreSQL)
    out = tmp_path / "bench.json"
    assert main(["--quick", "--only", "big", "--customers", "200", "--json", str(out)]) == 0
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert rows and all(set(r) == {"figure", "unit", "ours", "reference", "ratio", "goal", "met"} for r in rows)
    assert any("digest" in r["figure"] for r in rows)


def test_import_bench_steps_count_what_they_did(capsys):
    from bench import importing

    steps = importing.one(30, None, updates=5, history=10)
    assert [(r["created"], r["updated"], r["unchanged"], r["problems"]) for r in steps] == [
        (30, 0, 0, 0), (30, 0, 0, 0), (0, 0, 30, 0), (0, 5, 25, 0), (10, 0, 0, 0), (10, 0, 0, 0)]
    assert "import: new customers" in importing.table(steps)
