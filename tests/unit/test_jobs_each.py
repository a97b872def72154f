"""Each item of a job in its own savepoint: a failing item is undone alone, the others are kept, and the
failure is recorded on the run."""

from __future__ import annotations

from sqlalchemy import select

from scheduler.jobs import FAILED_PART, each
from storage.db import session_scope
from storage.models import Setting
from tests.factories import NOW


def test_jobs_each_failing_item_is_rolled_back_alone(engine):
    with session_scope(engine) as s:
        def item(i: int) -> bool:
            s.add(Setting(key=f"k{i}", value="v", updated_at=NOW))
            s.flush()
            if i == 1:
                raise RuntimeError("bad item")
            return i != 2

        assert each(s, [0, 1, 2, 3], item, job="test") == 2
        assert s.info[FAILED_PART] == "item 1: RuntimeError: bad item"  # the run records it (scheduler.runner)
    with session_scope(engine) as s:
        assert sorted(s.scalars(select(Setting.key))) == ["k0", "k2", "k3"]
