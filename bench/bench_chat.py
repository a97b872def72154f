"""How fast the bot answers chat commands and routes a complaint, on the demo data (optionally scaled up).

    python -m bench.bench_chat [--customers N] [--rounds R] [--database-url URL]

Builds the demo database (SQLite in a temp dir, or the given URL, which is wiped), optionally adds N extra
customers with contacts and follow-ups, then times `Core.handle` for typical commands (R rounds each, after a
warm-up) and the complaint → supervisor-channel delivery (event-driven: the outbox sender is woken by the
commit). Prints a table of median / p95 / max in milliseconds. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlmodel import SQLModel

from bot.console.driver import ConsoleTransport
from bot.outbox import Sender
from handlers.context import Inbound
from handlers.router import Core
from storage import codes
from storage.db import create_all, make_engine, session_scope, utcnow
from storage.models import ChatBinding, Contact, Customer, FollowUp, Staff


def build(url: str | None, extra: int) -> Core:
    from bot.demo_data import generate
    from handlers.settings import DomainSettings

    if url is None:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    engine = make_engine(url)
    SQLModel.metadata.drop_all(engine)
    create_all(engine)
    settings = DomainSettings(_env_file=None)
    now = utcnow()
    with session_scope(engine) as s:
        generate(s, now=now, settings=settings)
        reps = list(s.scalars(select(Staff).where(Staff.role == "rep")))
        for i in range(extra):
            rep = reps[i % len(reps)]
            name = f"Bench Trading {i:05d} Co., Ltd."
            c = Customer(code=codes.customer_code(s, abbr=settings.company_abbr, year=now.year), name=name,
                         name_norm=re.sub(r"\W", "", name.lower()), industry="retail", type="intent", grade="B",
                         owner_id=rep.id, created_at=now, updated_at=now, next_followup_at=now + timedelta(days=2))
            s.add(c)
            s.flush()
            s.add(Contact(customer_id=c.id, name=f"联系人{i}", phone=f"139{i:08d}", created_at=now))
            s.add(FollowUp(customer_id=c.id, date=now - timedelta(days=3), method="phone", content="bench",
                           staff_id=rep.id, next_followup_at=now + timedelta(days=2), created_at=now))
            if i % 1000 == 999:
                s.flush()
    return Core(engine, settings, secret=b"bench")


def timed(fn, rounds: int) -> list[float]:  # noqa: ANN001
    fn()
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def row(name: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"| {name:<44} | {len(ms):>4} | {statistics.median(ms):>8.1f} | {p95:>8.1f} | {ms[-1]:>8.1f} |"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=0, help="extra customers on top of the demo's 200")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--database-url")
    a = ap.parse_args()
    core = build(a.database_url, a.customers)
    with session_scope(core.engine) as s:
        rep = s.scalar(select(Staff).where(Staff.role == "rep").order_by(Staff.id))
        sup = s.scalar(select(Staff).where(Staff.role == "supervisor"))
        cust = s.scalar(select(Customer).where(Customer.owner_id == rep.id).order_by(Customer.id))
        contact = s.scalar(select(Contact).where(Contact.customer_id == cust.id))
        s.add(ChatBinding(platform="console", chat_ref="bench-customer", customer_id=cust.id,
                          contact_id=contact.id, lang="en", created_at=utcnow()))
        n_customers = len(list(s.scalars(select(Customer.id))))
        rep_name, sup_name, code, cname = rep.name, sup.name, cust.code, cust.name[:4]

    def say(user: str, text: str, chat: str | None = None) -> None:
        core.handle(Inbound(platform="console", user_ref=user, chat_ref=chat or f"@{user}", text=text))

    cases = [
        ("/help", lambda: say(rep_name, "/help")),
        ("/customer <code>  (card)", lambda: say(rep_name, f"/customer {code}")),
        ("/customer <name part>  (search)", lambda: say(rep_name, f"/customer {cname}")),
        ("/customer typo search (Latin, fuzzy)", lambda: say(sup_name, "/customer Hengtomg Precison")),
        ("/log <code> phone positive: … next: 下周五下午3点", lambda: say(
            rep_name, f"/log {code} phone positive: bench call next: 下周五下午3点")),
        ("/followups", lambda: say(rep_name, "/followups")),
        ("/opp list", lambda: say(rep_name, "/opp list")),
        ("/tickets (supervisor)", lambda: say(sup_name, "/tickets")),
        ("/report pipeline", lambda: say(rep_name, "/report pipeline")),
    ]
    print(f"crm-bot chat benchmark — {core.engine.url.get_backend_name()}, {n_customers} customers, "
          f"{a.rounds} rounds")
    print(f"| {'command':<44} | {'n':>4} | {'median':>8} | {'p95':>8} | {'max':>8} |")
    print(f"|{'-' * 46}|{'-' * 6}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    for name, fn in cases:
        print(row(name, timed(fn, a.rounds)), flush=True)
    print(row("complaint → supervisor channel delivered", routing(core, a.rounds, rep_name, code)))


def routing(core: Core, rounds: int, rep_name: str, code: str) -> list[float]:
    """A high-priority complaint (one line) until the channel post is delivered (sender woken by commit)."""
    transport = ConsoleTransport()
    sender = Sender(core.engine, {"console": transport}, clock=core.clock)
    delivered = threading.Event()
    orig_send = transport.send

    def send(chat_ref, reply, *, scope):  # noqa: ANN001, ANN202
        ref = orig_send(chat_ref, reply, scope=scope)
        if chat_ref == "#service":
            delivered.set()
        return ref

    transport.send = send  # type: ignore[method-assign]
    core.on_outbox.append(sender.wake)
    sender.start(interval=5.0)
    out = []
    try:
        for i in range(rounds + 1):
            delivered.clear()
            t0 = time.perf_counter()
            core.handle(Inbound(platform="console", user_ref=rep_name, chat_ref=f"@{rep_name}",
                                text=f"/ticket new {code} complaint high: bench complaint {i}"))
            ok = delivered.wait(10)
            if i and ok:
                out.append((time.perf_counter() - t0) * 1000)
    finally:
        sender.stop()
        core.on_outbox.remove(sender.wake)
    return out or [float("nan")]


if __name__ == "__main__":
    main()
