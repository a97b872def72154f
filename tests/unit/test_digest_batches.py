"""followup_digest writes its rows in batches (one INSERT … ON CONFLICT DO NOTHING per `BATCH_REPS` reps): each
digest once, also across batches and reruns; a batch whose statement fails is written row by row, so that one
bad row neither stops nor undoes the others; a digest whose button does not fit a token still gets it stored."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handlers.views import from_json, walk_actions
from scheduler import runner
from scheduler.jobs import digest
from storage import outbox
from storage.db import session_scope
from storage.models import ActionRef, JobRun, Staff
from tests import factories as f
from tests.unit.test_jobs_digest import followup, rows, run

SHANGHAI = ZoneInfo("Asia/Shanghai")


def reps_with_work(engine, n: int) -> list[int]:
    with session_scope(engine) as s:
        ids = []
        for i in range(n):
            st = f.staff(s, name=f"rep{i}", tz="Asia/Shanghai")
            followup(s, f.customer(s, name=f"Cust {i}", owner=st), st, due=f.NOW - timedelta(days=1))
            ids.append(st.id)
        idle = f.staff(s, name="idle", tz="Asia/Shanghai")  # nothing due: a `skipped` row, in a batch too
        ids.append(idle.id)
        return ids


def test_digests_in_batches_each_once_across_batches_and_reruns(engine, settings, monkeypatch):
    monkeypatch.setattr(digest, "BATCH_REPS", 2)
    statements = []
    real = outbox.add_many
    monkeypatch.setattr(outbox, "add_many", lambda s, batch: statements.append(len(batch)) or real(s, batch))
    ids = reps_with_work(engine, 5)
    woke = []
    n = runner.run_job(engine, "followup_digest", now=f.NOW, settings=settings, channels={},
                       on_written=lambda: woke.append(1))
    assert n == 5 and woke == [1]
    assert statements == [2, 2, 2]  # 6 reps (5 with work, 1 skipped), 2 per statement
    assert sorted(r.staff_id for r in rows(engine)) == sorted(ids)
    assert [r.staff_id for r in rows(engine, "skipped")] == [ids[-1]]
    assert all(r.key == f"digest:{r.staff_id}:{f.NOW.astimezone(SHANGHAI).date()}" for r in rows(engine))
    assert run(engine, settings, f.NOW) == 0  # a rerun selects nobody
    with session_scope(engine) as s:  # a rep whose row exists written again (a run that overlapped): not sent
        st, local_now = s.get(Staff, ids[0]), f.NOW.astimezone(SHANGHAI)
        due = digest.due_for_all(s, [(st, local_now)], settings, now=f.NOW)
        assert digest._write(s, [digest._digest_one(s, st, due[st.id], settings, f.NOW, local_now)], f.NOW) == 0
    assert len(rows(engine)) == 6


def test_a_failing_batch_is_written_row_by_row_and_a_bad_row_is_recorded(engine, settings, monkeypatch):
    ids = reps_with_work(engine, 3)

    def broken_batch(s, batch):  # noqa: ANN001, ANN202
        raise RuntimeError("statement too big")

    real_add, bad = outbox.add, f"digest:{ids[1]}:"

    def add(s, **kw):  # noqa: ANN001, ANN003, ANN202
        if kw["key"].startswith(bad):
            raise RuntimeError("bad row")
        return real_add(s, **kw)

    monkeypatch.setattr(outbox, "add_many", broken_batch)
    monkeypatch.setattr(outbox, "add", add)
    assert run(engine, settings, f.NOW) == 2
    assert sorted(r.staff_id for r in rows(engine)) == sorted([ids[0], ids[2], ids[3]])
    with session_scope(engine) as s:
        error = s.scalar(select(JobRun.error).where(JobRun.name == "followup_digest"))
    assert "bad row" in error and bad in error


def test_a_button_too_long_for_a_token_is_stored_and_referenced(engine, settings):
    with session_scope(engine) as s:
        st = f.staff(s, name="lee", tz="Asia/Shanghai")
        c = f.customer(s, name="Long code", owner=st)
        c.code = "LONG-" + "9" * 40  # "/log <code>" no longer fits a button token
        followup(s, c, st, due=f.NOW - timedelta(days=1))
    assert run(engine, settings, f.NOW) == 1
    (row,) = rows(engine)
    refs = [a.cmd for a in walk_actions(from_json(row.payload)) if a.cmd.startswith("#")]
    assert len(refs) == 1
    with session_scope(engine) as s:
        assert s.get(ActionRef, int(refs[0][1:])).cmd == f"/log {c.code}"


@pytest.mark.parametrize("size", [1, 200])
def test_batch_size_does_not_change_what_is_sent(engine, settings, monkeypatch, size):
    monkeypatch.setattr(digest, "BATCH_REPS", size)
    reps_with_work(engine, 3)
    assert run(engine, settings, f.NOW) == 3
    assert len(rows(engine, "pending")) == 3 and len(rows(engine, "skipped")) == 1
