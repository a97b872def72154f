from __future__ import annotations

import hashlib
import re

import pytest
from sqlmodel import select

from handlers.commands.customer_chat import create_invite
from handlers.context import Inbound
from handlers.errors import InvalidInput, NotFound
from handlers.i18n import t
from handlers.router import Core
from storage.db import session_scope
from storage.models import ChatBinding, Customer, Invite
from tests.unit.test_tickets_support import Desk


@pytest.fixture
def desk(core, engine) -> Desk:
    return Desk(core, engine)


def invite(core, engine, *, by="ray", customer_id=None, contact=None):
    with session_scope(engine) as s:
        ctx = core.context(s, Inbound(platform="console", user_ref=by, chat_ref=f"@{by}"), core.clock())
        return create_invite(ctx, s.get(Customer, customer_id), contact)


def text(reply) -> str:
    return "\n".join(getattr(v, "text", "") for v in reply.views)


def test_token_shape_and_only_hash_stored(desk):
    r = invite(desk.core, desk.engine, customer_id=desk.ids["c1"])
    token = re.search(r"/start (\S+)", text(r)).group(1)
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,64}", token)
    assert t("en", "inv.no_bot_name") in text(r)
    with session_scope(desk.engine) as s:
        inv = s.scalars(select(Invite)).one()
        assert inv.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in (inv.token_hash,)
        assert inv.expires_at == desk.core.clock() + desk.core.settings.invite_ttl


def test_deep_link_with_bot_name(engine, settings, clock):
    core = Core(engine, settings, secret=b"s", clock=clock, bot_names={"telegram": "acme_crm_bot"})
    desk = Desk(core, engine)
    r = invite(core, engine, customer_id=desk.ids["c1"], contact="张伟")
    assert re.search(r"https://t\.me/acme_crm_bot\?start=[A-Za-z0-9_-]+", text(r))


def test_only_staff_who_see_the_customer(desk):
    with pytest.raises(NotFound):
        invite(desk.core, desk.engine, by="ray", customer_id=desk.ids["c2"])
    with pytest.raises(InvalidInput):
        invite(desk.core, desk.engine, by="rob", customer_id=desk.ids["c2"], contact="nobody")


def test_start_binds_once(desk):
    token = desk.token()
    a = desk.user("wang", chat="tg-100")
    assert "张伟" in a.send(f"/start {token}")
    with session_scope(desk.engine) as s:
        b = s.scalar(select(ChatBinding).where(ChatBinding.chat_ref == "tg-100"))
        assert b.customer_id == desk.ids["c1"]
    other = desk.user("li", chat="tg-200")
    assert t("en", "inv.used") in other.send(f"/start {token}")
    assert t("en", "auth.stranger") in other.send("/tickets")


def test_bad_and_expired_tokens(desk, clock):
    s = desk.user("wang", chat="tg-1")
    assert t("en", "inv.invalid") in s.send("/start not-a-real-token-at-all")
    assert t("en", "inv.invalid") in s.send("/start <script>")
    token = desk.token()
    clock.advance(days=8)
    assert t("en", "inv.expired") in s.send(f"/start {token}")
    assert t("en", "auth.stranger") in s.send("/start")


def test_staff_start(desk):
    out = desk.user("sue").send("/start")
    assert t("en", "help.title") in out
    token = desk.token()
    assert t("en", "inv.staff_no_bind") in desk.user("sue").send(f"/start {token}")
    s = desk.user("wang", chat="tg-9")
    assert "张伟" in s.send(f"/start {token}")  # not consumed by the staff member


def test_bound_customer_plain_text_opens_ticket_dialog(desk):
    cust = desk.customer()
    out = cust.send("My invoices show the wrong tax rate")
    assert t("en", "tk.dlg.cust_type") in out
    cust.send("投诉")
    out = cust.send("紧急")
    assert "FW2026001" in out
    tk = desk.ticket("FW2026001")
    assert (tk.description, tk.type, tk.priority) == ("My invoices show the wrong tax rate", "complaint", "high")
    assert "⚠" not in cust.send("/help")
    assert "/ticket" in cust.send("/help")


def test_plain_text_with_an_open_ticket_asks_where_it_belongs(desk):
    cust = desk.customer()
    cust.send("Printer offline")
    cust.press_cmd("support")
    cust.press_cmd("medium")
    code = "FW2026001"
    desk.user("sue").send(f"/ticket assign {code} alan")
    desk.drain()
    out = cust.send("It also shows error E42 now")
    assert t("en", "tk.cust_which_ticket") in out
    assert cust.choices()[0].startswith("#")  # the message text travels server-side, not in the token
    cust.press(1)
    assert desk.events(code)[-1].kind == "customer_msg"
    assert desk.events(code)[-1].text == "It also shows error E42 now"
    dm = desk.to("@alan", desk.drain())
    assert len(dm) == 1 and "E42" in dm[0].text
    cust.send("A different problem: invoices are late")
    out = cust.press(2)
    assert t("en", "tk.dlg.cust_type") in out
    cust.press_cmd("consult")
    cust.press_cmd("low")
    assert desk.ticket("FW2026002").description == "A different problem: invoices are late"
