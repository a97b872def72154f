"""`/report quality` (数据质量) against a hand-built book, on SQLite and PostgreSQL (the queries lean on
`replace`, `rtrim(text, chars)`, `substr` and `FILTER`, which both must run the same).

Now is 2026-11-23 (Monday). Staff: mary (manager, east) with alice and bob; zed (rep, west); root and 李雷 (admins).
Customers (owner, registered, contact data, last follow-up):
  D1 杭州云栖科技有限公司  alice 01-10  13800138000                 11-20
  D2 杭州云栖科技          bob   06-01  138-0013-8001               11-20   same name as D1
  D3 Cloud Inn            alice 07-01  +86 138 0013 8001 (valid)   11-20   same phone as D2 → D1, D2, D3: one group
  E1 Acme Ltd             zed   03-01  Sales@Acme.com, 139 0013 9000   never   (west)
  E2 Acme Trading         pool  05-01  "sales@acme.com "           never   same email as E1; I2 has E1's phone
                                                                           → E1, E2, I2: a group (admins only)
  M1 No Contact Co        bob   10-01  no contact person           11-01
  M2 Silent Co            alice 10-02  王五, no phone, no email     11-01
  I1 Bad Phone Co         alice 10-03  12345 (invalid)             11-01
  I2 Bad Mail Co          bob   10-04  13900139000, bob@mail (invalid email)  11-01
  S1 Stale Co             alice 03-01  13700137000                 06-01   stale (175 days)
  S2 Never Co             bob   05-01  13600136000                 never   stale (206 days)
  S3 Lost Co (lost)       alice 03-01  13500135000                 04-01   lost: not stale
  P1 Pool Co              pool  02-01  13400134000                 never   the pool: not stale
  X1 杭州云栖科技 merged into D1 (tombstone) · X2 Erased Co, erased, no contact: neither counts anywhere.
Follow-ups: D1 "已联系" 11-20 10:00 · D2 "OK." 11-20 11:00 · D3 "通话" 11-19 · M1 a real one · M2 "联系了。" 11-01 ·
  E1 "done" 10-01 · I1 "已联系" deleted · X1 "ok" (tombstone) · I2 "客户说下周再谈价格".

Admin: duplicates 2 groups (6 customers), missing 2 (1 without contact, 1 without phone/email), invalid 2 (1 phone,
1 email), vague 5, stale 3 (E1, S2, S1). Mary (east and the pool): duplicates 1 group (3), missing 2, invalid 2,
vague 4, stale 2.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.console.driver import ConsoleSession
from handlers import charts
from handlers.cards.reports import QUALITY_ITEMS
from handlers.i18n import t
from handlers.lookup import normalize_name
from handlers.router import Core
from handlers.services.followups import is_vague
from handlers.views import Fields, ListPage
from storage.db import create_all, make_engine, session_scope
from storage.models import ActionRef, Contact, Customer, FollowUp, Staff
from tests import factories as f
from tests.conftest import Clock
from tests.says import says
from tests.unit.test_charts import check_cjk_figure


def _d(m: int, d: int, h: int = 2) -> datetime:
    return datetime(2026, m, d, h, tzinfo=UTC)


def _seed(engine) -> dict[str, Customer]:
    with session_scope(engine) as s:
        mary, alice, bob, zed = f.east_and_west(s)
        f.staff(s, name="李雷", role="admin", team=None, lang="zh")
        cs: dict[str, Customer] = {}

        def add(key, name, owner, when, *, phone=None, email=None, contact="张伟", last=None, type="intent"):
            c = f.customer(s, name=name, owner=owner, now=when, phone=phone, email=email, contact=contact, type=type)
            c.name_norm, c.last_followup_at = normalize_name(name), last
            cs[key] = c
            return c

        recent, nov1 = _d(11, 20), _d(11, 1)
        add("D1", "杭州云栖科技有限公司", alice, _d(1, 10), phone="13800138000", last=recent)
        add("D2", "杭州云栖科技", bob, _d(6, 1), phone="138-0013-8001", last=recent)
        add("D3", "Cloud Inn", alice, _d(7, 1), phone="+86 138 0013 8001", last=recent)
        add("E1", "Acme Ltd", zed, _d(3, 1), email="Sales@Acme.com", phone="139 0013 9000")
        add("E2", "Acme Trading", None, _d(5, 1), email="sales@acme.com ")
        add("M1", "No Contact Co", bob, _d(10, 1), contact=None, last=nov1)
        add("M2", "Silent Co", alice, _d(10, 2), contact="王五", last=nov1)
        add("I1", "Bad Phone Co", alice, _d(10, 3), phone="12345", last=nov1)
        add("I2", "Bad Mail Co", bob, _d(10, 4), phone="13900139000", email="bob@mail", last=nov1)
        add("S1", "Stale Co", alice, _d(3, 1), phone="13700137000", last=_d(6, 1))
        add("S2", "Never Co", bob, _d(5, 1), phone="13600136000")
        add("S3", "Lost Co", alice, _d(3, 1), phone="13500135000", last=_d(4, 1), type="lost")
        add("P1", "Pool Co", None, _d(2, 1), phone="13400134000")
        x1 = add("X1", "杭州云栖科技", alice, _d(8, 1), phone="13800138000", last=recent)
        x1.merged_into_id, x1.merged_at = cs["D1"].id, _d(11, 2)
        x2 = add("X2", "Erased Co", alice, _d(1, 1), contact=None)
        x2.erased_at = _d(9, 1)
        for key, who, when, content, deleted in (
                ("D1", alice, _d(11, 20, 10), "已联系", None), ("D2", bob, _d(11, 20, 11), "OK.", None),
                ("D3", alice, _d(11, 19), "通话", None),
                ("M1", bob, nov1, "Discussed the Q1 order, sending a quote on Friday", None),
                ("M2", alice, nov1, "联系了。", None), ("E1", zed, _d(10, 1), "done", None),
                ("I1", alice, nov1, "已联系", _d(11, 2)), ("X1", alice, nov1, "ok", None),
                ("I2", bob, nov1, "客户说下周再谈价格", None)):
            s.add(FollowUp(customer_id=cs[key].id, date=when, method="phone", content=content, staff_id=who.id,
                           assignee_id=who.id, created_at=when, deleted_at=deleted))
        s.flush()
        return {k: c.code for k, c in cs.items()}


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request, tmp_path, settings):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'quality.db'}")
        create_all(engine)
    else:
        engine = request.getfixturevalue("pg_db")
    codes = _seed(engine)
    yield Core(engine, settings, secret=b"quality", clock=Clock()), codes
    if request.param == "sqlite":
        engine.dispose()


def _cmds(core: Core, buttons) -> list[str]:
    """The commands the buttons stand for (a long one is kept server-side as `#<ActionRef id>`)."""
    with session_scope(core.engine) as s:
        return [s.get(ActionRef, int(b.action.cmd[1:])).cmd if b.action.cmd.startswith("#") else b.action.cmd
                for b in buttons]


def _counts(c: ConsoleSession, lang: str = "en") -> dict[str, str]:
    fields = next(v for v in c.last_reply.views if isinstance(v, Fields))
    return dict(fields.items)


def _lists(c: ConsoleSession) -> dict[str, ListPage]:
    return {p.title: p for p in c.last_reply.views if isinstance(p, ListPage)}


def _page(c: ConsoleSession, key: str) -> ListPage:
    return next(p for title, p in _lists(c).items() if title.startswith(t("en", f"qr.list.{key}", n=0,
                                                                            days=90).split(":")[0]))


def test_quality_report_figures_for_an_admin(world):
    core, codes = world
    c = ConsoleSession(core, user="root")
    c.send("/report quality")
    n = lambda key, k: t("en", f"qr.count.{key}", n=k, days=90)  # noqa: E731
    assert _counts(c) == {t("en", "qr.section.duplicates"): n("duplicates", 2),
                          t("en", "qr.section.missing"): n("missing", 2),
                          t("en", "qr.section.invalid"): n("invalid", 2),
                          t("en", "qr.section.vague"): n("vague", 5),
                          t("en", "qr.section.stale"): n("stale", 3)}
    out = c.send("/report quality")
    assert t("en", "qr.detail", customers=6, no_contact=1, no_reach=1, phones=1, emails=1) in out
    dups = _page(c, "duplicates")
    assert dups.total == 2
    first, second = dups.items
    assert first.text == "杭州云栖科技有限公司 ×3"  # the oldest group first, named after its oldest customer
    assert _cmds(core, first.buttons) == [f"/customer merge {codes['D2']} INTO {codes['D1']}",
                                                     f"/customer merge {codes['D3']} INTO {codes['D1']}",
                                                     f"/customer {codes['D1']}"]
    assert t("en", "qr.dup.shared", keys="name 杭州云栖科技 · phone 13800138001") in first.detail
    assert second.text == "Acme Ltd ×3"
    assert t("en", "qr.dup.shared", keys="phone 13900139000 · email sales@acme.com") in second.detail
    assert _cmds(core, second.buttons)[:2] == [f"/customer merge {codes['E2']} INTO {codes['E1']}",
                                               f"/customer merge {codes['I2']} INTO {codes['E1']}"]
    missing = _page(c, "missing")
    assert [(i.text.split()[0], i.detail.split(" · ")[0]) for i in missing.items] == [
        (codes["M1"], t("en", "qr.missing.no_contact")), (codes["M2"], t("en", "qr.missing.no_reach"))]
    assert _cmds(core, missing.items[0].buttons) == [f"/customer edit {codes['M1']}",
                                                                f"/customer {codes['M1']}"]
    invalid = _page(c, "invalid")
    assert [i.detail.split(" · ")[0] for i in invalid.items] == [
        t("en", "qr.invalid.phone", value="12345", contact="张伟"),
        t("en", "qr.invalid.email", value="bob@mail", contact="张伟")]
    vague = _page(c, "vague")
    assert [i.text.split()[0] for i in vague.items] == [codes[k] for k in ("D2", "D1", "D3", "M2", "E1")]
    assert _cmds(core, vague.items[0].buttons)[0].startswith("/log edit ")
    stale = _page(c, "stale")
    assert [i.text.split()[0] for i in stale.items] == [codes[k] for k in ("E1", "S2", "S1")]
    assert stale.items[2].detail.startswith(t("en", "qr.stale.last", date="2026-06-01", days=175))
    assert stale.items[1].detail.startswith(t("en", "qr.stale.never", date="2026-05-01", days=206))
    assert _cmds(core, stale.items[0].buttons) == [f"/log {codes['E1']}", f"/customer {codes['E1']}"]
    for gone in ("X1", "X2", "S3", "P1"):
        assert codes[gone] not in out
    assert c.last_reply.file.name.startswith("quality-") and c.last_reply.file.mime == "image/png"


def test_quality_report_for_a_manager_is_their_team_and_the_pool(world):
    core, codes = world
    c = ConsoleSession(core, user="mary")
    out = c.send("/report quality")
    counts = _counts(c)
    assert counts[t("en", "qr.section.duplicates")] == t("en", "qr.count.duplicates", n=1)
    assert counts[t("en", "qr.section.vague")] == t("en", "qr.count.vague", n=4)
    assert counts[t("en", "qr.section.stale")] == t("en", "qr.count.stale", n=2)
    assert counts[t("en", "qr.section.missing")] == t("en", "qr.count.missing", n=2)
    assert counts[t("en", "qr.section.invalid")] == t("en", "qr.count.invalid", n=2)
    assert codes["E1"] not in out and "Acme" not in out  # zed's (west): E2 in the pool has no twin left
    c.send("/report quality owner:bob")
    counts = _counts(c)
    assert counts[t("en", "qr.section.duplicates")] == t("en", "qr.count.duplicates", n=0)
    assert counts[t("en", "qr.section.vague")] == t("en", "qr.count.vague", n=1)  # D2's "OK."
    assert counts[t("en", "qr.section.stale")] == t("en", "qr.count.stale", n=1)  # S2
    assert says(c.send("/report quality owner:zed"), "staffcmd.not_found", name="zed")
    assert says(c.send("/report quality everything"), "qr.usage", value="everything")


def test_quality_report_refuses_a_rep(world):
    core, _codes = world
    c = ConsoleSession(core, user="alice")
    assert says(c.send("/report quality"), "report.forbidden", kind="quality")
    assert t("en", "report.name.quality") not in c.send("/report")  # not offered either


def test_the_merge_button_merges_the_newer_into_the_older(world):
    core, codes = world
    c = ConsoleSession(core, user="mary")
    c.send("/report quality")
    want = f"/customer merge {codes['D2']} INTO {codes['D1']}"
    with session_scope(core.engine) as s:  # the button's command, kept server-side (too long for a token)
        refs = {f"#{r.id}": r.cmd for r in s.scalars(select(ActionRef))}
    out = c.press(next(i for i, a in enumerate(c.last.actions, 1) if refs.get(a.cmd, a.cmd) == want))
    assert codes["D2"] in out and t("en", "merge.btn.merge") in out  # the confirmation first
    assert says(c.press(1), "merge.done", src=codes["D2"], dst=codes["D1"])
    with session_scope(core.engine) as s:
        dead = s.scalar(select(Customer).where(Customer.code == codes["D2"]))
        alive = s.scalar(select(Customer).where(Customer.code == codes["D1"]))
        assert dead.merged_into_id == alive.id and dead.merged_at is not None
        assert len(s.scalars(select(Contact).where(Contact.customer_id == alive.id)).all()) == 2  # D2's moved
    c.send("/report quality")
    first = _page(c, "duplicates").items[0]
    assert first.text == "杭州云栖科技有限公司 ×2"  # D3 still shares D2's phone, now D1's
    assert _cmds(core, first.buttons)[:1] == [f"/customer merge {codes['D3']} INTO {codes['D1']}"]


def test_quality_report_in_chinese_with_its_chart(world, monkeypatch):
    core, _codes = world
    figs = []
    real = charts.bars
    monkeypatch.setattr(charts, "bars", lambda **kw: figs.append(real(**kw)) or figs[-1])
    c = ConsoleSession(core, user="李雷")
    out = c.send("/report 数据质量")
    assert t("zh", "qr.section.duplicates") in out and t("zh", "qr.missing.no_contact") in out
    assert t("zh", "qr.list.stale", n=3, days=90) in out
    assert t("zh", "qr.btn.merge", src="", dst="").split()[0] in out
    texts = check_cjk_figure(figs[0])
    assert t("zh", "qr.section.vague") in texts and t("zh", "qr.chart") in texts
    assert [int(r.get_height()) for r in figs[0].axes[0].patches] == [2, 2, 2, 5, 3]
    ConsoleSession(core, user="李雷").send("/report 质量")  # the short alias


def test_vague_content_is_one_list_for_both_languages():
    assert all(is_vague(x) for x in ("已联系", "已联系。", " OK! ", "done", "Done.", "联系了", "", "   ", "嗯嗯"))
    assert not any(is_vague(x) for x in ("客户要求周五前报价", "Sent the quote, call back Friday", "已签约，下周交付"))


def test_a_long_section_lists_its_first_items_and_says_how_many_there_are(world):
    core, _codes = world
    with session_scope(core.engine) as s:
        bob = s.scalar(select(Staff).where(Staff.name == "bob"))
        for i in range(7):  # 3 stale already: 10 in all
            c = f.customer(s, name=f"Quiet {i}", owner=bob, now=_d(2, 1 + i), phone=f"1370000000{i}")
            c.name_norm = normalize_name(c.name)
    c = ConsoleSession(core, user="root")
    out = c.send("/report quality")
    stale = _page(c, "stale")
    assert stale.total == 10 and len(stale.items) == QUALITY_ITEMS == 8
    assert stale.title == t("en", "qr.list.stale", n=10, days=90) + " · " + t("en", "qr.list.more", shown=8, n=10)
    assert "Quiet 0" in out and "Stale Co" not in out  # the longest untouched first: S1 (06-01) is 10th
    assert _page(c, "missing").title == t("en", "qr.list.missing", n=2)  # a short section does not say it
