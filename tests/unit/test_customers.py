"""/customer: add (one line, dialog, duplicates), search, card, edit, approvals, audit."""

import pytest
from sqlalchemy import select

from bot.console.driver import ConsoleSession
from handlers.i18n import t
from handlers.views import Form
from storage.db import session_scope
from storage.models import ApprovalRequest, AuditLog, Contact, Customer, Outbox
from storage.repos import customers as customer_repo
from tests import factories as f
from tests.says import says


@pytest.fixture
def team(core):
    with session_scope(core.engine) as s:
        mgr = f.staff(s, name="mary", role="manager", team="east")
        f.staff(s, name="alice", role="rep", team="east", manager=mgr)
        f.staff(s, name="bob", role="rep", team="east", manager=mgr)
        f.staff(s, name="zed", role="rep", team="west")
        f.staff(s, name="root", role="admin", team=None)
        f.staff(s, name="agnes", role="agent", team="service")
    return core


def chat(core, user, lang=None):
    return ConsoleSession(core, user=user, lang=lang)


def customers(core):
    with session_scope(core.engine) as s:
        return list(s.scalars(select(Customer).order_by(Customer.id)))


ONE_LINE = ('/customer add name="杭州云栖科技有限公司" industry=IT type=intent contact="张伟" '
            'phone=13812345678 tags=高预算,决策周期短')


def test_customer_add_one_line_saves_and_shows_the_card(team):
    alice = chat(team, "alice")
    out = alice.send(ONE_LINE)
    assert "ABC2026001" in out and "杭州云栖科技有限公司" in out
    assert "高预算" in out and "13812345678" in out
    [c] = customers(team)
    assert c.code == "ABC2026001" and c.name_norm == "杭州云栖科技" and c.type == "intent"
    with session_scope(team.engine) as s:
        owner = s.get(type(c), c.id).owner_id
        assert s.scalar(select(AuditLog).where(AuditLog.entity_id == c.id, AuditLog.action == "create"))
        assert owner is not None


def test_customer_add_chinese_quotes_and_chinese_labels(team):
    alice = chat(team, "alice")
    out = alice.send("/customer add name=“上海 星辰 贸易” industry=零售业 type=潜在客户 tags=竞品客户、转介绍客户")
    assert "ABC2026001" in out
    [c] = customers(team)
    assert c.name == "上海 星辰 贸易" and c.industry == "retail" and c.type == "potential"


def test_customer_add_one_line_bad_phone_says_what_is_wrong(team):
    out = chat(team, "alice").send('/customer add name=Acme industry=IT type=intent phone=12345')
    assert "⚠" in out and "12345" in out and "11" in out
    assert customers(team) == []


def test_customer_add_dialog_validates_each_step(team):
    alice = chat(team, "alice")
    alice.send("/customer add")
    alice.send("Acme Robotics Ltd")
    out = alice.send("astrology")
    assert "⚠" in out and "astrology" in out
    alice.press_cmd("manufacturing")
    alice.press_cmd("potential")
    alice.send("Li Lei")
    alice.send("skip")
    out = alice.send("0571-1234")
    assert "⚠" in out
    alice.send("+14155550123")
    out = alice.send("not-an-email")
    assert "⚠" in out
    alice.send("li@acme.example")
    for _ in range(4):  # address, tags, source, demand
        alice.send("skip")
    out = alice.send("skip")  # notes
    assert "ABC2026001" in out and "Acme Robotics Ltd" in out
    with session_scope(team.engine) as s:
        ct = s.scalar(select(Contact))
        assert (ct.name, ct.phone, ct.email) == ("Li Lei", "+14155550123", "li@acme.example")


def test_customer_add_duplicate_offers_open_or_create_anyway(team):
    alice = chat(team, "alice")
    alice.send(ONE_LINE)
    out = alice.send('/customer add name="杭州云栖科技" industry=IT type=intent')
    assert "ABC2026001" in out and len(customers(team)) == 1
    assert any(c == "/customer ABC2026001" for c in alice.choices())
    out = alice.press_cmd("#")  # "Create anyway" travels as a stored ref
    assert "ABC2026002" in out and len(customers(team)) == 2


def test_customer_add_duplicate_owned_by_someone_else_shows_no_details(team):
    chat(team, "zed").send('/customer add name="Secret Corp" industry=IT type=intent phone=13900000000')
    out = chat(team, "alice").send('/customer add name="Other Name" industry=IT type=intent phone=13900000000')
    assert "Secret" not in out and says(out, "cust.dup.hidden")
    assert "/customer ABC2026001" not in chat(team, "alice").choices()


