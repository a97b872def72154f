"""`storage.db.among`: `column IN values` on SQLite, one array parameter (`= ANY(…)`) on PostgreSQL; the same
rows either way, for ids, text and an expression, with many values, none, or a NULL in the column."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.db import among, session_scope
from storage.models import Outbox, Staff
from tests import factories as f


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request, engine):
    return request.getfixturevalue("pg_db") if request.param == "postgresql" else engine


def test_among_selects_what_in_selects(any_engine):
    with session_scope(any_engine) as s:
        ids = [f.staff(s, name=f"rep {i}").id for i in range(6)]
        s.add_all(Outbox(key=f"k:{i}", platform="console", chat_ref="c", scope="s", payload="{}",
                         staff_id=ids[i] if i % 2 else None, next_attempt_at=f.NOW, created_at=f.NOW)
                  for i in range(6))
    with session_scope(any_engine) as s:
        if any_engine.dialect.name == "postgresql":  # one parameter, however many values
            sql = str(select(Staff.id).where(among(s, Staff.id, ids)).compile(any_engine))
            assert "= ANY (" in sql and " IN " not in sql
        wanted = set(ids[1:4])
        assert set(s.scalars(select(Staff.id).where(among(s, Staff.id, wanted | {10**6 + i for i in range(3000)}))
                             )) == wanted
        assert list(s.scalars(select(Staff.id).where(among(s, Staff.id, [])))) == []
        assert set(s.scalars(select(Outbox.key).where(among(s, Outbox.key, ["k:1", "k:4", "nope"])))) == {"k:1", "k:4"}
        # an expression, and a NULL column (left out, as by IN)
        assert set(s.scalars(select(Outbox.key).where(among(s, func.coalesce(Outbox.staff_id, 0), [0])))) == {
            "k:0", "k:2", "k:4"}
        assert set(s.scalars(select(Outbox.key).where(among(s, Outbox.staff_id, ids)))) == {"k:1", "k:3", "k:5"}
