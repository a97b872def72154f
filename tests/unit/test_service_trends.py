"""The weekly trend charts of `/report csat`, `/report sla` and the weekly complaint review, against figures
worked out by hand, in the viewer's zone (Asia/Shanghai, UTC+8); their Chinese labels drawn in the shipped font.

Now is Monday 2026-11-23 10:00 local. `/report csat month` covers November; its trend shows the 8 weeks up to the
period's end: the Mondays 10-12, 10-19, 10-26, 11-02, 11-09, 11-16, 11-23, 11-30.

| ticket | type      | created (UTC) | closed (UTC)     | local week | rating |
| T1     | complaint | 11-16 03:00   | 11-16 03:00      | 11-16      | 5      |
| T2     | consult   | 11-16 04:00   | 11-22 15:00      | 11-16 (Sun 23:00) | 3 |
| T3     | complaint | 10-20 04:00   | 11-22 16:30      | 11-23 (Mon 00:30) | 2 |
| T4     | consult   | 10-13 04:00   | 10-13 04:00      | 10-12      | 4      |
| T5     | consult   | 11-10 04:00   | 11-10 04:00      | 11-09      | —      |
| T6     | consult   | 10-05 04:00   | 10-05 04:00      | before the trend | 1 |

Average rating by week: 4.0, —, —, —, —, 4.0 (5 and 3), 2.0, —.

Level-1 breaches: B1 T1 assign due 11-16 03:00 and B2 T1 contact due 11-17 (week 11-16), B3 T2 resolve due
11-22 16:30 UTC (week 11-23), B5 T3 assign due 10-20 (week 10-19); B4 (T2 assign, level 2) does not count.
→ assign 0,1,0,0,0,1,0,0 · contact 0,0,0,0,0,1,0,0 · resolve 0,0,0,0,0,0,1,0.

The review of the week 11-16 posted on Monday 11-23 shows the 8 weeks 09-28 … 11-16: complaints created (T3 in
week 10-19, T1 in 11-16) 0,0,0,1,0,0,0,1; level-1 breaches that fell due (B5; B1 and B2; B3 falls in the
next week) 0,0,0,1,0,0,0,2.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from PIL import Image
from sqlmodel import select

from bot.console.driver import ConsoleSession
from handlers import charts
from handlers.i18n import t
from handlers.services.reviews import post_complaint_review
from handlers.views import from_json
from storage.db import session_scope
from storage.models import Outbox, SlaBreach, Ticket
from tests import factories as f
from tests.unit.test_charts import check_cjk_figure


def _u(m: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(2026, m, d, h, mi, tzinfo=UTC)


@pytest.fixture
def desk(core):
    with session_scope(core.engine) as s:
        f.staff(s, name="sue", role="supervisor", team=None)
        f.staff(s, name="苏敏", role="supervisor", team=None, lang="zh")
        agent = f.staff(s, name="alan", role="agent", team=None)
        c = f.customer(s, name="云栖科技")
        rows = {}
        for n, typ, created, closed, rating in (
                (1, "complaint", _u(11, 16, 3), _u(11, 16, 3), 5),
                (2, "consult", _u(11, 16, 4), _u(11, 22, 15), 3),
                (3, "complaint", _u(10, 20, 4), _u(11, 22, 16, 30), 2),
                (4, "consult", _u(10, 13, 4), _u(10, 13, 4), 4),
                (5, "consult", _u(11, 10, 4), _u(11, 10, 4), None),
                (6, "consult", _u(10, 5, 4), _u(10, 5, 4), 1)):
            tk = Ticket(code=f"FW2026{n:03d}", customer_id=c.id, description=f"T{n}", type=typ, priority="high",
                        status="closed", assignee_id=agent.id, rating=rating, created_at=created,
                        updated_at=closed, closed_at=closed)
            s.add(tk)
            s.flush()
            rows[n] = tk.id
        for tid, kind, level, due in ((1, "assign", 1, _u(11, 16, 3)), (1, "contact", 1, _u(11, 17, 3)),
                                      (2, "resolve", 1, _u(11, 22, 16, 30)), (2, "assign", 2, _u(11, 18, 3)),
                                      (3, "assign", 1, _u(10, 20, 4))):
            s.add(SlaBreach(ticket_id=rows[tid], kind=kind, level=level, due_at=due, escalated_at=due,
                            met_at=due))
    return core


def _capture(monkeypatch) -> list:
    figs = []
    real = charts.lines
    monkeypatch.setattr(charts, "lines", lambda **kw: figs.append(real(**kw)) or figs[-1])
    return figs


def _series(fig) -> dict[str, list]:
    ax = fig.axes[0]
    return {ln.get_label(): [None if math.isnan(y) else y for y in ln.get_ydata()] for ln in ax.lines}


def _ticks(fig) -> list[str]:
    return [x.get_text() for x in fig.axes[0].get_xticklabels()]


WEEKS = ["10-12", "10-19", "10-26", "11-02", "11-09", "11-16", "11-23", "11-30"]


def test_csat_weekly_trend(desk, monkeypatch):
    figs = _capture(monkeypatch)
    c = ConsoleSession(desk, user="sue")
    out = c.send("/report csat month")
    assert "⚠" not in out and c.last_reply.file.mime == "image/png"
    assert Image.open(c.last_reply.file.path).format == "PNG"
    assert _ticks(figs[0]) == WEEKS
    assert _series(figs[0]) == {t("en", "csat.avg"): [4.0, None, None, None, None, 4.0, 2.0, None]}


def test_sla_weekly_trend(desk, monkeypatch):
    figs = _capture(monkeypatch)
    c = ConsoleSession(desk, user="sue")
    c.send("/report sla month")
    assert c.last_reply.file.name.startswith("sla-")
    assert _ticks(figs[0]) == WEEKS
    assert _series(figs[0]) == {t("en", "sla.kind.assign"): [0, 1, 0, 0, 0, 1, 0, 0],
                                t("en", "sla.kind.contact"): [0, 0, 0, 0, 0, 1, 0, 0],
                                t("en", "sla.kind.resolve"): [0, 0, 0, 0, 0, 0, 1, 0]}


def test_a_year_shows_every_week_of_it(desk, monkeypatch):
    figs = _capture(monkeypatch)
    ConsoleSession(desk, user="sue").send("/report csat year")
    ticks = _ticks(figs[0])
    assert len(ticks) == 53 and ticks[0] == "12-29" and ticks[-1] == "12-28"  # 2025-12-29 … 2026-12-28


def test_trend_charts_in_chinese(desk, monkeypatch):
    figs = _capture(monkeypatch)
    c = ConsoleSession(desk, user="苏敏")
    c.send("/report 满意度")
    c.send("/report sla")
    assert t("zh", "csat.trend") in check_cjk_figure(figs[0])
    texts = check_cjk_figure(figs[1])
    assert t("zh", "sla.trend") in texts and t("zh", "sla.kind.contact") in texts


def test_the_weekly_review_carries_its_chart(desk, clock, monkeypatch):
    figs = _capture(monkeypatch)
    desk.settings.service_lang = "zh"
    with session_scope(desk.engine) as s:
        assert post_complaint_review(s, now=clock(), settings=desk.settings, channels={"console": "#service"}) == 1
    with session_scope(desk.engine) as s:
        [row] = s.exec(select(Outbox)).all()
        reply = from_json(row.payload)
    assert reply.file is not None and reply.file.mime == "image/png" and Image.open(reply.file.path).format == "PNG"
    assert _ticks(figs[0]) == ["09-28", "10-05", "10-12", "10-19", "10-26", "11-02", "11-09", "11-16"]
    assert _series(figs[0]) == {t("zh", "review.series.complaints"): [0, 0, 0, 1, 0, 0, 0, 1],
                                t("zh", "review.series.breaches"): [0, 0, 0, 1, 0, 0, 0, 2]}
    assert t("zh", "review.trend") in check_cjk_figure(figs[0])