def test_customer_search_by_name_contact_phone_and_filters(team):
    alice = chat(team, "alice")
    alice.send(ONE_LINE)
    alice.send('/customer add name="Acme Robotics" industry=manufacturing type=potential contact=Bob phone=13911112222')
    assert "ABC2026001" in alice.send("/customer 云栖")
    assert "Acme Robotics" in alice.send("/customer acme robotcs")  # typo
    assert "ABC2026002" in alice.send("/customer 13911112222")
    assert "ABC2026001" in alice.send("/customer 张伟")
    out = alice.send("/customer owner:me")
    assert "ABC2026001" in out and "ABC2026002" in out
    assert "ABC2026002" in alice.send("/customer industry:制造业")
    out = alice.send("/customer tag:高预算")
    assert "ABC2026001" in out and "ABC2026002" not in out


def test_customer_search_pages(team, settings):
    alice = chat(team, "alice")
    for i in range(12):
        alice.send(f'/customer add name="Shop {i:02d}" industry=retail type=potential')
    out = alice.send("/customer type:potential")
    assert t("en", "list.page", page=1, pages=2, total=12) in out
    out = alice.press_cmd("/customer type:potential p2")
    assert "Shop 11" in out


def _staff(s, name):
    from storage.models import Staff
    return s.scalar(select(Staff).where(Staff.name == name))


def test_customer_search_ranks_pages_and_counts_in_sql(team, monkeypatch):
    with session_scope(team.engine) as s:
        alice, zed = _staff(s, "alice"), _staff(s, "zed")
        for i in range(13):
            f.customer(s, name=f"Longer Harbor Trading {i:02d}", owner=alice, contact=None)
        f.customer(s, name="Harbor Bay Foods", owner=alice, contact=None)  # starts with it
        f.customer(s, name="H · A · R · B · O · R", owner=alice, contact=None)  # the exact name: longest, last
        f.customer(s, name="Harbor Secret", owner=zed, contact=None)  # another team's: not shown, not counted
        f.customer(s, name="云栖科技", owner=alice, contact=None)
        f.customer(s, name="杭州云栖", owner=alice, contact=None)
        f.customer(s, name="云栖", owner=alice, contact=None)
    alice = chat(team, "alice")
    out = alice.send("/customer harbor")
    assert t("en", "list.page", page=1, pages=2, total=15) in out and "Harbor Secret" not in out
    order = [out.index(n) for n in ("H · A · R · B · O · R", "Harbor Bay Foods", "Trading 00", "Trading 07")]
    assert order == sorted(order) and "Trading 08" not in out  # exact, prefix, then shorter, then by id
    out = alice.press_cmd("/customer harbor p2")
    assert t("en", "list.page", page=2, pages=2, total=15) in out
    assert "Trading 08" in out and "Trading 12" in out and "Trading 07" not in out
    assert "Trading 12" in alice.send("/customer harbor p9")  # past the end: the last page
    out = alice.send("/customer 云栖")  # 2 characters: too short for the trigram index
    order = [out.index(n) for n in ("云栖\n", "云栖科技", "杭州云栖")]
    assert order == sorted(order) and out.count("[") == 3
    # counting stops at the cap (12 by id, + the 3 names starting with it): shown as "N+", the exact name first
    monkeypatch.setattr(customer_repo, "SEARCH_CAP", 12)
    out = chat(team, "root").send("/customer harbor")
    assert t("en", "list.page_more", page=1, pages=2, total=15) in out and out.index("H · A · R") < out.index("Trading")


def test_customer_card_in_chinese_has_the_buttons(team):
    alice = chat(team, "alice")
    alice.send(ONE_LINE)
    with session_scope(team.engine) as s:
        from storage.models import Staff
        s.scalar(select(Staff).where(Staff.name == "alice")).lang = "zh"
    out = alice.send("/customer ABC2026001")
    assert "所属行业" in out and "意向客户" in out
    assert {"/log ABC2026001", "/opp add ABC2026001", "/customer edit ABC2026001"} <= set(alice.choices())


def _deal_customer(core):
    with session_scope(core.engine) as s:
        from storage.models import Staff
        alice = s.scalar(select(Staff).where(Staff.name == "alice"))
        c = f.customer(s, name="Deal Corp", owner=alice, type="deal", phone="13800000001")
        return c.code


