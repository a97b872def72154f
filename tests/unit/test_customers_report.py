"""`/report customers`: new customers by source and industry, type changes from the audit trail, the types
now, and the chart — against figures worked out by hand.

Now is 2026-11-23; the period is November. Customers (owner, source, industry, registered, type now):
N1 alice 展会推广 manufacturing 11-02 deal · N2 alice 展会推广 IT 11-05 intent · N3 bob referral IT 11-10 deal ·
N4 bob (none) retail 11-20 intent · N5 zed 线上表单 IT 11-03 intent · N6 pool " 展会推广 " finance 11-15 potential ·
O1 alice referral IT 10-20 lost.
Type changes in November: N1 potential→intent, intent→deal; N2 potential→intent; N3 intent→deal; N5
potential→intent; O1 intent→lost; N4 deal→intent; (O1's potential→intent of 10-25 is October's).

Admin: 6 new; sources 展会推广 3, referral 1, 线上表单 1, (none) 1; industries IT 3, finance 1, manufacturing 1,
retail 1; changes potential→intent 3, intent→deal 2, intent→lost 1, deal→intent 1; now potential 1, intent 3,
deal 2, lost 1. Manager mary (east and the pool): 5 new, potential→intent 2. owner:alice: 2 new.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.console.driver import ConsoleSession
from handlers import charts
from handlers.i18n import enum_label, t
from storage.db import session_scope
from storage.models import AuditLog
from tests import factories as f
from tests.unit.test_charts import check_cjk_figure


def _d(m: int, d: int) -> datetime:
    return datetime(2026, m, d, 2, tzinfo=UTC)


@pytest.fixture
def book(core):
    with session_scope(core.engine) as s:
        mary, alice, bob, zed = f.east_and_west(s)
        f.staff(s, name="李雷", role="admin", team=None, lang="zh")
        cs = {}
        for key, owner, source, industry, when, typ in (
                ("N1", alice, "展会推广", "manufacturing", _d(11, 2), "deal"),
                ("N2", alice, "展会推广", "IT", _d(11, 5), "intent"), ("N3", bob, "referral", "IT", _d(11, 10), "deal"),
                ("N4", bob, None, "retail", _d(11, 20), "intent"), ("N5", zed, "线上表单", "IT", _d(11, 3), "intent"),
                ("N6", None, " 展会推广 ", "finance", _d(11, 15), "potential"),
                ("O1", alice, "referral", "IT", _d(10, 20), "lost")):
            c = f.customer(s, name=key, owner=owner, industry=industry, type=typ, now=when)
            c.source = source
            cs[key] = c
        for key, old, new, when in (("N1", "potential", "intent", _d(11, 6)), ("N1", "intent", "deal", _d(11, 20)),
                                    ("N2", "potential", "intent", _d(11, 8)), ("N3", "intent", "deal", _d(11, 11)),
                                    ("N5", "potential", "intent", _d(11, 9)), ("O1", "intent", "lost", _d(11, 12)),
                                    ("O1", "potential", "intent", _d(10, 25)), ("N4", "deal", "intent", _d(11, 21))):
            s.add(AuditLog(at=when, actor_id=mary.id, action="update", entity="customer", entity_id=cs[key].id,
                           entity_code=cs[key].code, field="type", old=old, new=new))
    return core


def _ct(lang, a, b):
    return f"{enum_label(lang, 'customer_type', a)} → {enum_label(lang, 'customer_type', b)}"


def _block(out: str, header: str) -> list[str]:
    """The indented lines under `== header ==`."""
    lines = out.split(f"== {header} ==\n", 1)[1].splitlines()
    return [x.strip() for x in lines[:next((i for i, x in enumerate(lines) if not x.startswith("  ")), len(lines))]]


def test_customers_report_figures(book):
    out = ConsoleSession(book, user="root").send("/report customers 2026-11")
    assert t("en", "cr.new", count=6) in out
    assert _block(out, t("en", "cr.by_source")) == ["展会推广: 3", "referral: 1", "线上表单: 1",
                                                    f"{t('en', 'cr.no_source')}: 1"]
    ind = lambda i: enum_label("en", "industry", i)  # noqa: E731
    assert _block(out, t("en", "cr.by_industry")) == [f"{ind('IT')}: 3", f"{ind('finance')}: 1",
                                                      f"{ind('manufacturing')}: 1", f"{ind('retail')}: 1"]
    assert _block(out, t("en", "cr.changes"))[:-1] == [f"{_ct('en', 'potential', 'intent')}: 3",
                                                  f"{_ct('en', 'intent', 'deal')}: 2",
                                                  f"{_ct('en', 'intent', 'lost')}: 1",
                                                  f"{_ct('en', 'deal', 'intent')}: 1"]
    types = " · ".join(f"{enum_label('en', 'customer_type', k)} {n}"
                       for k, n in (("potential", 1), ("intent", 3), ("deal", 2), ("lost", 1)))
    assert _block(out, t("en", "cr.changes"))[-1] == t("en", "cr.now", types=types)  # muted, after the changes


def test_customers_report_scope(book):
    out = ConsoleSession(book, user="mary").send("/report customers 2026-11")  # east and the pool
    assert t("en", "cr.new", count=5) in out and "线上表单" not in out
    assert f"{_ct('en', 'potential', 'intent')}: 2" in out
    out = ConsoleSession(book, user="root").send("/report customers owner:alice 2026-11")
    assert t("en", "cr.new", count=2) in out and _block(out, t("en", "cr.by_source")) == ["展会推广: 2"]
    assert t("en", "cr.no_changes") in ConsoleSession(book, user="root").send("/report customers 2026-09")


def test_customers_chart_in_chinese(book, monkeypatch):
    figs = []
    real = charts.hbars
    monkeypatch.setattr(charts, "hbars", lambda **kw: figs.append(real(**kw)) or figs[-1])
    c = ConsoleSession(book, user="李雷")
    out = c.send("/report 客户 2026-11")
    assert t("zh", "cr.new", count=6) in out
    texts = check_cjk_figure(figs[0])
    assert "展会推广" in texts and t("zh", "cr.by_industry") in texts and enum_label("zh", "industry", "finance") in texts
    src, ind = figs[0].axes
    assert [x.get_text() for x in src.get_yticklabels()] == ["展会推广", "referral", "线上表单", t("zh", "cr.no_source")]  # largest on top
    assert [int(r.get_width()) for r in src.patches] == [3, 1, 1, 1]
    assert c.last_reply.file.name.startswith("customers-")
