"""SLA clocks, breaches and escalation (seed 002 §3.3; domain.md).

Clocks: the assign clock starts when the ticket is created; the first-contact and resolve clocks start when the
ticket is assigned (an agent cannot contact or fix before someone owns the ticket). "Contacted" is the first
handling note or message to the customer after assignment. A deadline that passes unmet escalates exactly
once per level (`SlaBreach` is unique per ticket, kind and level): level 1 to the service channel, level 2
(`settings.escalate_after` after level 1, still unmet) to the sales manager of the customer's owner — or, when the
customer is in the pool or its owner has no manager, to the supervisors and admins.
Complaints run on the complaint clock (the high-priority times) whatever their priority (`policy`).
A deadline met late records `met_at` on its breach rows; met late before any escalation ran, it still leaves a
breach row (level 1, `escalated_at` = the moment it was met) so `/report sla` lists it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlmodel import Session

from handlers import notify
from handlers.context import Ctx
from handlers.reports import parse_period, report
from handlers.settings import DomainSettings
from handlers.views import Fields, Header, ListItem, ListPage, Reply, Text
from storage.db import insert_ignore
from storage.models import Customer, SlaBreach, Staff, Ticket

KINDS = ("assign", "contact", "resolve")
OPEN = ("pending", "in_progress")


def policy(settings: DomainSettings, type_: str, priority: str) -> tuple[timedelta, timedelta, timedelta]:
    """(assign, contact, resolve) for a ticket: its priority's SLA; a complaint runs on the complaint clock
    (domain.md, seed 002 §3.3: the high-priority times) whatever its priority, or its own if that is stricter."""
    own = settings.sla(priority)
    if type_ != "complaint":
        return own
    return tuple(min(a, b) for a, b in zip(own, settings.sla("high"), strict=True))  # type: ignore[return-value]


def work_clocks(settings: DomainSettings, t: Ticket, now: datetime) -> dict[str, datetime]:
    """The first-contact and resolve deadlines, started at assignment."""
    _, contact, resolve = policy(settings, t.type, t.priority)
    return {"contact_due_at": now + contact, "resolve_due_at": now + resolve}


def due_of(t: Ticket, kind: str) -> datetime | None:
    return getattr(t, f"{kind}_due_at")


def met_of(t: Ticket, kind: str) -> datetime | None:
    return {"assign": t.assigned_at, "contact": t.first_contact_at, "resolve": t.resolved_at}[kind]


def unmet(t: Ticket, kind: str) -> bool:
    if t.status not in OPEN or met_of(t, kind) is not None:
        return False
    return kind == "assign" or t.assignee_id is not None


def meet(session: Session, t: Ticket, kind: str, now: datetime) -> None:
    """The deadline `kind` is met now: close its open breaches; a late meeting without one records it."""
    due = due_of(t, kind)
    if due is None:
        return
    rows = list(session.scalars(select(SlaBreach).where(SlaBreach.ticket_id == t.id, SlaBreach.kind == kind)))
    for r in rows:
        if r.met_at is None:
            r.met_at = now
    if not rows and now > due:
        _insert(session, ticket_id=t.id, kind=kind, level=1, due_at=due, escalated_at=now, met_at=now)
    session.flush()


def _insert(session: Session, **values: object) -> bool:
    return insert_ignore(session, SlaBreach, conflict=["ticket_id", "kind", "level"], **values)


def fmt_dur(ctx: Ctx, td: timedelta) -> str:
    mins = max(0, int(td.total_seconds() // 60))
    d, rest = divmod(mins, 1440)
    h, m = divmod(rest, 60)
    parts = []
    if d:
        parts.append(ctx.t("sla.unit.d", n=d))
    if h:
        parts.append(ctx.t("sla.unit.h", n=h))
    if m or not parts:
        parts.append(ctx.t("sla.unit.m", n=m))
    return " ".join(parts[:2])


def clock_lines(ctx: Ctx, t: Ticket) -> list[tuple[str, str]]:
    """(label, state) per started clock: met (late?), time left, or overdue by."""
    out = []
    for kind in KINDS:
        due = due_of(t, kind)
        if due is None:
            continue
        met = met_of(t, kind)
        label = ctx.t(f"sla.kind.{kind}")
        if met is not None:
            key = "sla.met_late" if met > due else "sla.met"
            out.append((label, ctx.t(key, at=ctx.fmt_dt(met), by=fmt_dur(ctx, met - due))))
        elif t.status not in OPEN:
            continue
        elif due > ctx.now:
            out.append((label, ctx.t("sla.left", left=fmt_dur(ctx, due - ctx.now), due=ctx.fmt_dt(due))))
        else:
            out.append((label, "⏰ " + ctx.t("sla.overdue", by=fmt_dur(ctx, ctx.now - due), due=ctx.fmt_dt(due))))
    return out


# ---------------------------------------------------------------- escalation job


def job_ctx(session: Session, *, now: datetime, settings: DomainSettings, lang: str | None = None,
            staff: Staff | None = None, channels: dict[str, str] | None = None) -> Ctx:
    """A viewer context for jobs and notifications (a recipient's language and zone, or the channel's)."""
    return Ctx(session=session, now=now, settings=settings, platform="", chat_ref="", user_ref="",
               lang=lang or (staff.lang if staff else settings.channel_lang), staff=staff,
               channels=dict(channels or {}))


def owner_manager(session: Session, t: Ticket) -> Staff | None:
    """The sales manager of the customer's owner; an owner who is a manager themselves is that manager."""
    c = session.get(Customer, t.customer_id)
    owner = session.get(Staff, c.owner_id) if c and c.owner_id else None
    mgr = session.get(Staff, owner.manager_id) if owner and owner.manager_id else None
    if mgr is None and owner is not None and owner.role == "manager":
        mgr = owner
    return mgr if mgr is not None and mgr.active else None