def test_customer_unknown_field_is_named_not_swallowed(team):
    alice = chat(team, "alice")
    out = alice.send("/customer add foo=bar")
    assert "⚠" in out and says(out, "cust.err.unknown_field", field="foo") and "phone" in out and customers(team) == []
    alice.send(ONE_LINE)
    out = alice.send("/customer edit ABC2026001 fone=13900001111")
    assert "⚠" in out and says(out, "cust.err.unknown_field", field="fone")
    bob = chat(team, "bob")
    bob.send("/lang zh")
    assert "电话" in bob.send("/customer add 名字=张三")
    out = alice.send("/customer edit ABC2026001 notes=budget=600k confirmed")  # only the leading words count
    assert "⚠" not in out


def test_customer_edit_one_line_writes_the_audit_log(team):
    alice = chat(team, "alice")
    alice.send(ONE_LINE)
    out = alice.send("/customer edit ABC2026001 industry=finance notes=\"budget confirmed\" phone=13900001111")
    assert "finance" in out and "13900001111" in out
    with session_scope(team.engine) as s:
        rows = list(s.scalars(select(AuditLog).where(AuditLog.action == "update")))
        assert {(r.field, r.old, r.new) for r in rows} >= {("industry", "IT", "finance"),
                                                           ("phone", "13812345678", "13900001111")}
        assert all(r.actor_id is not None and r.at is not None for r in rows)


def test_customer_edit_type_of_a_deal_customer_waits_for_the_manager(team):
    code = _deal_customer(team)
    alice = chat(team, "alice")
    out = alice.send(f"/customer edit {code} name=\"Deal Corp Renamed\" notes=vip")
    assert "mary" in out
    with session_scope(team.engine) as s:
        c = s.scalar(select(Customer).where(Customer.code == code))
        assert c.name == "Deal Corp" and c.notes == "vip"  # non-key field applied at once
        req = s.scalar(select(ApprovalRequest))
        assert req.status == "pending"
        row = s.scalar(select(Outbox).where(Outbox.key == f"appr:{req.id}"))
        assert row is not None and row.chat_ref == "@mary"
    mary = chat(team, "mary")
    from handlers.views import from_json
    mary.view(from_json(row.payload), scope=row.scope)
    out = mary.press_cmd("/customer approve")
    assert out.startswith(t("en", "appr.done_approved", code=code, name="Deal Corp Renamed"))
    with session_scope(team.engine) as s:
        c = s.scalar(select(Customer).where(Customer.code == code))
        assert c.name == "Deal Corp Renamed"
        told = s.scalar(select(Outbox).where(Outbox.key == f"appr:{req.id}:approved"))
        assert told is not None and told.chat_ref == "@alice"
    assert "⚠" in mary.send(f"/customer approve {req.id}")  # decided already


def test_customer_edit_reject_leaves_it_unchanged_and_tells_the_rep(team):
    code = _deal_customer(team)
    chat(team, "alice").send(f"/customer edit {code} type=lost")
    with session_scope(team.engine) as s:
        req = s.scalar(select(ApprovalRequest))
    assert "⚠" in chat(team, "bob").send(f"/customer reject {req.id}")  # not the approver
    chat(team, "mary").send(f"/customer reject {req.id} still a customer")
    with session_scope(team.engine) as s:
        assert s.scalar(select(Customer).where(Customer.code == code)).type == "deal"
        assert s.get(ApprovalRequest, req.id).status == "rejected"
        assert s.scalar(select(Outbox).where(Outbox.key == f"appr:{req.id}:rejected"))


def test_customer_edit_dialog_in_chat(team):
    alice = chat(team, "alice")
    alice.send(ONE_LINE)
    alice.send("/customer ABC2026001")
    alice.press_cmd("/customer edit ABC2026001")
    alice.press_cmd("type")
    out = alice.press_cmd("deal")
    assert says(out, "cust.edit.done", code="ABC2026001")
    assert customers(team)[0].type == "deal"


def test_customer_edit_form_is_prefilled(team):
    from handlers.context import Inbound

    chat(team, "alice").send(ONE_LINE)
    r = team.handle(Inbound(platform="console", user_ref="alice", chat_ref="@alice", text="/customer edit ABC2026001",
                            surface="form"))
    assert isinstance(r.form, Form)
    vals = {fl.name: fl.value for fl in r.form.fields}
    assert vals["name"] == "杭州云栖科技有限公司" and vals["phone"] == "13812345678"
    vals["email"] = "zw@yunqi.example"
    r = team.handle(Inbound(platform="console", user_ref="alice", chat_ref="@alice", form=vals,
                            dialog="customer_edit"))
    with session_scope(team.engine) as s:
        assert s.scalar(select(Contact)).email == "zw@yunqi.example"
        assert [a.field for a in s.scalars(select(AuditLog).where(AuditLog.action == "update"))] == ["email"]


