"""`/report followups`: per rep the contacts logged by method, customers reached, overdue follow-ups and cadence
compliance by grade, with the weekly trend chart — against figures worked out by hand.

Now is Monday 2026-11-23 10:00 Asia/Shanghai (02:00 UTC); the period is November. Customers owned now: alice A1 (A),
A2 (A), B1 (B), C1 (C) and L1 (A, lost: left out); bob B2 (B), C2 (C); zed Z1 (C). Follow-ups (10:00 local):

| f   | by    | customer | method  | date  | note                                                  |
| F1  | alice | A1       | phone   | 11-20 | next follow-up 11-30 (not overdue)                    |
| F2  | alice | A2       | visit   | 11-10 |                                                       |
| F3  | alice | B1       | phone   | 11-12 | next follow-up 11-20: overdue, owed by alice          |
| F4  | alice | A1       | wechat  | 11-21 |                                                       |
| F5  | bob   | C2       | email   | 10-30 | October: only in the trend and the cadence            |
| F6  | bob   | B2       | phone   | 11-02 |                                                       |
| F7  | bob   | A1       | meeting | 11-16 | alice's customer                                      |
| F8  | alice | A2       | service | 11-22 | a complaint's trace: no sales contact                 |
| F9  | alice | C1       | phone   | 11-22 | deleted                                               |
| F10 | zed   | Z1       | phone   | 11-05 | another team                                          |

Logged: alice 4 (phone 2, visit 1, WeChat 1), bob 2 (phone 1, meeting 1); reached: alice 3 (A1 A2 B1), bob 2 (B2 A1);
overdue: alice 1. Cadence on 11-23 (A 7, B 14, C 30 days): alice A 1/2 (A1 yes, A2 13 days ago no), B 1/1, C 0/1;
bob A —, B 0/1 (21 days), C 1/1 (24 days). Team: A 1/2, B 1/2, C 1/2.
Trend (Mondays 10-12 … 11-30): alice 0,0,0,0,2,2,0,0; bob 0,0,1,1,0,1,0,0; mary 0 throughout.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from bot.console.driver import ConsoleSession
from handlers import charts
from handlers.i18n import enum_label, t
from storage.db import session_scope
from storage.models import FollowUp
from tests import factories as f
from tests.unit.test_charts import check_cjk_figure


def _d(m: int, d: int) -> datetime:
    return datetime(2026, m, d, 2, tzinfo=UTC)


@pytest.fixture
def team(core):
    with session_scope(core.engine) as s:
        mary, alice, bob, zed = f.east_and_west(s)
        f.staff(s, name="王芳", role="manager", team="east", lang="zh")
        cs = {}
        for key, owner, grade, typ in (("A1", alice, "A", "intent"), ("A2", alice, "A", "deal"),
                                       ("B1", alice, "B", "intent"), ("C1", alice, "C", "potential"),
                                       ("L1", alice, "A", "lost"), ("B2", bob, "B", "intent"),
                                       ("C2", bob, "C", "intent"), ("Z1", zed, "C", "intent")):
            cs[key] = f.customer(s, name=key, owner=owner, grade=grade, type=typ)
        for by, key, method, when, nxt, deleted in (
                (alice, "A1", "phone", _d(11, 20), _d(11, 30), False), (alice, "A2", "visit", _d(11, 10), None, False),
                (alice, "B1", "phone", _d(11, 12), _d(11, 20), False), (alice, "A1", "wechat", _d(11, 21), None, False),
                (bob, "C2", "email", _d(10, 30), None, False), (bob, "B2", "phone", _d(11, 2), None, False),
                (bob, "A1", "meeting", _d(11, 16), None, False), (alice, "A2", "service", _d(11, 22), None, False),
                (alice, "C1", "phone", _d(11, 22), None, True), (zed, "Z1", "phone", _d(11, 5), None, False)):
            s.add(FollowUp(customer_id=cs[key].id, date=when, method=method, content="talked about the order",
                           staff_id=by.id, assignee_id=by.id, next_followup_at=nxt, created_at=when,
                           deleted_at=when if deleted else None))
    return core


def _m(**counts: int) -> str:
    return ", ".join(f"{enum_label('en', 'method', m)} {n}" for m, n in counts.items())


def _capture(monkeypatch) -> list:
    figs = []
    real = charts.lines
    monkeypatch.setattr(charts, "lines", lambda **kw: figs.append(real(**kw)) or figs[-1])
    return figs


def _series(fig) -> dict[str, list]:
    return {ln.get_label(): [None if math.isnan(y) else int(y) for y in ln.get_ydata()] for ln in fig.axes[0].lines}


def test_followups_report_figures(team, monkeypatch):
    figs = _capture(monkeypatch)
    out = ConsoleSession(team, user="mary").send("/report followups 2026-11")
    assert "alice: " + t("en", "fu.report.row", total=4, methods=_m(phone=2, visit=1, wechat=1), overdue=1) in out
    assert t("en", "fu.report.row2", touched=3, cadence="A 50% (1/2) · B 100% (1/1) · C 0% (0/1)") in out
    assert "bob: " + t("en", "fu.report.row", total=2, methods=_m(phone=1, meeting=1), overdue=0) in out
    assert t("en", "fu.report.row2", touched=2, cadence="A — · B 0% (0/1) · C 100% (1/1)") in out
    assert t("en", "fu.report.total", total=6, overdue=1) in out
    assert t("en", "fu.report.cadence", date="2026-11-23", a="50% (1/2)", b="50% (1/2)", c="50% (1/2)",
             da=7, db=14, dc=30) in out
    assert "zed" not in out
    assert [x.get_text() for x in figs[0].axes[0].get_xticklabels()] == \
        ["10-12", "10-19", "10-26", "11-02", "11-09", "11-16", "11-23", "11-30"]
    assert _series(figs[0]) == {"alice": [0, 0, 0, 0, 2, 2, 0, 0], "bob": [0, 0, 1, 1, 0, 1, 0, 0],
                                "mary": [0] * 8, "王芳": [0] * 8}  # 王芳 manages the same team


def test_followups_report_owner_filter_and_cadence_setting(team, monkeypatch):
    figs = _capture(monkeypatch)
    team.settings.cadence_a_days = 14  # A2's visit 13 days ago is now on cadence
    out = ConsoleSession(team, user="root").send("/report followups owner:alice 2026-11")
    assert t("en", "fu.report.row2", touched=3, cadence="A 100% (2/2) · B 100% (1/1) · C 0% (0/1)") in out
    assert "bob" not in out and t("en", "report.scope.owner", name="alice") in out
    assert _series(figs[0]) == {"alice": [0, 0, 0, 0, 2, 2, 0, 0]}


def test_a_rep_sees_only_their_own_row(team):
    out = ConsoleSession(team, user="bob").send("/report followups 2026-11")
    assert "bob: " in out and "alice: " not in out
    assert t("en", "staffcmd.not_found", name="alice") in ConsoleSession(team, user="bob").send(
        "/report followups owner:alice")


def test_followups_chart_in_chinese(team, monkeypatch):
    figs = _capture(monkeypatch)
    c = ConsoleSession(team, user="王芳")
    out = c.send("/report 跟进 2026-11")
    assert t("zh", "fu.report.row2", touched=3, cadence="A 50% (1/2) · B 100% (1/1) · C 0% (0/1)") in out
    texts = check_cjk_figure(figs[0])
    assert t("zh", "fu.report.trend") in texts and "王芳" in texts
    assert c.last_reply.file.name.startswith("followups-")
