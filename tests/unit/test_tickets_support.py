"""Shared set-up for the service desk tests (no tests here): staff, two customers, a console transport."""

from __future__ import annotations

import re

from sqlmodel import select

from bot.console.driver import ConsoleSession, ConsoleTransport
from bot.outbox import Sender
from handlers import actions
from handlers.commands.customer_chat import create_invite
from handlers.context import Inbound
from handlers.views import Error
from storage.db import session_scope
from storage.models import Customer, Outbox, Ticket, TicketEvent
from tests import factories as f


class Desk:
    def __init__(self, core, engine) -> None:
        self.core, self.engine = core, engine
        with session_scope(engine) as s:
            mia = f.staff(s, name="mia", role="manager", team="east")
            ray = f.staff(s, name="ray", role="rep", manager=mia, team="east")
            rob = f.staff(s, name="rob", role="rep", team="west")
            f.staff(s, name="ada", role="admin", team=None)
            sue = f.staff(s, name="sue", role="supervisor", team="service")
            f.staff(s, name="sam", role="supervisor", team="service")
            alan = f.staff(s, name="alan", role="agent", team="service")
            bea = f.staff(s, name="bea", role="agent", team="service")
            c1 = f.customer(s, name="杭州云栖科技有限公司", owner=ray, contact="张伟")
            c2 = f.customer(s, name="Beta Retail", owner=rob, contact="Li Na")
            c3 = f.customer(s, name="Pool Works", owner=None, contact="Zhou")
            self.ids = {"mia": mia.id, "ray": ray.id, "rob": rob.id, "sue": sue.id, "alan": alan.id,
                        "bea": bea.id, "c1": c1.id, "c2": c2.id, "c3": c3.id}
            self.codes = {"c1": c1.code, "c2": c2.code, "c3": c3.code}
        self.transport = ConsoleTransport()
        self.sender = Sender(engine, {"console": self.transport}, clock=core.clock)
        self._seen = 0

    def user(self, name: str, **kw) -> ConsoleSession:
        return ConsoleSession(self.core, user=name, **kw)

    def drain(self) -> list:
        self.sender.drain()
        new = self.transport.sent[self._seen:]
        self._seen = len(self.transport.sent)
        return new

    def to(self, chat: str, items: list) -> list:
        return [d for d in items if d.chat_ref == chat]

    def token(self, customer: str = "c1", by: str = "sue") -> str:
        with session_scope(self.engine) as s:
            ctx = self.core.context(s, Inbound(platform="console", user_ref=by, chat_ref=f"@{by}"),
                                    self.core.clock())
            r = create_invite(ctx, s.get(Customer, self.ids[customer]), None)
        text = "\n".join(getattr(v, "text", "") for v in r.views)
        return re.search(r"/start (\S+)", text).group(1)

    def customer(self, chat: str = "cust-1", customer: str = "c1", lang: str = "en") -> ConsoleSession:
        cs = ConsoleSession(self.core, user=f"u-{chat}", chat=chat, lang=lang)
        cs.send(f"/start {self.token(customer)}")
        return cs

    def ticket(self, code: str) -> Ticket:
        with session_scope(self.engine) as s:
            return s.scalar(select(Ticket).where(Ticket.code == code))

    def events(self, code: str) -> list[TicketEvent]:
        with session_scope(self.engine) as s:
            t = s.scalar(select(Ticket).where(Ticket.code == code))
            return list(s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id)
                                  .order_by(TicketEvent.id)))

    def outbox_keys(self) -> list[str]:
        with session_scope(self.engine) as s:
            return list(s.scalars(select(Outbox.key).order_by(Outbox.id)))

    def press(self, user: str, cmd: str, *, scope: str = "c:#service", chat: str | None = None):
        """A user presses a button carrying `cmd` that was posted to `scope`. Returns the Reply."""
        tok = actions.encode(cmd, scope=scope, secret=self.core.secret, now=self.core.clock())
        s = self.user(user, chat=chat)
        s.press_token(tok)
        return s.last_reply

    def open(self, by: str = "sue", line: str = "云栖 complaint high: logins rejected since 9am") -> str:
        out = self.user(by).send(f"/ticket new {line}")
        m = re.search(r"FW\d{7}", out)
        assert m, out
        return m.group(0)

    def assign(self, code: str, agent: str = "alan", by: str = "sue"):
        return self.press(by, f"/ticket assign {code} {self.ids[agent]}")


def is_error(reply) -> bool:
    return any(isinstance(v, Error) for v in reply.views)


def text_of(reply) -> str:
    from bot.console.render import render

    return render(reply, "en").text
