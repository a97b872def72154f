"""/log, /followups, /history through console transcripts (the real core on in-memory SQLite)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from bot.console.driver import ConsoleSession
from handlers.context import Inbound
from handlers.dialogs.engine import FormErrors
from handlers.i18n import t
from storage.models import AuditLog, Customer, FollowUp, Staff
from tests import factories as f
from tests.says import says


@pytest.fixture
def world(engine):
    with Session(engine, expire_on_commit=False) as s:
        mgr = f.staff(s, name="mary", role="manager", team="east")
        alice = f.staff(s, name="alice", manager=mgr)
        wang = f.staff(s, name="wang", manager=mgr, lang="zh")
        bob = f.staff(s, name="bob", team="west")
        f.staff(s, name="agnes", role="agent", team="east", manager=mgr)
        f.staff(s, name="root", role="admin", team=None)
        acme = f.customer(s, name="Acme Trading", owner=alice, grade="B")
        yq1 = f.customer(s, name="杭州云栖科技有限公司", owner=wang, type="potential", grade="A")
        yq2 = f.customer(s, name="云栖物流", owner=wang, grade="C")
        other = f.customer(s, name="Bobco Industries", owner=bob)
        s.commit()
    return {"acme": acme.code, "yq1": yq1.code, "yq2": yq2.code, "bobco": other.code}


def rows(engine, code: str) -> list[FollowUp]:
    with Session(engine) as s:
        c = s.scalar(select(Customer).where(Customer.code == code))
        return list(s.scalars(select(FollowUp).where(FollowUp.customer_id == c.id).order_by(FollowUp.id)))


def cust(engine, code: str) -> Customer:
    with Session(engine) as s:
        return s.scalar(select(Customer).where(Customer.code == code))


def press_label(sess: ConsoleSession, label: str) -> str:
    """Press the numbered choice whose line shows `label`."""
    for line in sess.last.lines:
        m = re.search(r"\[(\d+)\] ([^\[]*)", line)
        if m and label in m.group(2):
            return sess.press(int(m.group(1)))
    raise AssertionError(f"no choice {label!r} in {sess.last.text}")


def utc(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    """A Shanghai wall-clock time as aware UTC."""
    return datetime(y, mo, d, h, mi, tzinfo=UTC) - timedelta(hours=8)


def test_followups_log_one_line_english(core, world, engine) -> None:
    a = ConsoleSession(core, user="alice")
    out = a.send(f"/log {world['acme']} phone positive: budget 600k, wants the finance module next: next friday 3pm")
    assert t("en", "fu.logged") in out
    assert "budget 600k, wants the finance module" in out and "2026-12-04 15:00 (Fri)" in out
    (fu,) = rows(engine, world["acme"])
    assert (fu.method, fu.feedback, fu.next_followup_at) == ("phone", "positive", utc(2026, 12, 4, 15))
    c = cust(engine, world["acme"])
    assert c.next_followup_at == utc(2026, 12, 4, 15) and c.last_followup_at == core.clock()
    assert a.choices() == [f"/log undo {fu.id}", f"/log edit {fu.id}"]


def test_followups_log_one_line_chinese_ambiguous_then_pick(core, world, engine) -> None:
    w = ConsoleSession(core, user="wang")
    out = w.send("/log 云栖 电话 积极: 客户预算60万,需要财务模块 下次: 下周五下午3点")
    assert t("zh", "lookup.pick", count=2) in out
    assert world["yq1"] in out and world["yq2"] in out and world["acme"] not in out
    out = press_label(w, world["yq1"])  # the long Chinese command travels as a stored ref
    assert t("zh", "fu.logged") in out and "2026-12-04 15:00 (周五)" in out
    (fu,) = rows(engine, world["yq1"])
    assert fu.content == "客户预算60万,需要财务模块" and fu.next_followup_at == utc(2026, 12, 4, 15)
    # a positive call on a potential customer offers the upgrade to intent
    assert f"/customer edit {world['yq1']} type=intent" in w.choices()


def test_followups_log_keywords_fullwidth_and_result(core, world, engine) -> None:
    w = ConsoleSession(core, user="wang")
    w.send(f"/log {world['yq2']} 拜访 中性:演示了产品 下次跟进:3天后 结果:重点跟进")
    (fu,) = rows(engine, world["yq2"])
    assert (fu.method, fu.feedback, fu.content, fu.result) == ("visit", "neutral", "演示了产品", "key")
    assert fu.next_followup_at == utc(2026, 11, 26, 9)


def test_followups_unknown_customer_names_the_closest(core, world, engine) -> None:
    a = ConsoleSession(core, user="alice")
    out = a.send("/log Acmx phone: hello")
    assert out == "⚠ " + t("en", "lookup.not_found_suggest", query="Acmx", suggestions="Acme Trading")
    assert rows(engine, world["acme"]) == []


def test_followups_unknown_method_word_is_named(core, world, engine) -> None:
    a = ConsoleSession(core, user="alice")
    out = a.send(f"/log {world['acme']} fone: hello")
    assert out == "⚠ " + t("en", "fu.unknown_words", code=world["acme"], words="fone",
                           method_choices="phone, visit, email, WeChat, meeting",
                           feedback_choices="positive, neutral, negative",
                           hint=t("en", "err.did_you_mean", words="phone"))
    assert rows(engine, world["acme"]) == []
    # another rep's customer still reads like "not found"
    out = a.send(f"/log {world['bobco']} fone: hello")
    assert out == "⚠ " + t("en", "lookup.not_found", query=f"{world['bobco']} fone")


@pytest.mark.parametrize("cmd", ["/log undo {n}", "/log next {n} tomorrow", "/log edit {n} content=x",
                                 "/followups done {n}", "/followups snooze {n} 1d", "/customer approve {n}"])
def test_followups_huge_ids_read_like_missing(core, world, engine, cmd) -> None:
    w = ConsoleSession(core, user="wang")  # speaks Chinese: an unexpected error would show err.internal
    out = w.send(cmd.format(n="9" * 25))
    assert out.startswith("⚠") and all(t(lang, "err.internal", ref="X")[:5] not in out for lang in ("en", "zh"))


def test_followups_missing_colon_offers_the_fixed_line(core, world, engine) -> None:
    a = ConsoleSession(core, user="alice")
    fixed = f"/log {world['acme']} phone positive: budget 600k"
    out = a.send(f"/log {world['acme']} phone positive budget 600k")
    assert out.startswith("⚠ " + t("en", "fu.colon_fix", cmd=fixed)) and len(a.choices()) == 1
    assert rows(engine, world["acme"]) == []
    a.press(1)
    [fu] = rows(engine, world["acme"])
    assert (fu.method, fu.feedback, fu.content) == ("phone", "positive", "budget 600k")
    # nobody's customer, or someone else's: the usage, never a hint that it exists
    for q in ("Nobody phone talked", f"{world['bobco']} phone talked"):
        assert a.send(f"/log {q}") == "⚠ " + t("en", "fu.need_colon", query=q, usage=t("en", "usage.log"))


def test_followups_rep_cannot_log_on_another_reps_customer(core, world, engine) -> None:
    a = ConsoleSession(core, user="alice")
    out = a.send(f"/log {world['bobco']} phone: sneaky")
    assert out == "⚠ " + t("en", "lookup.not_found", query=world["bobco"])
    assert rows(engine, world["bobco"]) == []
    # an agent sees customers but may not log sales follow-ups
    out = ConsoleSession(core, user="agnes").send(f"/log {world['acme']} phone: hi")
    assert out == "⚠ " + t("en", "err.forbidden_role", verb="log")


def test_followups_manager_logs_for_team_but_not_other_team(core, world, engine) -> None:
    m = ConsoleSession(core, user="mary")
    assert t("en", "fu.logged") in m.send(f"/log {world['acme']} visit: met the CFO next: tomorrow")
    assert "⚠" in m.send(f"/log {world['bobco']} visit: no")
    assert len(rows(engine, world["acme"])) == 1 and rows(engine, world["bobco"]) == []


@pytest.mark.parametrize(("when", "key"), [("yesterday", "when.past"), ("someday maybe", "when.unparseable")])
def test_followups_bad_when_is_refused_and_nothing_saved(core, world, engine, when, key) -> None:
    a = ConsoleSession(core, user="alice")
    out = a.send(f"/log {world['acme']} phone: hello next: {when}")
    assert out == "⚠ " + t("en", key, value=when, example="next friday 3pm")
    assert rows(engine, world["acme"]) == []


def test_followups_oversized_content_is_refused(core, world, engine, settings) -> None:
    a = ConsoleSession(core, user="alice")
    out = a.send(f"/log {world['acme']} phone: " + "x" * (settings.max_text + 1))
    assert out.startswith("⚠") and str(settings.max_text) in out
    assert rows(engine, world["acme"]) == []


def test_followups_undo_only_author_within_a_day(core, world, engine, clock) -> None:
    a = ConsoleSession(core, user="alice")
    a.send(f"/log {world['acme']} phone: first next: friday")
    clock.advance(minutes=5)
    a.send(f"/log {world['acme']} phone: second next: next monday")
    first, second = rows(engine, world["acme"])
    assert first.done_at is not None  # logging the second closed the first
    out = ConsoleSession(core, user="mary").send(f"/log undo {second.id}")
    assert out == "⚠ " + t("en", "fu.undo_not_author")
    out = a.press_cmd("/log undo")
    assert t("en", "fu.undone", code=world["acme"], id=second.id) in out
    first, second = rows(engine, world["acme"])
    assert second.deleted_at is not None and first.done_at is None  # the first is open again
    assert cust(engine, world["acme"]).next_followup_at == first.next_followup_at
    a.send(f"/log {world['acme']} phone: third")
    clock.advance(hours=25)
    third = rows(engine, world["acme"])[-1]
    assert a.send(f"/log undo {third.id}").startswith("⚠")
    assert rows(engine, world["acme"])[-1].deleted_at is None


def test_followups_edit(core, world, engine) -> None:
    a = ConsoleSession(core, user="alice")
    a.send(f"/log {world['acme']} phone: draft")
    out = a.press_cmd("/log edit")
    assert says(out, "fu.edit_hint") and "draft" in out
    (fu,) = rows(engine, world["acme"])
    assert t("en", "fu.dlg.next") in a.press_cmd(f"/log next {fu.id}")
    assert "2026-11-24 09:00" in a.send("明天")
    out = a.send(f"/log edit {fu.id} content=called about the contract next=下周五下午3点 feedback=积极")
    assert t("en", "fu.edited", fields=", ".join(t("en", f"fu.f.{k}") for k in ("feedback", "content", "next"))) in out
    (fu,) = rows(engine, world["acme"])
    assert (fu.content, fu.feedback) == ("called about the contract", "positive")
    assert cust(engine, world["acme"]).next_followup_at == utc(2026, 12, 4, 15)
    assert a.send(f"/log edit {fu.id} next=yesterday").startswith("⚠")
    assert a.send(f"/log edit {fu.id} colour=red").startswith("⚠")
    assert ConsoleSession(core, user="bob").send(f"/log edit {fu.id} content=x").startswith("⚠")


def test_followups_cadence_proposal_accept_change_none(core, world, engine) -> None:
    a = ConsoleSession(core, user="alice")
    out = a.send(f"/log {world['acme']} email: sent the quote")
    assert t("en", "fu.propose", grade="B", days=14, when="2026-12-07 09:00 (Mon)") in out
    (fu,) = rows(engine, world["acme"])
    assert fu.next_followup_at is None
    out = a.press_cmd(f"/log next {fu.id} 2026-12-07")
    assert t("en", "fu.next_set", code=world["acme"], when="2026-12-07 09:00 (Mon)") in out
    assert cust(engine, world["acme"]).next_followup_at == utc(2026, 12, 7, 9)
    # pressing Accept again changes nothing and says so
    out = a.send(f"/log next {fu.id} 2026-12-07")
    assert t("en", "fu.next_already", code=world["acme"], when="2026-12-07 09:00 (Mon)") in out
    # Change: a prompt for WHEN
    out = a.send(f"/log next {fu.id}")
    assert t("en", "fu.dlg.next") in out
    assert "⚠" in a.send("last year")  # refused, asked again
    out = a.send("in 3 days")
    assert "2026-11-26 09:00" in out
    assert cust(engine, world["acme"]).next_followup_at == utc(2026, 11, 26, 9)
    # No follow-up
    a.send(f"/log next {fu.id} none")
    assert cust(engine, world["acme"]).next_followup_at is None


def test_followups_list_done_snooze_idempotent(core, world, engine, clock) -> None:
    a = ConsoleSession(core, user="alice")
    a.send(f"/log {world['acme']} phone: call back next: 今天下午3点")
    clock.advance(hours=6)  # 16:00: it is overdue now
    out = a.send("/followups")
    assert t("en", "fu.tag.overdue") in out and world["acme"] in out
    (fu,) = rows(engine, world["acme"])
    assert a.choices()[:5] == [f"/followups done {fu.id}", f"/followups snooze {fu.id} 1d",
                               f"/followups snooze {fu.id} 3d", f"/followups snooze {fu.id} 1w",
                               f"/log {world['acme']}"]
    out = a.press_cmd(f"/followups snooze {fu.id} 1d")
    assert t("en", "fu.snoozed", code=world["acme"], when="2026-11-24 15:00 (Tue)") in out
    out = a.send(f"/followups snooze {fu.id} 1d")
    assert t("en", "fu.snooze_already", code=world["acme"], when="2026-11-24 15:00 (Tue)") in out
    assert cust(engine, world["acme"]).next_followup_at == utc(2026, 11, 24, 15)
    a.send("/followups")
    out = a.press_cmd(f"/followups done {fu.id}")
    assert t("en", "fu.done", code=world["acme"], name="Acme Trading") in out
    out = a.send(f"/followups done {fu.id}")
    assert t("en", "fu.done_already", code=world["acme"], name="Acme Trading") in out
    assert cust(engine, world["acme"]).next_followup_at is None
    assert t("en", "fu.list_empty") in a.send("/followups")
    assert a.send(f"/followups snooze {fu.id} 1d").startswith("⚠")
    assert ConsoleSession(core, user="bob").send(f"/followups done {fu.id}").startswith("⚠")


def test_followups_list_is_own_and_paged(core, world, engine) -> None:
    w = ConsoleSession(core, user="wang")
    w.send(f"/log {world['yq1']} phone: a next: 明天")
    w.send(f"/log {world['yq2']} phone: b next: 后天")
    out = w.send("/followups")
    assert out.index(world["yq1"]) < out.index(world["yq2"])
    assert world["acme"] not in out
    assert world["yq1"] not in ConsoleSession(core, user="alice").send("/followups")
    m = ConsoleSession(core, user="mary")
    assert world["yq1"] not in m.send("/followups")
    out = m.send("/followups team")
    assert world["yq1"] in out and "wang" in out  # whose follow-up it is
    assert out.startswith("== " + t("en", "fu.team_title", total=2, overdue=0))
    with Session(engine) as s:  # many customers: two pages
        wang = s.scalar(select(f.Staff).where(f.Staff.name == "wang"))
        codes = [f.customer(s, name=f"客户{i}", owner=wang).code for i in range(6)]
        s.commit()
    for code in codes:
        w.send(f"/log {code} phone: x next: 周五")
    out = w.send("/followups")
    assert "/followups p2" in w.choices()
    out = w.press_cmd("/followups p2")
    assert codes[-1] in out


def test_followups_history_filters_and_audit(core, world, engine, clock) -> None:
    a = ConsoleSession(core, user="alice")
    a.send(f"/log {world['acme']} phone: one")
    clock.advance(days=2)
    a.send(f"/log {world['acme']} visit: two")
    out = a.send("/history Acme")
    assert out.index("two") < out.index("one")
    out = a.send("/history Acme method:phone")
    assert "one" in out and "two" not in out
    out = a.send("/history Acme from:2026-11-24")
    assert "two" in out and "one" not in out
    out = a.send("/history Acme to:11/23")
    assert "one" in out and "two" not in out
    assert a.send(f"/history {world['bobco']}").startswith("⚠")
    assert a.send("/history Acme from:someday").startswith("⚠")
    assert a.send("/history Acme from:2026-11-30 to:2026-11-01") == "⚠ " + t("en", "fu.history_range")
    assert t("en", "fu.history_none_match") in a.send("/history Acme method:email")
    assert a.send("/history Acme audit") == "⚠ " + t("en", "audit.forbidden")  # managers and admins only
    out = ConsoleSession(core, user="mary").send("/history Acme audit")
    assert out.startswith("== " + t("en", "audit.title", code=world["acme"], name="Acme Trading"))
    assert out.count(t("en", "audit.action.create")) == 2  # the two logged calls


def test_followups_report(core, world, engine) -> None:
    a = ConsoleSession(core, user="alice")
    a.send(f"/log {world['acme']} phone: one")
    a.send(f"/log {world['acme']} visit: two")
    ConsoleSession(core, user="wang").send(f"/log {world['yq1']} 电话: 三")
    out = ConsoleSession(core, user="mary").send("/report followups week")
    assert "alice" in out and "wang" in out and "bob" not in out
    assert t("en", "fu.report.total", total=3, overdue=0) in out
    out = a.send("/report followups")
    assert "alice" in out and "wang" not in out


# ---------------------------------------------------------------- the dialog


def test_followups_dialog_step_by_step_with_back_skip_cancel(core, world, engine) -> None:
    a = ConsoleSession(core, user="alice")
    assert t("en", "fu.dlg.customer") in a.send("/log")
    assert t("en", "fu.dlg.customer") in a.send(world["bobco"]) and "⚠" in a.last.text  # not visible
    assert t("en", "fu.dlg.method") in a.send("Acme")
    assert t("en", "fu.dlg.customer") in a.send("back")
    a.send(world["acme"])
    out = a.press_cmd("visit")
    assert t("en", "fu.dlg.feedback") in out
    assert t("en", "fu.dlg.content") in a.send("skip")
    assert t("en", "fu.dlg.next") in a.send("Met the buyer.\nThey want a discount.")
    assert "⚠" in a.send("yesterday")
    assert t("en", "fu.dlg.result") in a.send("next friday 3pm")
    out = a.press_cmd("key")
    assert t("en", "fu.logged") in out
    (fu,) = rows(engine, world["acme"])
    assert (fu.method, fu.feedback, fu.result) == ("visit", None, "key")
    assert fu.content == "Met the buyer.\nThey want a discount."
    assert fu.next_followup_at == utc(2026, 12, 4, 15)
    a.send("/log")
    a.send("Acme")
    assert t("en", "dlg.cancelled") in a.send("cancel")
    assert len(rows(engine, world["acme"])) == 1


def test_followups_dialog_prefilled_from_one_line_without_content(core, world, engine) -> None:
    w = ConsoleSession(core, user="wang")
    out = w.send(f"/log {world['yq2']} 微信")
    assert t("zh", "fu.dlg.feedback") in out
    w.send("积极")
    w.send("发了报价")
    w.send("跳过")
    w.send("跳过")
    (fu,) = rows(engine, world["yq2"])
    assert (fu.method, fu.feedback, fu.content) == ("wechat", "positive", "发了报价")


def _form(core, form: dict) -> object:
    return core.handle(Inbound(platform="console", user_ref="alice", chat_ref="@alice", form=form,
                               dialog="log_call", surface="form"))


def test_followups_dialog_as_form(core, world, engine) -> None:
    r = core.handle(Inbound(platform="console", user_ref="alice", chat_ref="@alice", text="/log", surface="form"))
    assert r.form is not None and [fld.name for fld in r.form.fields] == [
        "customer", "method", "feedback", "content", "next", "result"]
    with pytest.raises(FormErrors) as e:
        _form(core, {"customer": world["bobco"], "method": "fax", "content": "", "next": "yesterday"})
    assert set(e.value.errors) == {"customer", "method", "content", "next"}
    assert rows(engine, world["acme"]) == []
    r = _form(core, {"customer": "Acme", "method": "电话", "feedback": "positive", "content": "ok",
                     "next": "明天下午3点", "result": ""})
    (fu,) = rows(engine, world["acme"])
    assert (fu.method, fu.feedback, fu.result) == ("phone", "positive", None)
    assert fu.next_followup_at == utc(2026, 11, 24, 15)


def test_followups_log_chinese_without_spaces_and_missing_colon(core, world, engine) -> None:
    w = ConsoleSession(core, user="wang")
    w.send(f"/log {world['yq2']}微信中性: 发了资料")
    (fu,) = rows(engine, world["yq2"])
    assert (fu.method, fu.feedback, fu.content) == ("wechat", "neutral", "发了资料")
    out = ConsoleSession(core, user="alice").send("/log Acme phone called them about it")
    assert out.startswith("⚠") and f"/log {world['acme']} phone: called them about it" in out
    assert rows(engine, world["acme"]) == []


def test_followups_dialog_ambiguous_customer_lists_codes(core, world, engine) -> None:
    w = ConsoleSession(core, user="wang")
    w.send("/log")
    out = w.send("云栖")
    assert world["yq1"] in out and world["yq2"] in out and t("zh", "fu.dlg.customer") in out
    assert t("zh", "fu.dlg.method") in w.send(world["yq2"])


# ---------------------------------------------------------------- date: and by: (跟进日期, 跟进人)


@pytest.mark.parametrize("line, when", [
    ("/log {acme} phone: called about the quote date: yesterday 4pm", (2026, 11, 22, 16)),
    ("/log {acme} phone: 电话沟通报价 时间: 昨天下午4点", (2026, 11, 22, 16)),
    ("/log {acme} phone: demo 日期: 2026-11-20 14:30 next: friday", (2026, 11, 20, 14, 30)),
    ("/log {acme} visit: site visit next: friday date: 3 days ago", (2026, 11, 20, 12)),
    ("/log {acme} phone: early call date: 9am", (2026, 11, 23, 9)),
])
def test_followups_log_date_of_a_call_made_earlier(core, world, engine, line, when) -> None:
    a = ConsoleSession(core, user="alice")
    out = a.send(line.format(acme=world["acme"]))
    assert t("en", "fu.logged") in out and t("en", "fu.f.date") in out
    (fu,) = rows(engine, world["acme"])
    assert fu.date == utc(*when) and fu.created_at == core.clock()
    assert "date" not in fu.content and "时间" not in fu.content and "日期" not in fu.content
    assert cust(engine, world["acme"]).last_followup_at == utc(*when)


@pytest.mark.parametrize("value, key", [("tomorrow", "fu.date_future"), ("4pm", "fu.date_future"),
                                        ("next friday", "fu.date_future"), ("blah", "fu.date_unparseable")])
def test_followups_log_date_in_the_future_or_unreadable_is_refused(core, world, engine, value, key) -> None:
    out = ConsoleSession(core, user="alice").send(f"/log {world['acme']} phone: hi date: {value}")
    assert out == "⚠ " + t("en", key, value=value, example="yesterday 4pm")
    assert rows(engine, world["acme"]) == []


def test_followups_manager_logs_for_a_rep_of_the_team(core, world, engine) -> None:
    m = ConsoleSession(core, user="mary")
    out = m.send(f"/log {world['acme']} visit: alice visited the plant date: yesterday by: alice")
    assert t("en", "fu.f.staff") in out
    (fu,) = rows(engine, world["acme"])
    with Session(engine) as s:
        names = {st.id: st.name for st in s.scalars(select(Staff))}
        audit = s.scalar(select(AuditLog).where(AuditLog.entity == "followup", AuditLog.entity_id == fu.id))
    assert names[fu.staff_id] == "alice" and names[fu.assignee_id] == "alice"
    assert (names[audit.actor_id], audit.field, audit.new) == ("mary", "staff", "alice")  # who typed it
    assert fu.content == "alice visited the plant" and fu.date == utc(2026, 11, 22, 12)
    assert "alice" in m.send(f"/history {world['acme']}")
    assert t("en", "fu.undone", code=world["acme"], id=fu.id) in m.send(f"/log undo {fu.id}")  # who typed it
    w = ConsoleSession(core, user="wang")
    w.send(f"/log {world['yq2']} 电话: 报价 跟进人: wang 下次跟进时间: 3天后")  # Chinese keywords
    (fu,) = rows(engine, world["yq2"])
    assert fu.content == "报价" and fu.next_followup_at == utc(2026, 11, 26, 9)


def test_followups_by_is_refused_for_reps_other_teams_and_unknown_names(core, world, engine) -> None:
    a = ConsoleSession(core, user="alice")
    assert a.send(f"/log {world['acme']} phone: hi by: wang") == "⚠ " + t("en", "fu.by_forbidden", name="wang")
    assert a.send(f"/log {world['acme']} phone: mine by: alice").startswith("== " + t("en", "fu.logged"))
    m = ConsoleSession(core, user="mary")
    assert m.send(f"/log {world['acme']} phone: hi by: bob") == "⚠ " + t("en", "fu.by_forbidden", name="bob")
    assert m.send(f"/log {world['acme']} phone: hi by: agnes") == "⚠ " + t("en", "fu.by_not_sales", name="agnes")
    assert m.send(f"/log {world['acme']} phone: hi by: nobody") == "⚠ " + t("en", "staffcmd.not_found",
                                                                             name="nobody")
    assert len(rows(engine, world["acme"])) == 1  # only alice's own
    out = ConsoleSession(core, user="root").send(f"/log {world['bobco']} phone: hi by: bob")
    assert t("en", "fu.logged") in out