def level_two_recipients(session: Session, t: Ticket) -> list[Staff]:
    """Who gets a second-level escalation: the owner's sales manager; when there is none (a pool customer, an owner
    without a manager) the active supervisors and admins, so that an escalation always reaches someone."""
    mgr = owner_manager(session, t)
    if mgr is not None:
        return [mgr]
    return list(session.scalars(select(Staff).where(Staff.role.in_(("supervisor", "admin")), Staff.active.is_(True))
                                .order_by(Staff.id)))


def _alert(vctx: Ctx, t: Ticket, kind: str, level: int) -> Reply:
    from handlers.services.ticket_views import card, channel_controls

    c = vctx.session.get(Customer, t.customer_id)
    head = vctx.t(f"sla.alert.l{level}", code=t.code, kind=vctx.t(f"sla.kind.{kind}"),
                  customer=c.name if c else "—", due=vctx.fmt_dt(due_of(t, kind)))
    r = Reply(views=(Text("⏰ " + head),), text=head) + card(vctx, t, log=False)
    if level == 1 and kind == "assign" and t.assignee_id is None:
        r += Reply(views=tuple(channel_controls(vctx, t)))
    return r


def escalate_due(session: Session, *, now: datetime, settings: DomainSettings,
                 channels: dict[str, str]) -> int:
    """Escalate every passed, unmet deadline once per level. Returns the number of escalations made."""
    q = select(Ticket).where(Ticket.status.in_(OPEN), or_(
        Ticket.assign_due_at <= now, Ticket.contact_due_at <= now, Ticket.resolve_due_at <= now))
    n = 0
    for t in session.scalars(q.order_by(Ticket.id)).all():
        for kind in KINDS:
            due = due_of(t, kind)
            if due is None or due > now or not unmet(t, kind):
                continue
            n += _escalate_one(session, t, kind, due, now=now, settings=settings, channels=channels)
    session.flush()
    return n


def _escalate_one(session: Session, t: Ticket, kind: str, due: datetime, *, now: datetime,
                  settings: DomainSettings, channels: dict[str, str]) -> int:
    rows = {r.level: r for r in session.scalars(
        select(SlaBreach).where(SlaBreach.ticket_id == t.id, SlaBreach.kind == kind))}
    if 1 not in rows:
        if not _insert(session, ticket_id=t.id, kind=kind, level=1, due_at=due, escalated_at=now):
            return 0
        vctx = job_ctx(session, now=now, settings=settings)
        notify.to_service_channel(session, channels, key=f"sla:{t.code}:{kind}:1",
                                  reply=_alert(vctx, t, kind, 1), now=now)
        return 1
    first = rows[1]
    if 2 in rows or first.met_at is not None or now < first.escalated_at + settings.escalate_after:
        return 0
    to = level_two_recipients(session, t)
    if not to or not _insert(session, ticket_id=t.id, kind=kind, level=2, due_at=due, escalated_at=now):
        return 0
    for st in to:
        vctx = job_ctx(session, now=now, settings=settings, staff=st)
        notify.to_staff(session, st, key=f"sla:{t.code}:{kind}:2:{st.id}", reply=_alert(vctx, t, kind, 2), now=now)
    return 1


# ---------------------------------------------------------------- /report sla


@report("sla", roles=("admin", "supervisor", "manager", "agent"))
def report_sla(ctx: Ctx, args: str) -> Reply:
    """The period's breaches and, when the period reaches now, every breach still open (however long ago it
    fell due), those first: the tickets `/tickets breaching` lists are all here, with their count."""
    start, end = parse_period(ctx, args)
    in_period = and_(SlaBreach.due_at >= start, SlaBreach.due_at < end)
    current = end > ctx.now
    still_open = and_(SlaBreach.met_at.is_(None), Ticket.status.in_(OPEN))
    rows = ctx.session.execute(
        select(SlaBreach, Ticket).join(Ticket, Ticket.id == SlaBreach.ticket_id)
        .where(or_(in_period, still_open) if current else in_period)
        .order_by(SlaBreach.met_at.is_not(None), SlaBreach.due_at, SlaBreach.level)).all()
    if ctx.role not in ("admin", "supervisor", "agent"):
        from handlers.services.tickets import visible_ids

        ok = visible_ids(ctx, [t.id for _, t in rows])
        rows = [(b, t) for b, t in rows if t.id in ok]
    by_kind = {k: sum(1 for b, _ in rows if b.kind == k and b.level == 1 and start <= b.due_at < end) for k in KINDS}
    counts = [(ctx.t(f"sla.kind.{k}"), str(v)) for k, v in by_kind.items()]
    if current:
        counts.append((ctx.t("sla.open_now"), str(len({t.id for b, t in rows if b.met_at is None and t.status in OPEN}))))
    items = []
    for b, t in rows:
        state = ctx.t("sla.met_late", at=ctx.fmt_dt(b.met_at), by=fmt_dur(ctx, b.met_at - b.due_at)) \
            if b.met_at else ctx.t("sla.still_open")
        items.append(ListItem(
            text=ctx.t("sla.row", code=t.code, kind=ctx.t(f"sla.kind.{b.kind}"), level=b.level),
            detail=ctx.t("sla.row_detail", due=ctx.fmt_dt(b.due_at), state=state)))
    period = f"{ctx.fmt_dt(start, date_only=True)} – {ctx.fmt_dt(end - timedelta(seconds=1), date_only=True)}"
    return Reply(views=(
        Header(ctx.t("sla.report_title", period=period)),
        Fields(tuple(counts)),
        ListPage(title=ctx.t("sla.report_list"), items=tuple(items[:50]), total=len(items),
                 empty_text=ctx.t("sla.none")),
    ))
