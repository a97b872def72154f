"""Rules that check, then write, under real concurrency: threads released together by a barrier, each with its own
connection and unit of work, several rounds, on PostgreSQL (READ COMMITTED, where the race lives) and on a SQLite
file (units of work already serialised by BEGIN IMMEDIATE: the fix must keep working there).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from bot.console.driver import ConsoleSession
from handlers.i18n import t
from handlers.router import Core
from handlers.settings import DomainSettings
from storage.db import create_all, make_engine, session_scope
from storage.models import ApprovalRequest, AuditLog, ChatBinding, Customer, Invite, Opportunity, Staff, Tag
from tests import factories as f


@pytest.fixture(params=["sqlite", "postgresql"])
def race_engine(request, tmp_path):
    if request.param == "postgresql":
        yield request.getfixturevalue("pg_db")
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
    create_all(engine)
    yield engine
    engine.dispose()


def at_once(calls: list[Callable[[], str]]) -> list[str]:
    """Run every call in its own thread, released together; the outputs (or the exceptions), in order."""
    barrier = threading.Barrier(len(calls))
    out: list[object] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = calls[i]()
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            out[i] = e
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert all(isinstance(o, str) for o in out), out
    return out  # type: ignore[return-value]


def ok(outs: list[str]) -> list[int]:
    return [i for i, o in enumerate(outs) if "⚠" not in o]


# ---------------------------------------------------------------- the pool's claim cap


def test_claims_at_cap_minus_one_only_one_wins(race_engine, clock):
    cap, rounds, threads = 3, 6, 6
    settings = DomainSettings(_env_file=None, pool_claim_cap=cap)
    core = Core(race_engine, settings, secret=b"race", clock=clock)
    for r in range(rounds):
        with session_scope(race_engine) as s:
            rep = f.staff(s, name=f"rep{r}")
            for i in range(cap - 1):
                f.customer(s, name=f"owned {r}-{i}", owner=rep)
            pool = [f.customer(s, name=f"pool {r}-{i}", owner=None).code for i in range(threads)]
        outs = at_once([lambda code=code, r=r: ConsoleSession(core, user=f"rep{r}").send(f"/claim {code}")
                        for code in pool])
        assert len(ok(outs)) == 1, outs
        with session_scope(race_engine) as s:
            rep_id = s.scalar(select(Staff.id).where(Staff.name == f"rep{r}"))
            owned = s.scalar(select(func.count()).select_from(Customer).where(Customer.owner_id == rep_id))
        assert owned == cap, f"round {r}: {owned} customers owned, cap {cap}"


# ---------------------------------------------------------------- approvals


def _deal_edit(engine, core: Core, n: int) -> tuple[int, str]:
    with session_scope(engine) as s:
        alice = s.scalar(select(Staff).where(Staff.name == "alice"))
        code = f.customer(s, name=f"Deal {n}", owner=alice, type="deal", phone="13800000001").code
    ConsoleSession(core, user="alice").send(f'/customer edit {code} name="Deal {n} Renamed"')
    with session_scope(engine) as s:
        return s.scalar(select(ApprovalRequest.id).order_by(ApprovalRequest.id.desc())), code


@pytest.mark.parametrize("verbs", [("approve", "approve"), ("approve", "reject")])
def test_a_request_is_decided_once(race_engine, clock, settings, verbs):
    """The owner's manager and an admin decide the same request at the same moment: one decision, applied once."""
    core = Core(race_engine, settings, secret=b"race", clock=clock)
    with session_scope(race_engine) as s:
        mary = f.staff(s, name="mary", role="manager", team="east")
        f.staff(s, name="alice", role="rep", team="east", manager=mary)
        f.staff(s, name="root", role="admin", team=None)
    for n in range(5):
        req_id, code = _deal_edit(race_engine, core, n)
        outs = at_once([lambda who=who, verb=verb, req_id=req_id: ConsoleSession(core, user=who).send(
            f"/customer {verb} {req_id}")
                        for who, verb in zip(("mary", "root"), verbs, strict=True)])
        assert len(ok(outs)) == 1, outs
        with session_scope(race_engine) as s:
            decisions = s.scalars(select(AuditLog.action).where(AuditLog.action.in_(("approve", "reject")),
                                                                AuditLog.entity_code == code)).all()
            renames = s.scalars(select(AuditLog.new).where(AuditLog.entity_code == code, AuditLog.field == "name",
                                                           AuditLog.action == "update")).all()
            req = s.get(ApprovalRequest, req_id)
        assert len(decisions) == 1, (decisions, outs)
        assert req.status == {"approve": "approved", "reject": "rejected"}[decisions[0]]
        assert renames == ([f"Deal {n} Renamed"] if req.status == "approved" else []), renames


