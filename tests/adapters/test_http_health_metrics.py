"""`GET /healthz` (200 or 503 with the reason) and `GET /metrics` (Prometheus text) on the one HTTP server."""
# ruff: noqa: F811 - the shared fixtures are imported by name (tests/fakes/slack_fixtures.py)

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from bot.health import Health
from bot.metrics import Metrics
from bot.web.server import Limits, WebServer
from storage.db import session_scope
from storage.models import DialogState, JobRun, Outbox, SlaBreach, Ticket
from tests import factories as f
from tests.fakes.slack_fixtures import make_env
from tests.fakes.slack_testkit import testkit  # noqa: F401


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=15) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.fixture
def served(engine, settings, clock):  # noqa: ANN001, ANN201
    role = {"now": "leader"}
    server = WebServer(host="127.0.0.1", port=0, health=Health(engine, settings, clock=clock, role=lambda: role["now"]),
                       metrics=Metrics(engine, clock=clock))
    server.start()
    yield server, role
    server.stop()


def outbox_row(s, *, key: str, status: str, created) -> None:  # noqa: ANN001
    s.add(Outbox(key=key, platform="slack", chat_ref="C1", scope="c:C1", payload="{}", status=status,
                 next_attempt_at=created, created_at=created))


def test_healthz_fresh_database_is_200_with_role_jobs_and_outbox(served):
    server, role = served
    status, body = get(server.url + "/healthz")
    report = json.loads(body)
    assert status == 200 and report["ok"] is True and report["reasons"] == []
    assert report["database"] == "ok" and report["scheduler"]["role"] == "leader"
    assert report["scheduler"]["jobs"]["sla_watch"] == {"last_run": None, "items": None, "failed": False}
    assert report["outbox"] == {"pending": 0, "failed": 0, "sent": 0, "oldest_pending_age_s": None}
    role["now"] = "follower"
    assert json.loads(get(server.url + "/healthz")[1])["scheduler"]["role"] == "follower"


def test_healthz_outbox_stuck_is_503_with_the_reason(served, engine, clock):
    server, _ = served
    with session_scope(engine) as s:
        outbox_row(s, key="a", status="pending", created=clock() - timedelta(minutes=3))
        outbox_row(s, key="b", status="failed", created=clock() - timedelta(days=1))
    status, body = get(server.url + "/healthz")
    assert status == 200 and json.loads(body)["outbox"]["pending"] == 1
    assert json.loads(body)["outbox"]["oldest_pending_age_s"] == 180.0
    clock.now += timedelta(minutes=20)
    status, body = get(server.url + "/healthz")
    report = json.loads(body)
    assert status == 503 and report["ok"] is False
    assert len(report["reasons"]) == 1 and report["reasons"][0].startswith("outbox:")
    assert report["outbox"]["failed"] == 1


def test_healthz_a_job_that_stopped_running_is_503_a_failed_run_is_only_reported(served, engine, clock):
    server, _ = served
    with session_scope(engine) as s:
        s.add(JobRun(name="sla_watch", started_at=clock() - timedelta(seconds=20), finished_at=clock(), items=2))
        s.add(JobRun(name="followup_digest", started_at=clock() - timedelta(seconds=30), finished_at=clock(),
                     error="ValueError: x"))
    status, body = get(server.url + "/healthz")
    report = json.loads(body)
    assert status == 200, report
    assert report["scheduler"]["jobs"]["sla_watch"]["items"] == 2
    assert report["scheduler"]["jobs"]["followup_digest"]["failed"] is True
    assert "ValueError" not in body.decode()  # error text stays in the log
    clock.now += timedelta(minutes=30)
    status, body = get(server.url + "/healthz")
    reasons = json.loads(body)["reasons"]
    assert status == 503
    assert any(r.startswith("scheduler: job sla_watch") for r in reasons)
    assert any(r.startswith("scheduler: job followup_digest") for r in reasons)


def test_healthz_and_metrics_with_the_database_away(settings, clock):
    away = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none", connect_args={"connect_timeout": 2})
    server = WebServer(host="127.0.0.1", port=0, health=Health(away, settings, clock=clock),
                       metrics=Metrics(away, clock=clock), limits=Limits(check_timeout=20))
    server.start()
    try:
        status, body = get(server.url + "/healthz")
        report = json.loads(body)
        assert status == 503 and report["database"].startswith("unreachable")
        assert report["reasons"] == [f"database: {report['database']}"]
        assert "127.0.0.1" not in body.decode() and "postgres" not in body.decode()
        status, body = get(server.url + "/metrics")
        assert status == 200
        assert samples(body)[("crm_database_up", ())] == 0
    finally:
        server.stop()


