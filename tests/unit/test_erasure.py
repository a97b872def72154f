"""`/customer forget CODE`: a customer's personal data is erased on request; aggregates and who-did-what stay."""

from __future__ import annotations

import json
import os

import pytest
from sqlmodel import select

from handlers import actions
from handlers.context import Inbound
from handlers.i18n import t
from handlers.router import Core
from handlers.services.erasure import ERASED
from handlers.views import walk_actions
from storage import outbox
from storage.db import session_scope
from storage.models import AuditLog, ChatBinding, Contact, Customer, FollowUp, Outbox, Ticket
from tests.unit.test_tickets_support import Desk

PHONE, EMAIL = "13812345678", "wang.fang@example.com"


def say(desk: Desk, who: str, line: str) -> str:
    """What `who` reads after typing `line` in the console (every view rendered)."""
    return desk.user(who).send(line)


@pytest.fixture(params=["sqlite", "postgresql"])
def desk(request, settings, clock) -> Desk:
    engine = request.getfixturevalue("engine" if request.param == "sqlite" else "pg_db")
    return Desk(Core(engine, settings, secret=b"s", clock=clock), engine)


def seed(desk: Desk) -> str:
    """Customer c1 with a second contact, a follow-up, an address change, a ticket, a bound Telegram chat and
    outbox copies that quote the contact's phone."""
    code = desk.codes["c1"]
    core = desk.core
    assert PHONE in say(desk, "ray", f"/customer contact {code} name=王芳 phone={PHONE} email={EMAIL}")
    assert "renewal" in say(desk, "ray", f"/log {code} phone: 王芳 asked for the renewal quote, call {PHONE}")
    assert "文三路" in say(desk, "ray", f"/customer edit {code} address=杭州市西湖区文三路90号")
    token = desk.token("c1")
    core.handle(Inbound(platform="telegram", user_ref="777", chat_ref="777", text=f"/start {token}"))
    desk.open(line=f"云栖 complaint high: 发票开错了，请联系 {PHONE}")
    now = core.clock()
    with session_scope(desk.engine) as s:
        assert s.scalars(select(ChatBinding).where(ChatBinding.customer_id == desk.ids["c1"])).all()
        for key, status, chat in (("sent-copy", "sent", "@sue"), ("pending-copy", "pending", "@sue"),
                                  ("to-customer", "pending", "777")):
            platform = "telegram" if chat == "777" else "console"
            s.add(Outbox(key=key, platform=platform, chat_ref=chat, scope=f"u:{chat}", status=status,
                         payload=json.dumps({"views": [{"type": "text", "text": f"王芳 {PHONE} called"}]},
                                            ensure_ascii=False),
                         next_attempt_at=now, created_at=now, sent_at=now if status == "sent" else None))
    return code


def test_a_rep_cannot_erase_and_an_admin_sees_what_goes_first(desk):
    code = seed(desk)
    assert t("en", "erase.err.admin_only") in say(desk, "ray", f"/customer forget {code}")
    ada = desk.user("ada")
    out = ada.send(f"/customer forget {code}")
    assert "2 contact(s)" in out and "1 follow-up(s)" in out and "1 ticket(s)" in out
    assert [a.cmd for a in walk_actions(ada.last_reply)] == [f"/customer forget {code} confirm",
                                                             f"/customer forget {code} cancel"]
    assert t("en", "erase.cancelled") in ada.press(2)
    with session_scope(desk.engine) as s:  # nothing changed by looking or cancelling
        c = s.get(Customer, desk.ids["c1"])
        assert c.erased_at is None and c.name == "杭州云栖科技有限公司"
        assert s.scalars(select(Contact).where(Contact.phone == PHONE)).one()