# ---------------------------------------------------------------- ticket reassignment


def test_concurrent_reassigns_act_one_after_the_other(race_engine, clock, settings):
    """Two supervisors move the same ticket to two different agents at once. Both moves may stand, but one after
    the other: whoever had the ticket before each move is told it moved away (alan, then the first new agent)."""
    from storage.models import Outbox
    from tests.unit.test_tickets_support import Desk

    core = Core(race_engine, settings, secret=b"race", clock=clock)
    desk = Desk(core, race_engine)
    with session_scope(race_engine) as s:
        cy = f.staff(s, name="cy", role="agent", team="service").id
    for _ in range(4):
        code = desk.open()
        desk.assign(code, "alan")
        outs = at_once([lambda who=who, to=to, code=code: desk.user(who).send(f"/ticket reassign {code} {to}")
                        for who, to in (("sue", "bea"), ("sam", "cy"))])
        final = desk.ticket(code).assignee_id
        first = ({desk.ids["bea"], cy} - {final}).pop()
        with session_scope(race_engine) as s:
            told = s.scalars(select(Outbox.staff_id).where(Outbox.key.like(f"tk:{code}:moved:%"))).all()
        assert sorted(told) == sorted([desk.ids["alan"], first]), outs


# ---------------------------------------------------------------- codes


def test_opportunity_codes_are_unique_and_gap_free(race_engine, clock, settings):
    core = Core(race_engine, settings, secret=b"race", clock=clock)
    with session_scope(race_engine) as s:
        alice = f.staff(s, name="alice")
        code = f.customer(s, name="Busy Corp", owner=alice).code
    for r in range(3):
        outs = at_once([lambda i=i, r=r: ConsoleSession(core, user="alice").send(
            f"/opp add {code} deal {r}-{i} amount=1000 close=2027-01-31") for i in range(6)])
        assert len(ok(outs)) == 6, outs
    with session_scope(race_engine) as s:
        got = sorted(s.scalars(select(Opportunity.code)))
    assert got == [f"{code}OP{i:02d}" for i in range(1, 19)]


# ---------------------------------------------------------------- one-time invites


def test_an_invite_is_used_once(race_engine, clock, settings):
    """The same invite redeemed from two chats at once: one chat is bound, the other is told it was used."""
    from tests.unit.test_tickets_support import Desk

    core = Core(race_engine, settings, secret=b"race", clock=clock)
    desk = Desk(core, race_engine)
    for r in range(4):
        token = desk.token("c1")
        outs = at_once([lambda chat=chat, token=token: ConsoleSession(core, user=f"u-{chat}", chat=chat).send(
            f"/start {token}")
                        for chat in (f"a{r}", f"b{r}")])
        assert len([o for o in outs if t("en", "inv.used") not in o]) == 1, outs
        with session_scope(race_engine) as s:
            bound = s.scalars(select(ChatBinding.chat_ref).where(ChatBinding.chat_ref.in_((f"a{r}", f"b{r}")),
                                                                 ChatBinding.customer_id.is_not(None))).all()
            assert s.scalar(select(func.count()).select_from(Invite).where(Invite.used_at.is_not(None))) == r + 1
        assert len(bound) == 1, bound


# ---------------------------------------------------------------- tags made on the fly


