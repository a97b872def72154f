from __future__ import annotations

import pytest

from handlers.i18n import t
from tests.says import says
from tests.unit.test_tickets_support import Desk, is_error, text_of


@pytest.fixture
def desk(core, engine) -> Desk:
    return Desk(core, engine)


def test_one_line_new_english_and_chinese(desk):
    code = desk.open(line="云栖 complaint high: the system rejects every login since 9am")
    assert code == "FW2026001"
    tk = desk.ticket(code)
    assert (tk.type, tk.priority, tk.status, tk.description) == (
        "complaint", "high", "pending", "the system rejects every login since 9am")
    assert tk.assign_due_at == desk.core.clock() + desk.core.settings.sla_high[0]
    assert tk.contact_due_at is None and tk.resolve_due_at is None  # clocks start at assignment
    code2 = desk.open(line="云栖 投诉 高：系统从早上9点起无法登录")
    tk2 = desk.ticket(code2)
    assert (code2, tk2.type, tk2.priority) == ("FW2026002", "complaint", "high")
    assert desk.outbox_keys() == [f"ticket:{code}@console", f"ticket:{code2}@console"]


def test_routing_high_and_complaints_only(desk):
    desk.open(line="Beta support high: checkout down")
    desk.open(line="Beta complaint low: rude courier")
    quiet = desk.open(line="Beta consult medium: how to export invoices?")
    posts = desk.to("#service", desk.drain())
    assert len(posts) == 2
    assert all(quiet not in p.text for p in posts)
    out = desk.user("sue").send("/tickets unassigned")
    assert quiet in out
    # the post: code, customer, type, priority, description, deadline, agents least loaded first, Take it
    desk.assign("FW2026001", "alan")
    desk.open(line="Beta complaint high: again")
    post = desk.to("#service", desk.drain())[-1]
    assert "Beta Retail" in post.text and "again" in post.text
    s = desk.user("sue")
    s.view(post.reply, scope="c:#service")
    opts = [c for c in s.choices() if c.startswith("/ticket assign")]
    assert opts == [f"/ticket assign FW2026004 {desk.ids['bea']}", f"/ticket assign FW2026004 {desk.ids['alan']}"]
    assert says(post.text, "tk.agent_option", name="alan", n=1) and "/ticket take FW2026004" in s.choices()


def test_missing_parts_start_the_dialog(desk):
    s = desk.user("sue")
    out = s.send("/ticket new 云栖 complaint: printer jams")
    assert t("en", "tk.dlg.contact") in out  # asks contact (optional), then priority
    s.send("skip")
    out = s.send("高")
    assert t("en", "cmp.dlg.emotion") in out  # a complaint: the customer's emotion (optional)
    out = s.send("skip")
    assert "FW2026001" in out
    assert desk.ticket("FW2026001").priority == "high"


def test_guided_dialog(desk):
    s = desk.user("ray")
    s.send("/ticket new")
    out = s.send("云栖")
    assert "张伟" in out
    s.press_cmd(str(_contact_id(desk)))
    s.press_cmd("support")
    s.press_cmd("medium")
    out = s.send("Report export times out for big months")
    assert "FW2026001" in out
    tk = desk.ticket("FW2026001")
    assert (tk.type, tk.priority, tk.contact_id, tk.created_by_id) == ("support", "medium", _contact_id(desk),
                                                                        desk.ids["ray"])


def _contact_id(desk) -> int:
    from sqlmodel import select

    from storage.db import session_scope
    from storage.models import Contact

    with session_scope(desk.engine) as s:
        return s.scalar(select(Contact.id).where(Contact.customer_id == desk.ids["c1"]))


