"""The small world the router fuzzer plays in: a seeded data set, grammar-shaped input, and the invariants a
consistent database keeps (tests/unit/test_fuzz_router.py drives it)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from hypothesis import strategies as st
from sqlalchemy import select, update

from bot.console.driver import ConsoleSession
from handlers import inputs
from handlers.commands import ALIASES, COMMANDS, load_all
from handlers.commands.opps import ADD_KEYS, STAGE_KEYS
from handlers.i18n import catalog
from handlers.router import Core
from handlers.services.customers import FIELD_KEYS
from storage.db import session_scope
from storage.models import (
    ChatBinding,
    Contact,
    Customer,
    FollowUp,
    Opportunity,
    Purchase,
    Staff,
    Ticket,
    TicketEvent,
)
from tests import factories as f

load_all()

STAFF = {"ada": "admin", "mia": "manager", "ray": "rep", "rob": "rep", "sue": "supervisor", "alan": "agent"}
CUSTOMER_CHAT = ("cust-u", "cust-chat")  # a customer's bound chat: (user, chat)
STRANGER = "nobody"


def seed(core: Core) -> dict[str, list[str]]:
    """Staff of every role, customers (owned, pooled, a closed deal), a bound customer chat, then tickets,
    opportunities, follow-ups, a purchase and an approval request made through the console like a user."""
    with session_scope(core.engine) as s:
        mia = f.staff(s, name="mia", role="manager", team="east")
        ray = f.staff(s, name="ray", role="rep", manager=mia)
        rob = f.staff(s, name="rob", role="rep", team="west")
        for name in ("ada", "sue", "alan"):
            f.staff(s, name=name, role=STAFF[name], team="service" if name != "ada" else None)
        f.staff(s, name="tina", role="agent", team="service", telegram_id=5550001)
        c1 = f.customer(s, name="杭州云栖科技有限公司", owner=ray, contact="张伟", phone="13800138000")
        f.customer(s, name="Beta Retail", owner=rob, contact="Li Na")
        f.customer(s, name="Pool Works", owner=None, contact="Zhou")
        f.customer(s, name="Deal Corp", owner=ray, type="deal", contact="王芳")
        contact = s.scalar(select(Contact).where(Contact.customer_id == c1.id))
        s.add(ChatBinding(platform="console", chat_ref=CUSTOMER_CHAT[1], user_ref=CUSTOMER_CHAT[0],
                          customer_id=c1.id, contact_id=contact.id, lang="en", created_at=core.clock()))
    for user, line in (("sue", "/ticket new ABC2026001 complaint high: login fails"),
                       ("sue", "/ticket new ABC2026002 consult low: invoices"),
                       ("sue", "/ticket assign FW2026001 alan"),
                       ("ray", "/opp add ABC2026001 ERP upgrade amount=120000 close=2027-01-31"),
                       ("ray", "/log ABC2026001 phone positive: price agreed next: tomorrow 10am"),
                       ("ray", "/purchase ABC2026001 50000 licences"),
                       ("ray", "/customer edit ABC2026004 name=Deal Corporation")):
        ConsoleSession(core, user=user).send(line)
    return codes(core)


def codes(core: Core) -> dict[str, list[str]]:
    with session_scope(core.engine) as s:
        return {"customer": list(s.scalars(select(Customer.code))),
                "ticket": list(s.scalars(select(Ticket.code))),
                "opp": list(s.scalars(select(Opportunity.code))),
                "id": [str(i) for i in s.scalars(select(FollowUp.id))] + ["1", "2"],
                "staff": list(s.scalars(select(Staff.name)))}


def revive(core: Core) -> None:
    """Undo what would end the game (a deactivated or demoted actor), so every example can reach every verb."""
    with session_scope(core.engine) as s:
        for name, role in STAFF.items():
            s.execute(update(Staff).where(Staff.name == name).values(active=True, role=role))


# ---------------------------------------------------------------- grammar


def _words() -> list[str]:
    """Sub-commands and keywords as the code spells them: the short literals of handlers/commands/."""
    found: set[str] = set()
    for p in (Path(__file__).parent.parent / "handlers" / "commands").glob("*.py"):
        found.update(re.findall(r'"([a-z\u4e00-\u9fff:]{1,12})"', p.read_text(encoding="utf-8")))
    for lang in ("en", "zh"):
        found.update(v for k, v in catalog(lang).items() if k.startswith("enum.") and len(v) <= 12)
    return sorted(found)


# the product's verb table (tests may register verbs of their own: not these)
PRODUCT_VERBS = sorted(v for v, c in COMMANDS.items() if c.func.__module__.startswith("handlers."))
VERBS = sorted(set(PRODUCT_VERBS) | {a for a, v in ALIASES.items() if v in PRODUCT_VERBS})
WORDS = _words()
KEYS = sorted(set(FIELD_KEYS) | set(ADD_KEYS) | set(STAGE_KEYS) | {"next", "date", "by", "result", "时间",
                                                                     "type", "priority", "method", "from", "to"})
NUMBERS = ["0", "1", "2", "5", "-1", "-5", "7d", "99999999999999999999999", "16211439078", "2147483648",
           "9223372036854775808", "9" * 400, "1e400", "NaN", "inf", "1.5万", "¥700,000", "3,000.50", "0.001",
           "²", "٣", "１２", "Ⅻ", "𝟙𝟚", "1_000"]
DATES = ["today", "tomorrow", "tomorrow 10am", "明天下午3点", "下周一", "2026-02-30", "2026-13", "2026-13-45",
         "12.20", "1.15", "13/45", "in 99999999 days", "99999999天后", "9999-12-31", "0000-00-00", "0001-01-01",
         "下个月底", "end of next month", "月底", "yesterday 4pm", "昨天下午4点", "25:99", "3 weeks later"]
ODD = ["\x00", "\ud800", "\udfff", "\u200b", "\u200d", "\u202e", "\u2066", "\ufeff", "\u0301", "ﬁ", "＝", "：",
       "\n", "\t", "“", "”", "「", '"', "'", "|", "#", "@", "/", "\\", "%", "_", "👩\u200d💻", "A" * 5000,
       "中" * 400, "<b>", "*_~`", "${x}", "{name}", "%(x)s"]


def _pair(draw_value: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    sep = st.sampled_from(["=", "＝", ":", "：", " = "])
    return st.builds(lambda k, s, v: f"{k}{s}{v}", st.sampled_from(KEYS), sep, draw_value)


def arguments(known: dict[str, list[str]]) -> st.SearchStrategy[str]:
    code = st.sampled_from(known["customer"] + known["ticket"] + known["opp"] + known["staff"] + known["id"])
    plain = st.one_of(st.sampled_from(WORDS), code, st.sampled_from(NUMBERS), st.sampled_from(DATES))
    odd = st.one_of(st.sampled_from(ODD), st.text(max_size=12))
    value = st.one_of(plain, odd, st.builds(lambda a, b: a + b, plain, odd), st.builds(lambda a, b: a + b, odd, plain))
    piece = st.one_of(plain, plain, value, _pair(value), st.builds(lambda v: f'"{v}"', value))
    return st.lists(piece, max_size=7).map(" ".join)


# Sentences as users write them: {slot}s are filled with known codes, numbers, dates and odd values.
TEMPLATES = [
    "/customer {cust}", "/customer edit {cust} {key}={value}", "/customer contact {cust} name={value} phone={num}",
    "/customer add name={value} industry=IT type=potential phone={num}", "/customer approve {id}",
    "/customer reject {id} {value}", "/customer audit {cust}", "/customer {key}:{value}",
    "/log {cust} {word} {word}: {value} next: {date}", "/log {cust} phone: {value} date: {date} by: {staff}",
    "/log undo {num}", "/log edit {num} {key}={value}", "/log next {num} {date}", "/history {cust} from:{date}",
    "/followups done {num}", "/followups snooze {num} {word}", "/followups {word} p{num}",
    "/opp add {cust} {value} amount={num} close={date}", "/opp stage {opp} {word} amount={num} contract={value}",
    "/opp stage {opp} lost reason={value}", "/opp list stage:{word}", "/opp {cust}", "/opp {opp}",
    "/purchase {cust} {num} {value} {date}", "/ticket new {cust} {word} {word}: {value}",
    "/ticket assign {ticket} {staff}", "/ticket assign {ticket} {num}", "/ticket reassign {ticket} {num}",
    "/ticket {word} {ticket} {value}", "/ticket rating {ticket} {num}", "/tickets {word} type:{word} p{num}",
    "/report {word} {date}", "/report {word} {num}", "/export {word} {word}", "/handover {staff} {staff}",
    "/claim {cust}", "/pool {key}:{value}", "/staff {staff} {word}", "/rate {ticket} {num}", "/lang {value}",
    "/start {value}", "/help {value}", "{value}", "{num}",
]


def lines(known: dict[str, list[str]]) -> st.SearchStrategy[str]:
    """A typed line: a template sentence, `/verb` with random arguments, or plain text (a dialog answer or
    a customer's message)."""
    slash = st.sampled_from(["/", "/", "/", "／", " /"])
    command = st.builds(lambda s, v, a: f"{s}{v} {a}".rstrip(), slash, st.sampled_from(VERBS), arguments(known))
    return st.one_of(sentences(known), sentences(known), command, arguments(known), st.text(max_size=40))


def sentences(known: dict[str, list[str]]) -> st.SearchStrategy[str]:
    odd = st.one_of(st.sampled_from(ODD), st.text(max_size=8))
    value = st.one_of(st.sampled_from(WORDS), st.sampled_from(DATES + NUMBERS), odd,
                      st.builds(lambda a, b: a + b, st.sampled_from(WORDS + NUMBERS), odd))
    slots = {"cust": st.sampled_from(known["customer"]), "ticket": st.sampled_from(known["ticket"]),
             "opp": st.sampled_from(known["opp"]), "staff": st.sampled_from(known["staff"]),
             "id": st.sampled_from(known["id"] + NUMBERS), "num": st.sampled_from(NUMBERS + known["id"]),
             "date": st.sampled_from(DATES), "word": st.sampled_from(WORDS), "key": st.sampled_from(KEYS),
             "value": value}
    slots = {k: st.one_of(v, v, v, value) for k, v in slots.items()}  # now and then, a wrong kind of value
    return st.sampled_from(TEMPLATES).flatmap(
        lambda tpl: st.fixed_dictionaries({k: v for k, v in slots.items() if "{" + k + "}" in tpl}).map(
            lambda d: _fill(tpl, d)))


def _fill(tpl: str, values: dict[str, str]) -> str:
    for k, v in values.items():
        tpl = tpl.replace("{" + k + "}", v)  # the same kind twice gets the same value
    return tpl


# ---------------------------------------------------------------- invariants


def check_consistent(core: Core) -> None:
    """What must hold after any input: enum columns hold enum values, states agree with their fields, no
    text holds NUL or an invisible code point, numbers are in range."""
    with session_scope(core.engine) as s:
        for c in s.scalars(select(Customer)):
            assert re.fullmatch(r"[A-Z]{2,6}\d{7}", c.code), c.code
            assert c.name.strip() and inputs.clean(c.name) == c.name, repr(c.name)
            assert c.type in ("potential", "intent", "deal", "lost") and c.grade in ("A", "B", "C"), c
        for t in s.scalars(select(Ticket)):
            assert t.status in ("pending", "in_progress", "resolved", "closed"), t.status
            assert (t.status == "pending") == (t.assignee_id is None), (t.code, t.status, t.assignee_id)
            assert t.rating is None or 1 <= t.rating <= 5, t.rating
            assert t.description.strip() and "\x00" not in t.description
        for o in s.scalars(select(Opportunity)):
            assert o.stage in ("initial", "needs", "proposal", "negotiation", "won", "lost"), o.stage
            if o.stage == "won":
                assert o.actual_amount is not None and o.contract_no, o.code
            assert o.expected_amount is None or Decimal(0) <= o.expected_amount < Decimal("1e12")
        for p in s.scalars(select(Purchase)):
            assert Decimal(0) < p.amount < Decimal("1e12"), p.amount
        for fu in s.scalars(select(FollowUp)):
            assert fu.content.strip() and "\x00" not in fu.content
        for ev in s.scalars(select(TicketEvent.text).where(TicketEvent.text.is_not(None))):
            assert "\x00" not in ev