def test_a_new_tag_given_to_two_customers_at_once(race_engine, clock, settings):
    """Two reps tag their customers with the same new tag at the same moment: both saved, one tag."""
    core = Core(race_engine, settings, secret=b"race", clock=clock)
    with session_scope(race_engine) as s:
        codes = {who: f.customer(s, name=f"{who} Ltd", owner=f.staff(s, name=who)).code for who in ("alice", "bob")}
    for r in range(4):
        outs = at_once([lambda who=who, r=r: ConsoleSession(core, user=who).send(
            f"/customer edit {codes[who]} tags=hot{r}") for who in ("alice", "bob")])
        assert len(ok(outs)) == 2, outs
    with session_scope(race_engine) as s:
        assert sorted(s.scalars(select(Tag.name))) == [f"hot{r}" for r in range(4)]


# ---------------------------------------------------------------- sums and sets a customer's row depends on


def test_purchases_at_once_grade_on_their_sum(race_engine, clock, settings):
    """Two purchases of ¥600,000 recorded at the same moment: the rolling-year total is ¥1.2m, grade A."""
    core = Core(race_engine, settings, secret=b"race", clock=clock)
    with session_scope(race_engine) as s:
        alice = f.staff(s, name="alice")
        codes = [f.customer(s, name=f"Buyer {r}", owner=alice, grade="C").code for r in range(4)]
    for code in codes:
        outs = at_once([lambda code=code, what=what: ConsoleSession(core, user="alice").send(
            f"/purchase {code} 600000 {what}") for what in ("licence", "support")])
        assert len(ok(outs)) == 2, outs
        with session_scope(race_engine) as s:
            assert s.scalar(select(Customer.grade).where(Customer.code == code)) == "A", outs


def test_follow_ups_logged_at_once_leave_one_scheduled(race_engine, clock, settings):
    """Logging a follow-up closes the customer's earlier scheduled one. Two logged at the same moment: one after
    the other, so exactly one next follow-up stays open, and the customer's next date is that one's."""
    from storage.models import FollowUp

    core = Core(race_engine, settings, secret=b"race", clock=clock)
    with session_scope(race_engine) as s:
        alice = f.staff(s, name="alice")
        codes = [f.customer(s, name=f"Talker {r}", owner=alice).code for r in range(4)]
    for code in codes:
        at_once([lambda code=code, when=when: ConsoleSession(core, user="alice").send(
            f"/log {code} phone: talked next: {when}") for when in ("tomorrow 10am", "next friday 3pm")])
        with session_scope(race_engine) as s:
            c = s.scalar(select(Customer).where(Customer.code == code))
            open_next = s.scalars(select(FollowUp.next_followup_at).where(
                FollowUp.customer_id == c.id, FollowUp.done_at.is_(None), FollowUp.next_followup_at.is_not(None))).all()
        assert len(open_next) == 1 and c.next_followup_at == open_next[0], (open_next, c.next_followup_at)


def test_an_opportunity_changes_stage_once_from_where_it_was(race_engine, clock, settings):
    """Won and lost at the same moment (or the same move twice): one change; the other sees it closed."""
    from storage.models import OpportunityStage

    core = Core(race_engine, settings, secret=b"race", clock=clock)
    with session_scope(race_engine) as s:
        alice = f.staff(s, name="alice")
        code = f.customer(s, name="Deal Maker", owner=alice).code
    for r in range(4):
        opp = ConsoleSession(core, user="alice").send(f"/opp add {code} round {r} amount=1000 close=2027-01-31")
        oc = f"{code}OP{r + 1:02d}"
        assert oc in opp
        outs = at_once([lambda line=line, oc=oc: ConsoleSession(core, user="alice").send(f"/opp stage {oc} {line}")
                        for line in ("won amount=900 contract=HT-1 signed", "lost reason=price")])
        with session_scope(race_engine) as s:
            o = s.scalar(select(Opportunity).where(Opportunity.code == oc))
            moves = s.scalars(select(OpportunityStage.to_stage).where(OpportunityStage.opportunity_id == o.id,
                                                                      OpportunityStage.from_stage.is_not(None))).all()
        assert len(ok(outs)) == 1 and moves == [o.stage], (outs, moves, o.stage)


