"""`/report funnel` and `/report forecast` against figures worked out by hand on a fixed data set (below), their
owner:/team: filters, who may see what, and their charts (a PNG with Chinese labels drawn in the shipped font).

Now is Monday 2026-11-23 10:00 Asia/Shanghai. Opportunities created in 2026 (the funnel's `year`):

| opp | owner | stage       | expected | signed | created    | how far it got                       |
| O1  | alice | initial     | 100,000  |        | 2026-03-01 | initial                              |
| O2  | alice | needs       | 200,000  |        | 2026-03-02 | needs                                |
| O3  | alice | proposal    | 300,000  |        | 2026-04-01 | proposal                             |
| O4  | bob   | negotiation | 400,000  |        | 2026-05-01 | negotiation                          |
| O5  | alice | won         | 500,000  | 450,000| 2026-02-01 | won after 10 days, through every stage |
| O6  | bob   | won         | 100,000  | 120,000| 2026-06-01 | won after 20 days, straight from initial |
| O7  | alice | lost        | 50,000   |        | 2026-03-05 | needs, then lost: "Price too high"   |
| O8  | bob   | lost        | 60,000   |        | 2026-03-06 | initial, lost: "price   too HIGH"    |
| O9  | zed   | lost        | 70,000   |        | 2026-03-07 | proposal, lost: "Went with competitor" |

Reached: initial 9, needs 7, proposal 5, negotiation 3, won 2 → 78 %, 71 %, 60 %, 67 %. Win rate 2/5 = 40 %;
15.0 days to win; lost reasons: price too high ×2, competitor ×1; open amount ¥1,000,000; won ¥570,000.

Forecast (November 2026 – January 2027), weights 10/25/50/75 %: O1 closes 11-30 (¥10,000), O2 12-15 (¥50,000)
and O3 12-20 (¥150,000), O4 2027-01-10 (¥300,000): ¥10,000 / ¥200,000 / ¥300,000, in all ¥510,000. Left out:
O10 (zed, past its close date 10-31, ¥80,000), O11 (zed, no date, ¥90,000); O12 closes in March. Won a year
earlier: W1 ¥250,000 on 2025-11-15, W4 ¥40,000 on 2025-11-30 17:00 UTC (= 12-01 in Shanghai: December), W2
¥80,000 on 2026-01-05; W3 (2025-10-31) is outside → ¥250,000 / ¥40,000 / ¥80,000, in all ¥370,000.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from bot.console.driver import ConsoleSession
from handlers.i18n import enum_label, t
from storage.db import session_scope
from storage.models import Opportunity, OpportunityStage
from tests import factories as f
from tests.unit.test_charts import check_cjk_figure

STEPS = ("initial", "needs", "proposal", "negotiation")


def _at(y: int, m: int, d: int, h: int = 2) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def _opp(s, n: int, customer, owner, *, stage: str, amount: int, created: datetime, path: tuple[str, ...] = (),
         won_at: datetime | None = None, signed: int | None = None, reason: str | None = None,
         close: date | None = None) -> None:
    o = Opportunity(code=f"{customer.code}OP{n:02d}", customer_id=customer.id, name=f"O{n}",
                    expected_amount=Decimal(amount), expected_close_date=close, stage=stage, owner_id=owner.id,
                    actual_amount=Decimal(signed) if signed else None, contract_no="C1" if signed else None,
                    lost_reason=reason, created_at=created, updated_at=created)
    s.add(o)
    s.flush()
    prev, at = None, created
    for step in ("initial", *path):
        at = won_at if step == "won" and won_at else at
        s.add(OpportunityStage(opportunity_id=o.id, from_stage=prev, to_stage=step, staff_id=owner.id, at=at))
        prev = step
    s.flush()


@pytest.fixture
def world(core):
    with session_scope(core.engine) as s:
        mary, alice, bob, zed = f.east_and_west(s)
        f.staff(s, name="王强", role="admin", team=None, lang="zh")
        ca, cb, cz = (f.customer(s, name=n, owner=o) for n, o in (("云栖科技", alice), ("Bob Co", bob),
                                                                   ("West Ltd", zed)))
        _opp(s, 1, ca, alice, stage="initial", amount=100_000, created=_at(2026, 3, 1), close=date(2026, 11, 30))
        _opp(s, 2, ca, alice, stage="needs", amount=200_000, created=_at(2026, 3, 2), path=("needs",),
             close=date(2026, 12, 15))
        _opp(s, 3, ca, alice, stage="proposal", amount=300_000, created=_at(2026, 4, 1), path=("needs", "proposal"),
             close=date(2026, 12, 20))
        _opp(s, 4, cb, bob, stage="negotiation", amount=400_000, created=_at(2026, 5, 1),
             path=("needs", "proposal", "negotiation"), close=date(2027, 1, 10))
        _opp(s, 5, ca, alice, stage="won", amount=500_000, signed=450_000, created=_at(2026, 2, 1),
             path=("needs", "proposal", "negotiation", "won"), won_at=_at(2026, 2, 11))
        _opp(s, 6, cb, bob, stage="won", amount=100_000, signed=120_000, created=_at(2026, 6, 1), path=("won",),
             won_at=_at(2026, 6, 21))
        _opp(s, 7, ca, alice, stage="lost", amount=50_000, created=_at(2026, 3, 5), path=("needs", "lost"),
             reason="Price too high")
        _opp(s, 8, cb, bob, stage="lost", amount=60_000, created=_at(2026, 3, 6), path=("lost",),
             reason="price   too HIGH")
        _opp(s, 9, cz, zed, stage="lost", amount=70_000, created=_at(2026, 3, 7), path=("needs", "proposal", "lost"),
             reason="Went with competitor")
        # for the forecast only: created before 2026
        _opp(s, 10, cz, zed, stage="initial", amount=80_000, created=_at(2025, 12, 1), close=date(2026, 10, 31))
        _opp(s, 11, cz, zed, stage="needs", amount=90_000, created=_at(2025, 6, 1), path=("needs",))
        _opp(s, 12, ca, alice, stage="proposal", amount=1_000_000, created=_at(2025, 6, 2),
             path=("needs", "proposal"), close=date(2027, 3, 1))
        _opp(s, 21, ca, alice, stage="won", amount=1, signed=250_000, created=_at(2025, 10, 1), path=("won",),
             won_at=_at(2025, 11, 15))
        _opp(s, 22, cb, bob, stage="won", amount=1, signed=80_000, created=_at(2025, 12, 1), path=("won",),
             won_at=_at(2026, 1, 5))
        _opp(s, 23, cz, zed, stage="won", amount=1, signed=999_000, created=_at(2025, 9, 1), path=("won",),
             won_at=_at(2025, 10, 31))
        _opp(s, 24, cb, bob, stage="won", amount=1, signed=40_000, created=_at(2025, 11, 1), path=("won",),
             won_at=_at(2025, 11, 30, 17))
    return core


def chat(core, user):
    return ConsoleSession(core, user=user)


def _conv(lang, a, b, rate, to, frm):
    return f"{enum_label(lang, 'stage', a)} → {enum_label(lang, 'stage', b)}: " + \
        t(lang, "opp.rep.conv_line", rate=rate, to=to, frm=frm)


def test_funnel_figures(world):
    c = chat(world, "root")
    out = c.send("/report funnel year")
    line = lambda st, n, a: f"{enum_label('en', 'stage', st)}: {t('en', 'opp.rep.stage_line', count=n, amount=a)}"  # noqa: E731
    for st, n, a in (("initial", 1, "¥100,000"), ("needs", 1, "¥200,000"), ("proposal", 1, "¥300,000"),
                     ("negotiation", 1, "¥400,000"), ("won", 2, "¥570,000"), ("lost", 3, "¥180,000")):
        assert line(st, n, a) in out, (st, out)
    assert t("en", "opp.rep.summary", total=9, rate="40%", amount="¥1,000,000") in out
    assert t("en", "opp.rep.avg_days", days="15.0") in out
    for a, b, rate, to, frm in (("initial", "needs", "78%", 7, 9), ("needs", "proposal", "71%", 5, 7),
                                ("proposal", "negotiation", "60%", 3, 5), ("negotiation", "won", "67%", 2, 3)):
        assert _conv("en", a, b, rate, to, frm) in out
    reasons = out.split(t("en", "opp.rep.lost_reasons"))[1]
    assert reasons.index("Price too high: × 2") < reasons.index("Went with competitor: × 1")
    assert "price   too HIGH" not in out
    f_ = c.last_reply.file
    assert f_ is not None and f_.mime == "image/png" and Image.open(f_.path).format == "PNG"


def test_funnel_aliases_and_the_default_period(world):
    c = chat(world, "root")
    for alias in ("pipeline", "漏斗", "销售漏斗"):
        assert t("en", "opp.rep.summary", total=9, rate="40%", amount="¥1,000,000") in c.send(f"/report {alias}")


def test_funnel_owner_and_team_filters(world):
    c = chat(world, "root")
    out = c.send("/report funnel year owner:alice")  # O1 O2 O3 O5 O7
    assert t("en", "opp.rep.summary", total=5, rate="50%", amount="¥600,000") in out
    assert t("en", "report.scope.owner", name="alice") in out
    out = c.send("/report funnel team:east")  # alice's and bob's: all but O9
    assert t("en", "opp.rep.summary", total=8, rate="50%", amount="¥1,000,000") in out
    assert t("en", "opp.rep.summary", total=8, rate="50%", amount="¥1,000,000") in c.send("/report funnel team:mary")
    assert t("en", "report.no_team", name="north") in c.send("/report funnel team:north")
    assert t("en", "opp.rep.summary", total=5, rate="50%", amount="¥600,000") in c.send('/report funnel owner:"alice" year')
    assert t("en", "report.bad_period", value="year x") in c.send("/report funnel 负责人:alice year x")


def test_funnel_sees_only_what_the_viewer_may(world):
    m = chat(world, "mary")  # her team: alice and bob
    assert t("en", "opp.rep.summary", total=8, rate="50%", amount="¥1,000,000") in m.send("/report funnel")
    assert t("en", "staffcmd.not_found", name="zed") in m.send("/report funnel owner:zed")
    assert t("en", "report.no_team", name="west") in m.send("/report funnel team:west")
    a = chat(world, "alice")
    assert t("en", "opp.rep.summary", total=5, rate="50%", amount="¥600,000") in a.send("/report funnel")
    assert t("en", "staffcmd.not_found", name="bob") in a.send("/report funnel owner:bob")


def test_funnel_in_chinese_with_its_chart(world, monkeypatch):
    figs = []
    from handlers import charts
    real = charts.funnel
    monkeypatch.setattr(charts, "funnel", lambda **kw: figs.append(real(**kw)) or figs[-1])
    c = chat(world, "王强")
    out = c.send("/report 漏斗 year")
    assert _conv("zh", "initial", "needs", "78%", 7, 9) in out
    assert t("zh", "opp.rep.avg_days", days="15.0") in out
    texts = check_cjk_figure(figs[0])
    assert enum_label("zh", "stage", "initial") in texts and t("zh", "opp.rep.chart") in texts
    assert t("zh", "opp.rep.won_note", count=2, amount="¥570,000") in texts


def test_forecast_figures(world):
    c = chat(world, "root")
    out = c.send("/report forecast")
    assert t("en", "fc.title", start="2026-11", end="2027-01") in out
    for month, w, n, a, last in (("2026-11", "¥10,000", 1, "¥100,000", "¥250,000"),
                                 ("2026-12", "¥200,000", 2, "¥500,000", "¥40,000"),
                                 ("2027-01", "¥300,000", 1, "¥400,000", "¥80,000")):
        assert f"{month}: " + t("en", "fc.month_line", weighted=w, count=n, amount=a, last=last) in out, month
    assert t("en", "fc.total", weighted="¥510,000", last="¥370,000") in out
    assert t("en", "fc.overdue", count=1, amount="¥80,000") in out
    assert t("en", "fc.undated", count=1, amount="¥90,000") in out
    assert "Initial contact 10%" in out or f"{enum_label('en', 'stage', 'initial')} 10%" in out
    assert c.last_reply.file.mime == "image/png" and Path(c.last_reply.file.path).stat().st_size > 5000


def test_forecast_weights_are_a_setting(world):
    world.settings.forecast_weights = {"initial": 50, "needs": 50, "proposal": 50, "negotiation": 100}
    out = chat(world, "root").send("/report forecast")
    # Nov 100k×50 %, Dec 200k×50 % + 300k×50 %, Jan 400k×100 %
    assert t("en", "fc.total", weighted="¥700,000", last="¥370,000") in out


def test_forecast_scope_and_period(world):
    c = chat(world, "root")
    out = c.send("/report forecast owner:bob")  # O4 in January; bob's W4 in December and W2 in January
    assert t("en", "fc.total", weighted="¥300,000", last="¥120,000") in out
    assert "⚠" not in c.send("/report forecast 2026-12")
    out = c.last.text
    assert t("en", "fc.title", start="2026-12", end="2026-12") in out
    assert t("en", "fc.total", weighted="¥200,000", last="¥40,000") in out
    assert t("en", "report.bad_period", value="2026-13") in c.send("/report forecast 2026-13")
    a = chat(world, "alice")  # her own: O1, O2, O3; W1
    assert t("en", "fc.total", weighted="¥210,000", last="¥250,000") in a.send("/report forecast")


def test_forecast_chart_in_chinese(world, monkeypatch):
    figs = []
    from handlers import charts
    real = charts.bars
    monkeypatch.setattr(charts, "bars", lambda **kw: figs.append(real(**kw)) or figs[-1])
    out = chat(world, "王强").send("/report 预测")
    assert t("zh", "fc.total", weighted="¥510,000", last="¥370,000") in out
    texts = check_cjk_figure(figs[0])
    assert t("zh", "fc.series.weighted") in texts and t("zh", "fc.chart") in texts
