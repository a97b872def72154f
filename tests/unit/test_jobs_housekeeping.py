import os
from datetime import timedelta

from sqlmodel import select

from scheduler.jobs import housekeeping
from storage import outbox
from storage.models import ActionRef, DialogState, Outbox, ProcessedUpdate
from tests.factories import NOW


def test_housekeeping_forgets_only_what_has_expired(session, settings, tmp_path):
    old, new = NOW - timedelta(days=8), NOW - timedelta(hours=1)
    session.add_all([
        ProcessedUpdate(platform="telegram", key="1:1", at=old), ProcessedUpdate(platform="telegram", key="1:2", at=new),
        ActionRef(scope="c:1", cmd="/x", expires_at=NOW - timedelta(minutes=1)),
        ActionRef(scope="c:1", cmd="/y", expires_at=NOW + timedelta(days=1)),
        DialogState(platform="console", chat_ref="@a", user_ref="a", dialog="log_call", expires_at=old, updated_at=old),
        Outbox(key="a", platform="console", chat_ref="@a", scope="u:@a", payload="{}", status="sent",
               next_attempt_at=old, created_at=old, sent_at=NOW - timedelta(days=100)),
        Outbox(key="b", platform="console", chat_ref="@a", scope="u:@a", payload="{}", status="failed",
               next_attempt_at=old, created_at=old),
    ])
    session.flush()
    assert housekeeping.run(session, now=NOW, settings=settings, channels={}) >= 4
    assert [u.key for u in session.exec(select(ProcessedUpdate))] == ["1:2"]
    assert [a.cmd for a in session.exec(select(ActionRef))] == ["/y"]
    assert session.exec(select(DialogState)).all() == []
    assert [o.key for o in session.exec(select(Outbox))] == ["b"]  # failed rows stay visible


def test_housekeeping_deletes_day_old_chat_exports(tmp_path):
    stale, fresh = tmp_path / "crm-export-old", tmp_path / "crm-export-new"
    chart = tmp_path / "crm-chart-old"
    for d in (stale, fresh, chart):
        d.mkdir()
        (d / "customers.xlsx").write_bytes(b"x")
    two_days = (NOW - timedelta(days=2)).timestamp()
    os.utime(stale, (two_days, two_days))
    os.utime(chart, (two_days, two_days))
    os.utime(fresh, (NOW.timestamp(), NOW.timestamp()))
    assert housekeeping._old_exports(NOW, tmp_path) == 2
    assert not stale.exists() and not chart.exists() and fresh.exists()


def test_housekeeping_drops_the_text_of_messages_sent_a_week_ago(session, settings):
    def row(key: str, status: str, sent_days_ago: float | None) -> Outbox:
        sent = NOW - timedelta(days=sent_days_ago) if sent_days_ago is not None else None
        return Outbox(key=key, platform="telegram", chat_ref="42", scope="u:42", status=status, sent_at=sent,
                      payload='{"views": [{"text": "张伟 13812345678"}]}', next_attempt_at=NOW, created_at=NOW)

    session.add_all([row("old", "sent", 8), row("recent", "sent", 6), row("failed", "failed", None),
                     row("pending", "pending", None)])
    session.flush()
    housekeeping.run(session, now=NOW, settings=settings, channels={})
    texts = {o.key: o.payload for o in session.exec(select(Outbox))}
    assert texts["old"] == outbox.STRIPPED
    assert "13812345678" in texts["recent"] and "13812345678" in texts["failed"] and "13812345678" in texts["pending"]
    longer = settings.model_copy(update={"outbox_keep_text": timedelta(days=30)})
    session.add(row("old2", "sent", 8))
    session.flush()
    housekeeping.run(session, now=NOW, settings=longer, channels={})
    assert "13812345678" in session.exec(select(Outbox).where(Outbox.key == "old2")).one().payload