def test_visibility(desk):
    code = desk.open(line="Beta complaint high: x")  # rob's customer
    assert t("en", "tk.not_found", code=code) in desk.user("ray").send(f"/ticket {code}")
    assert code in desk.user("rob").send(f"/ticket {code}")
    assert code in desk.user("bea").send(f"/ticket {code}")
    # a rep cannot open a ticket for a customer they cannot see
    out = desk.user("ray").send("/ticket new Beta complaint high: y")
    assert "FW2026002" not in out
    # mia (ray's manager) sees ray's customer's tickets, not rob's
    code1 = desk.open(line="云栖 complaint high: z")
    assert code1 in desk.user("mia").send(f"/ticket {code1}")
    assert t("en", "tk.not_found", code=code) in desk.user("mia").send(f"/ticket {code}")


def test_status_machine_refuses_invalid_steps(desk):
    code = desk.open()
    sue = desk.user("sue")
    assert t("en", "tk.close_needs_resolved", code=code, status="pending") in sue.send(f"/ticket close {code}")
    assert t("en", "tk.reopen_not_done", code=code, status="pending") in sue.send(f"/ticket reopen {code}")
    assert t("en", "tk.accept_not_yours", code=code) in desk.user("alan").send(f"/ticket accept {code}")
    desk.assign(code, "alan")
    alan = desk.user("alan")
    assert t("en", "tk.not_handler", code=code) in desk.user("bea").send(f"/ticket note {code} hi")
    assert desk.ticket(code).status == "in_progress"  # assigned = in progress; Accept is a log entry
    assert "/ticket accept " + code in (alan.send(f"/ticket {code}") and alan.choices())
    alan.send(f"/ticket accept {code}")
    assert t("en", "tk.already_accepted", code=code) in alan.send(f"/ticket accept {code}")
    alan.send(f"/ticket {code}")
    assert "/ticket accept " + code not in alan.choices()
    # resolve needs a text: typed without one, it asks for it
    out = alan.send(f"/ticket resolve {code}")
    assert t("en", "tk.dlg.resolve_text") in out
    alan.send("Reset the password")
    tk = desk.ticket(code)
    assert (tk.status, tk.resolution) == ("resolved", "Reset the password")
    alan.send(f"/ticket reopen {code} customer still cannot log in")
    assert desk.ticket(code).status == "in_progress"
    alan.send(f"/ticket resolve {code} Cleared the SSO cache")
    alan.send(f"/ticket close {code}")
    assert desk.ticket(code).status == "closed"
    assert t("en", "tk.closed_no_note", code=code) in alan.send(f"/ticket note {code} late")
    evs = desk.events(code)
    assert [e.kind for e in evs] == ["created", "assigned", "accepted", "resolved", "reopened", "resolved",
                                     "closed"]
    assert all(e.at is not None for e in evs)
    assert evs[4].text == "customer still cannot log in" and evs[4].staff_id == desk.ids["alan"]
    assert (evs[3].from_status, evs[3].to_status) == ("in_progress", "resolved")


def test_unauthorized_assign_clicks_change_nothing(desk):
    code = desk.open()
    before = desk.outbox_keys()
    for who in ("bea", "ray", "mia"):
        r = desk.assign(code, "alan", by=who)
        assert is_error(r) and t("en", "tk.assign_forbidden") in text_of(r), who
        assert not r.public
        r = desk.press(who, f"/ticket take {code}")
        assert is_error(r)
    tk = desk.ticket(code)
    assert (tk.assignee_id, tk.status) == (None, "pending")
    assert desk.outbox_keys() == before
    assert [e.kind for e in desk.events(code)] == ["created"]


def test_second_supervisor_sees_who_won(desk):
    code = desk.open()
    desk.assign(code, "alan", by="sue")
    r = desk.assign(code, "bea", by="sam")
    assert is_error(r)
    assert "alan" in text_of(r) and "sue" in text_of(r)
    r = desk.press("sam", f"/ticket take {code}")
    assert is_error(r) and "alan" in text_of(r)
    assert desk.ticket(code).assignee_id == desk.ids["alan"]
    assert [e.kind for e in desk.events(code)] == ["created", "assigned"]