def samples(body: bytes) -> dict[tuple[str, tuple], float]:
    out = {}
    for fam in text_string_to_metric_families(body.decode()):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_scrape_shows_database_figures(served, engine, clock):
    server, _ = served
    with session_scope(engine) as s:
        outbox_row(s, key="a", status="pending", created=clock() - timedelta(minutes=2))
        outbox_row(s, key="b", status="sent", created=clock())
        outbox_row(s, key="c", status="failed", created=clock())
        rep = f.staff(s, name="ray")
        cust = f.customer(s, name="Acme", owner=rep)
        t = Ticket(code="FW2026001", customer_id=cust.id, description="down", type="complaint", priority="high",
                   created_at=clock(), updated_at=clock())
        s.add(t)
        s.flush()
        s.add(SlaBreach(ticket_id=t.id, kind="assign", level=1, due_at=clock(), escalated_at=clock()))
        s.add(SlaBreach(ticket_id=t.id, kind="assign", level=2, due_at=clock(), escalated_at=clock()))
        s.add(DialogState(platform="slack", chat_ref="D1", user_ref="U1", dialog="log_call",
                          expires_at=clock() + timedelta(hours=1), updated_at=clock()))
        s.add(DialogState(platform="slack", chat_ref="D2", user_ref="U2", dialog="log_call",
                          expires_at=clock() - timedelta(hours=1), updated_at=clock()))
        s.add(JobRun(name="followup_digest", started_at=clock() - timedelta(seconds=3),
                     finished_at=clock() - timedelta(seconds=1), items=4))
    status, body = get(server.url + "/metrics")
    assert status == 200
    m = samples(body)
    assert m[("crm_database_up", ())] == 1
    assert m[("crm_outbox_messages", (("status", "pending"),))] == 1
    assert m[("crm_outbox_messages", (("status", "sent"),))] == 1
    assert m[("crm_outbox_messages", (("status", "failed"),))] == 1
    assert m[("crm_outbox_oldest_pending_age_seconds", ())] == 120
    assert m[("crm_active_dialogs", (("dialog", "log_call"),))] == 1
    assert m[("crm_job_last_duration_seconds", (("job", "followup_digest"),))] == 2
    assert m[("crm_job_last_items", (("job", "followup_digest"),))] == 4
    assert m[("crm_sla_breaches", (("kind", "contact"),))] == 0
    assert m[("crm_sla_breaches", (("kind", "assign"),))] == 1  # one breach, escalated twice


def test_metrics_count_a_signed_slack_command_by_verb_and_outcome(tmp_path, settings, clock, testkit):
    env = make_env(tmp_path, settings, clock, monitored=True)
    try:
        env.staff("alice", slack_id="U1")
        assert env.slack.command("/t_count", user="U1").status == 200
        env.fake.wait("response_url")
        assert env.slack.command("/t_nope", user="U1").status == 200
        env.fake.wait("response_url", 2)
        status, body = get(env.server.url + "/metrics")
        m = samples(body)
        key = ("crm_commands_total", (("outcome", "ok"), ("platform", "slack"), ("verb", "t_count")))
        assert m[key] == 1
        assert m[("crm_commands_total", (("outcome", "ok"), ("platform", "slack"), ("verb", "unknown")))] == 1
        assert m[("crm_command_duration_seconds_count", (("verb", "t_count"),))] == 1
        assert m[("crm_http_requests_total", (("route", "/slack/events"), ("status", "200")))] == 2
        status, body = get(env.server.url + "/healthz")
        assert status == 200 and json.loads(body)["ok"] is True
    finally:
        env.sender.stop()
        env.server.stop()
        env.fake.stop()


def test_the_request_id_of_a_slack_request_reaches_the_cores_observers(tmp_path, settings, clock, testkit):
    env = make_env(tmp_path, settings, clock)
    heard = []
    env.core.observers.append(heard.append)
    try:
        env.staff("alice", slack_id="U1")
        import time as _time
        from urllib.parse import urlencode

        from tests.fakes.slack_api import sign
        from tests.fakes.slack_fixtures import SECRET

        raw = urlencode({"command": "/t_count", "text": "", "user_id": "U1", "channel_id": "C1", "team_id": "T1",
                         "trigger_id": "9.t", "response_url": env.fake.response_url()})
        ts = str(int(_time.time()))
        req = urllib.request.Request(env.server.url + "/slack/events", data=raw.encode(), method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(SECRET, ts, raw)})
        with urllib.request.urlopen(req, timeout=15) as r:
            rid = r.headers["X-Request-Id"]
        env.fake.wait("response_url")
        assert rid and [(e.verb, e.request_id) for e in heard] == [("t_count", rid)]
    finally:
        env.sender.stop()
        env.server.stop()
        env.fake.stop()


def test_healthz_and_metrics_read_while_a_long_job_holds_the_sqlite_write_lock(tmp_path, settings, clock):
    from storage.db import create_all, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'locked.db'}")
    create_all(engine)
    with engine.connect() as writer:
        writer.begin()  # BEGIN IMMEDIATE: the write lock, held as a long digest run would
        writer.execute(JobRun.__table__.insert().values(name="sla_watch", started_at=clock(), items=0))
        ok, report = Health(engine, settings, clock=clock).check()
        assert ok, report
        assert report["scheduler"]["jobs"]["sla_watch"]["last_run"] is None  # the uncommitted run is not seen
        assert samples(Metrics(engine, clock=clock).scrape()[0])[("crm_database_up", ())] == 1
        writer.rollback()
    engine.dispose()