def test_erasure_removes_personal_data_and_keeps_the_history(desk):
    code = seed(desk)
    with session_scope(desk.engine) as s:
        before = s.scalars(select(FollowUp).where(FollowUp.customer_id == desk.ids["c1"])).one()
        fu_staff, fu_date, fu_method = before.staff_id, before.date, before.method
    ada = desk.user("ada")
    ada.send(f"/customer forget {code}")
    token = actions.encode(f"/customer forget {code} confirm", scope=ada.last_scope, secret=desk.core.secret,
                           now=desk.core.clock())
    assert f"Personal data of {code} erased" in ada.press_token(token)
    with session_scope(desk.engine) as s:
        c = s.get(Customer, desk.ids["c1"])
        assert c.name == code and c.address is None and c.erased_at is not None
        assert c.owner_id == desk.ids["ray"] and c.grade == "B"  # aggregates stay
        contacts = s.scalars(select(Contact).where(Contact.customer_id == c.id)).all()
        assert len(contacts) == 2 and {x.name for x in contacts} == {ERASED}
        assert all(x.phone is None and x.email is None for x in contacts)
        fu = s.scalars(select(FollowUp).where(FollowUp.customer_id == c.id)).one()
        assert (fu.content, fu.staff_id, fu.date, fu.method) == (ERASED, fu_staff, fu_date, fu_method)
        tk = s.scalars(select(Ticket).where(Ticket.customer_id == c.id)).one()
        assert tk.description == ERASED and tk.priority  # the ticket stays, counted in reports
        assert s.scalars(select(ChatBinding).where(ChatBinding.customer_id == c.id)).all() == []
        boxes = {o.key: o for o in s.scalars(select(Outbox))}
        assert boxes["sent-copy"].payload == outbox.STRIPPED
        assert "to-customer" not in boxes
        assert json.loads(boxes["pending-copy"].payload)["views"][0]["text"] == f"{ERASED} {ERASED} called"
        every_text = " ".join(o.payload for o in boxes.values())
        assert PHONE not in every_text and "王芳" not in every_text
        audits = s.scalars(select(AuditLog)).all()
        assert not any(PHONE in (a.old or "") + (a.new or "") or "文三路" in (a.old or "") + (a.new or "")
                       for a in audits)
        erase = [a for a in audits if a.action == "erase"]
        assert len(erase) == 1 and erase[0].entity_code == code and "contacts=2" in erase[0].new
    # nothing of it can be found any more
    assert say(desk, "ada", f"/customer {PHONE}").startswith("⚠ No customer")
    card = say(desk, "ada", f"/customer {code}")
    assert "王芳" not in card and PHONE not in card and "Personal data erased" in card
    # the same press again (a double click) erases nothing more
    ada.press_token(token)
    with session_scope(desk.engine) as s:
        assert len(s.scalars(select(AuditLog).where(AuditLog.action == "erase")).all()) == 1
    assert "was already erased on" in say(desk, "ada", f"/customer forget {code} confirm")


def test_zh_admin_reads_the_confirmation_in_chinese(desk):
    code = desk.codes["c2"]
    say(desk, "ada", "/lang zh")
    out = say(desk, "ada", f"/customer forget {code}")
    assert "此操作不可撤销" in out


def test_cli_forget_asks_then_erases(tmp_path, settings, clock, monkeypatch, capsys):
    from bot import cli
    from storage.db import make_engine
    from storage.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'crm.db'}")
    upgrade(engine)
    desk = Desk(Core(engine, settings, secret=b"s", clock=clock), engine)
    code = desk.codes["c2"]
    monkeypatch.setenv("DATABASE_URL", str(engine.url))
    monkeypatch.chdir(tmp_path)
    with open(os.devnull) as devnull:  # not a terminal and no --yes: shows what goes, erases nothing
        monkeypatch.setattr("sys.stdin", devnull)
        assert cli.main(["customer", "forget", code]) == 2
    out = capsys.readouterr()
    assert "Beta Retail" in out.out and "give --yes" in out.err
    assert cli.main(["customer", "forget", code, "--yes"]) == 0
    assert f"Personal data of {code} erased" in capsys.readouterr().out
    with session_scope(engine) as s:
        assert s.get(Customer, desk.ids["c2"]).name == code
    assert cli.main(["customer", "forget", "NOPE123", "--yes"]) == 1
    assert cli.main(["customer", "forget", code, "--as", "ray", "--yes"]) == 1  # a rep may not
    engine.dispose()


def test_erasure_reaches_the_customers_merged_into_it(desk):
    """A duplicate merged into the customer keeps its row (a tombstone): its name and address go too."""
    keep, dup = desk.codes["c1"], desk.codes["c3"]
    mia = desk.user("mia")
    say(desk, "ada", f"/customer edit {dup} address=上海市浦东新区")
    mia.send(f"/customer merge {dup} INTO {keep}")
    say(desk, "ada", f"/customer merge {dup} INTO {keep} yes")
    with session_scope(desk.engine) as s:
        assert s.get(Customer, desk.ids["c3"]).merged_into_id == desk.ids["c1"]
    say(desk, "ada", f"/customer forget {keep} confirm")
    with session_scope(desk.engine) as s:
        tomb = s.get(Customer, desk.ids["c3"])
        assert (tomb.name, tomb.address) == (dup, None) and tomb.erased_at is not None


def test_erasure_leaves_no_searchable_phone_or_email(desk):
    """The normalised copies kept for search (contact.phone_norm / email_norm) go with the phone and e-mail."""
    code = seed(desk)
    say(desk, "ada", f"/customer forget {code} confirm")
    with session_scope(desk.engine) as s:
        rows = s.scalars(select(Contact).where(Contact.customer_id == desk.ids["c1"])).all()
        assert all(x.phone_norm is None and x.email_norm is None for x in rows)