def test_assign_edits_post_and_dms_agent(desk):
    code = desk.open()
    post = desk.to("#service", desk.drain())[0]
    desk.assign(code, "bea")
    new = desk.drain()
    edit = [d for d in new if d.edit_of]
    assert len(edit) == 1 and edit[0].edit_of == post.message_ref
    assert "bea" in edit[0].text and "sue" in edit[0].text
    s = desk.user("sue")
    s.view(edit[0].reply, scope="c:#service")
    assert s.choices() == []  # no more controls
    dm = desk.to("@bea", new)
    assert len(dm) == 1 and code in dm[0].text
    tk = desk.ticket(code)
    assert tk.assigned_at == desk.core.clock()
    assert tk.contact_due_at == tk.assigned_at + desk.core.settings.sla_high[1]
    assert tk.resolve_due_at == tk.assigned_at + desk.core.settings.sla_high[2]


def test_take_and_unrouted_assign_do_not_edit(desk):
    code = desk.open(line="Beta consult low: question")
    desk.user("sue").send(f"/ticket take {code}")
    assert desk.ticket(code).assignee_id == desk.ids["sue"]
    assert desk.drain() == []  # no channel post to edit, no DM to oneself


def test_note_and_reply_count_as_contact(desk, clock):
    code = desk.open()
    cust = desk.customer()
    desk.assign(code, "alan")
    clock.advance(minutes=3)
    desk.user("alan").send(f"/ticket reply {code} We are on it, calling you in 5 minutes")
    tk = desk.ticket(code)
    assert tk.first_contact_at == clock() and tk.status == "in_progress"
    msgs = desk.to(cust.chat, desk.drain())
    assert len(msgs) == 1 and "calling you in 5 minutes" in msgs[0].text
    code2 = desk.open(line="Beta complaint high: x")
    desk.assign(code2, "bea")
    desk.user("bea").send(f"/ticket note {code2} Called Li Na")
    assert desk.ticket(code2).first_contact_at == clock()
    assert t("en", "tk.no_chat", code=code2) in desk.user("bea").send(f"/ticket reply {code2} hi")


def test_tickets_queues_filters_and_pages(desk):
    for i in range(12):
        desk.open(line=f"Beta consult low: q{i}")
    c = desk.open(line="云栖 complaint high: urgent")
    desk.assign(c, "alan")
    sue = desk.user("sue")
    out = sue.send("/tickets unassigned")
    assert "FW2026012" in out and says(out, "list.page", page=1, pages=2)
    out = sue.send("/tickets unassigned p2")
    assert "FW2026001" in out
    out = sue.send("/tickets all type:complaint priority:high")
    assert c in out and "FW2026001" not in out
    assert c in desk.user("alan").send("/tickets")
    assert c not in desk.user("bea").send("/tickets mine")
    assert t("en", "tk.list_usage") in sue.send("/tickets bogus")
    assert t("en", "tk.queue.breaching") in sue.send("/tickets breaching")


def test_customer_chat_restrictions(desk):
    other = desk.open(line="Beta complaint high: not yours")
    desk.drain()
    cust = desk.customer()
    out = cust.send("/ticket")
    assert t("en", "tk.dlg.cust_type") in out
    cust.send("/cancel")
    assert t("en", "tk.not_found", code=other) in cust.send(f"/ticket {other}")
    assert other not in cust.send("/tickets")
    for verb in ("/customer 云栖", "/report csat", "/followups", f"/ticket close {other}"):
        assert "⚠" in cust.send(verb), verb
    cust.send("/ticket new")
    cust.press_cmd("consult")
    cust.press_cmd("low")
    out = cust.send("How do I add a user?")
    assert "FW2026002" in out
    tk = desk.ticket("FW2026002")
    assert tk.created_by_id is None and tk.customer_id == desk.ids["c1"] and tk.contact_id is not None
    assert "FW2026002" in cust.send("/tickets")
    assert desk.to("#service", desk.drain()) == []  # consult/low: the unassigned queue, no channel post


def test_stranger_gets_only_the_explanation(desk):
    s = desk.user("nobody", chat="x-1")
    for text in ("/ticket", "/tickets", "hello", "/rate FW2026001 5", "/help"):
        assert t("en", "auth.stranger") in s.send(text)