def test_customer_grade_by_hand_is_for_managers_and_locks_it(team):
    chat(team, "alice").send(ONE_LINE)
    assert "⚠" in chat(team, "alice").send("/customer edit ABC2026001 grade=A")
    chat(team, "mary").send("/customer edit ABC2026001 grade=A")
    c = customers(team)[0]
    assert c.grade == "A" and c.grade_locked


def test_customer_audit_view_for_managers_only(team):
    alice = chat(team, "alice")
    alice.send(ONE_LINE)
    alice.send("/customer edit ABC2026001 industry=finance")
    assert "⚠" in alice.send("/customer audit ABC2026001")
    out = chat(team, "mary").send("/customer audit ABC2026001")
    assert "IT" in out and "finance" in out and "alice" in out


def test_customer_add_as_a_form_validates_every_field(team):
    from handlers.context import Inbound
    from handlers.dialogs.engine import FormErrors

    r = team.handle(Inbound(platform="console", user_ref="alice", chat_ref="@alice", text="/customer add",
                            surface="form"))
    assert r.form is not None and r.form.dialog == "customer_add"
    names = [fl.name for fl in r.form.fields]
    assert names[:3] == ["name", "industry", "type"]
    assert ("IT", "IT") in next(fl for fl in r.form.fields if fl.name == "industry").choices
    bad = {"name": "Form Co", "industry": "IT", "type": "intent", "phone": "123", "email": "x@"}
    with pytest.raises(FormErrors) as e:
        team.handle(Inbound(platform="console", user_ref="alice", chat_ref="@alice", form=bad, dialog="customer_add"))
    assert set(e.value.errors) == {"phone", "email"}
    good = {**bad, "phone": "13812345678", "email": "a@form.example"}
    team.handle(Inbound(platform="console", user_ref="alice", chat_ref="@alice", form=good, dialog="customer_add"))
    assert [c.name for c in customers(team)] == ["Form Co"]


def test_customer_add_in_chinese_transcript(team):
    with session_scope(team.engine) as s:
        from storage.models import Staff
        s.scalar(select(Staff).where(Staff.name == "alice")).lang = "zh"
    alice = chat(team, "alice")
    out = alice.send("/customer add")
    assert "客户名称" in out
    alice.send("北京星河贸易有限公司")
    out = alice.send("金属")
    assert "⚠" in out and "不是已知行业" in out
    alice.send("零售业")
    alice.send("意向")
    alice.send("李娜")
    alice.send("采购经理")
    out = alice.send("1381234567")
    assert "⚠" in out and "11位" in out
    alice.send("13812345670")
    for _ in range(2):
        alice.send("跳过")
    alice.send("高预算,转介绍客户")
    for _ in range(2):
        alice.send("跳过")
    out = alice.send("跳过")
    assert "已保存" in out and "ABC2026001" in out and "零售业" in out


def test_customer_one_line_manager_sets_owner(team):
    out = chat(team, "mary").send('/customer add name="For Bob" industry=IT type=potential owner=bob')
    assert "bob" in out
    assert "⚠" in chat(team, "alice").send('/customer add name="For Bob 2" industry=IT type=potential owner=bob')
    assert "⚠" in chat(team, "mary").send('/customer add name="For Zed" industry=IT type=potential owner=zed')


def test_customer_contact_adds_a_second_contact_and_needs_approval_on_deal(team):
    alice = chat(team, "alice")
    alice.send(ONE_LINE)
    out = alice.send('/customer contact ABC2026001 name="李娜" title=CFO phone=13700000000')
    assert "李娜" in out
    assert "李娜 · CFO · 13700000000" in alice.send("/customer ABC2026001")
    code = _deal_customer(team)
    out = alice.send(f"/customer contact {code} name=王五")
    assert "mary" in out
    with session_scope(team.engine) as s:
        assert s.scalar(select(Contact).where(Contact.name == "王五")) is None
        req = s.scalar(select(ApprovalRequest))
    chat(team, "mary").send(f"/customer approve {req.id}")
    with session_scope(team.engine) as s:
        assert s.scalar(select(Contact).where(Contact.name == "王五")) is not None


def test_customer_one_line_values_run_until_the_next_key(team):
    alice = chat(team, "alice")
    alice.send("/customer add name=Acme Robotics industry=IT type=intent tags=高预算, 决策周期短 notes=call back next week")
    [c] = customers(team)
    assert c.name == "Acme Robotics" and c.notes == "call back next week"
    assert "决策周期短, 高预算" in alice.send("/customer ABC2026001")
    alice.send("/customer edit ABC2026001 demand=finance module and CRM")
    assert customers(team)[0].demand == "finance module and CRM"