def test_a_ticket_is_accepted_once(race_engine, clock, settings):
    """The agent double-clicks Accept, or accepts while a first note goes in: one acceptance."""
    from tests.unit.test_tickets_support import Desk

    core = Core(race_engine, settings, secret=b"race", clock=clock)
    desk = Desk(core, race_engine)
    for second in ("/ticket accept {code}", "/ticket note {code} called the customer"):
        for _ in range(3):
            code = desk.open()
            desk.assign(code, "alan")
            at_once([lambda line=line, code=code: desk.user("alan").send(line.format(code=code))
                     for line in ("/ticket accept {code}", second)])
            kinds = [e.kind for e in desk.events(code)]
            assert kinds.count("accepted") == 1, kinds


# ---------------------------------------------------------------- a dialog's step answered twice at once


def test_a_dialog_step_answered_twice_at_once_is_taken_once(race_engine, clock, settings):
    """The rating's comment step gets two messages at the same moment: one becomes the comment; the other is
    handled after it, as a message outside the dialog (the dialog is over by then)."""
    from tests.unit.test_tickets_support import Desk

    core = Core(race_engine, settings, secret=b"race", clock=clock)
    desk = Desk(core, race_engine)
    for r in range(3):
        cust = desk.customer(chat=f"cust-{r}")
        code = desk.open()
        desk.assign(code, "alan")
        desk.user("alan").send(f"/ticket resolve {code} renewed the certificate")
        desk.user("alan").send(f"/ticket close {code}")
        cust.send(f"/rate {code} 2")
        at_once([lambda text=text, chat=cust.chat, user=cust.user: ConsoleSession(core, user=user, chat=chat).send(text)
                 for text in ("too slow", "and rude")])
        comments = [e.text for e in desk.events(code) if e.kind == "comment"]
        assert len(comments) == 1 and desk.ticket(code).rating_comment == comments[0], comments


def test_a_guided_log_finished_twice_at_once_saves_one_follow_up(race_engine, clock, settings):
    """The last step of the guided /log answered twice at the same moment (a double send): one follow-up."""
    from storage.models import FollowUp

    core = Core(race_engine, settings, secret=b"race", clock=clock)
    with session_scope(race_engine) as s:
        alice = f.staff(s, name="alice")
        codes = [f.customer(s, name=f"Guided {r}", owner=alice).code for r in range(3)]
    for code in codes:
        chat = ConsoleSession(core, user="alice")
        for answer in ("/log", code, "phone", "skip", "talked about the renewal", "skip"):
            chat.send(answer)
        outs = at_once([lambda: ConsoleSession(core, user="alice").send("skip") for _ in range(2)])
        with session_scope(race_engine) as s:
            n = s.scalar(select(func.count()).select_from(FollowUp).join(Customer, Customer.id == FollowUp.customer_id)
                         .where(Customer.code == code))
        assert n == 1, outs


def test_a_dialog_started_twice_at_once(race_engine, clock, settings):
    """`/log` sent twice at the same moment (a double send): both get the first question, no error."""
    from storage.models import DialogState

    core = Core(race_engine, settings, secret=b"race", clock=clock)
    with session_scope(race_engine) as s:
        f.staff(s, name="alice")
    for r in range(4):
        outs = at_once([lambda r=r: ConsoleSession(core, user="alice", chat=f"@alice-{r}").send("/log")
                        for _ in range(2)])
        assert all(t("en", "fu.dlg.customer") in o for o in outs), outs
    with session_scope(race_engine) as s:
        assert s.scalar(select(func.count()).select_from(DialogState)) == 4


def test_two_invites_redeemed_in_one_chat_at_once(race_engine, clock, settings):
    """A customer taps two invite links at the same moment: both are used, one after the other; one binding."""
    from tests.unit.test_tickets_support import Desk

    core = Core(race_engine, settings, secret=b"race", clock=clock)
    desk = Desk(core, race_engine)
    for r in range(4):
        tokens = [desk.token("c1"), desk.token("c2")]
        outs = at_once([lambda token=token, r=r: ConsoleSession(core, user=f"u-{r}", chat=f"two-{r}").send(
            f"/start {token}") for token in tokens])
        assert not any("⚠" in o for o in outs), outs
        with session_scope(race_engine) as s:
            bound = s.scalars(select(ChatBinding.customer_id).where(ChatBinding.chat_ref == f"two-{r}")).all()
        assert len(bound) == 1 and bound[0] in (desk.ids["c1"], desk.ids["c2"]), bound