def test_reassign_by_supervisor(desk, clock):
    code = desk.open()
    desk.assign(code, "alan")
    desk.drain()
    assert "⚠" in desk.user("alan").send(f"/ticket reassign {code} bea")
    clock.advance(minutes=20)
    out = desk.user("sue").send(f"/ticket reassign {code} bea")
    assert "bea" in out and desk.ticket(code).assignee_id == desk.ids["bea"]
    sent = desk.drain()
    # the new agent gets the card, the previous one is told it moved; the channel post shows this assignment
    assert sorted(d.chat_ref for d in sent if not d.edit_of) == ["@alan", "@bea"]
    moved = [d for d in sent if d.chat_ref == "@alan"][0]
    assert t("en", "tk.dm_moved_away", code=code, who="bea", by="sue") in moved.text
    edit = [d for d in sent if d.edit_of][0]
    assert "bea" in edit.text and "10:20" in edit.text
    assert t("en", "tk.same_assignee", code=code, who="bea") in desk.user("sue").send(f"/ticket reassign {code} bea")


def test_description_too_long(desk):
    out = desk.user("sue").send("/ticket new 云栖 complaint high: " + "x" * 5000)
    assert "⚠" in out and "FW2026001" not in out


def test_form_surface_prefill_and_submit(desk):
    from handlers.context import Inbound

    core = desk.core
    r = core.handle(Inbound(platform="console", user_ref="sue", chat_ref="@sue", surface="form",
                            text="/ticket new 云栖 complaint high"))
    fields = {f.name: f.value for f in r.form.fields}
    assert fields["customer"] == desk.codes["c1"] and fields["type"] == "complaint"
    values = dict(fields, description="Form-made ticket", contact="")
    r = core.handle(Inbound(platform="console", user_ref="sue", chat_ref="@sue", surface="form",
                            form=values, dialog="ticket_new"))
    assert "FW2026001" in text_of(r)
    assert desk.ticket("FW2026001").description == "Form-made ticket"


def test_customer_card_hides_internal_notes(desk):
    cust = desk.customer()
    code = desk.open()
    desk.assign(code, "alan")
    alan = desk.user("alan")
    alan.send(f"/ticket note {code} internal: customer keeps calling, ask sales first")
    alan.send(f"/ticket reply {code} We are looking into it")
    mine = cust.send(f"/ticket {code}")
    assert "We are looking into it" in mine and "ask sales first" not in mine
    assert "ask sales first" in alan.send(f"/ticket {code}")  # staff still see the whole log


def test_confirm_and_close_twice_say_already_closed(desk):
    cust = desk.customer()
    code = desk.open()
    desk.assign(code, "alan")
    status = t("en", "enum.status.in_progress")
    assert t("en", "tk.cust_not_resolved", code=code, status=status) in cust.send(f"/ticket confirm {code}")
    desk.user("alan").send(f"/ticket resolve {code} renewed the certificate")
    desk.user("alan").send(f"/ticket close {code}")
    desk.drain()
    assert t("en", "tk.already_closed", code=code) in cust.send(f"/ticket confirm {code}")
    assert t("en", "tk.already_closed", code=code) in desk.user("alan").send(f"/ticket close {code}")
    assert len(desk.to(cust.chat, desk.drain())) == 0  # no second rating request


def test_customer_help_has_no_staff_hints(desk):
    out = desk.customer().send("/help")
    assert "/ticket" in out and "/log" not in out and "/help log" not in out


def test_channel_posts_speak_the_service_language(desk):
    desk.core.settings = desk.core.settings.model_copy(update={"service_lang": "zh"})
    code = desk.open(line="云栖 complaint high: the system rejects every login since 9am")
    [post] = desk.to("#service", desk.drain())
    assert code in post.text and t("zh", "enum.ticket_type.complaint") in post.text
    assert t("en", "enum.ticket_type.complaint") not in post.text.replace("rejects", "")
