"""Follow-ups (跟进记录): logging, undo, edit, done, snooze, and the lists behind /followups and /history.

Every change keeps the customer's `last_followup_at` (the latest logged contact) and `next_followup_at`
(the earliest open next follow-up) consistent. Logging a follow-up closes the customer's earlier open ones
(the rep did follow up); undo reopens exactly those. Permissions: only staff who may edit the customer's
sales data (owner rep, their manager, admin) log or change follow-ups; who may not see the customer gets
`NotFound`, as if it did not exist.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from handlers import inputs
from handlers.context import Ctx
from handlers.dates import example, parse_when
from handlers.dates_past import example as past_example
from handlers.errors import Forbidden, InvalidInput, NotFound
from handlers.i18n import ENUMS, label_index
from handlers.lookup import find_staff
from handlers.permissions import can_edit_customer, can_see_customer, is_manager_of
from handlers.services import audit
from handlers.services.followup_owed import assignee_for
from storage.db import lock_row
from storage.models import Customer, FollowUp, Staff
from storage.repos import followups as followup_repo
from storage.repos.followups import recent as recent_followups  # noqa: F401 - the customer's last follow-ups

UNDO_WINDOW = timedelta(hours=24)
SNOOZE = {"1d": timedelta(days=1), "3d": timedelta(days=3), "1w": timedelta(weeks=1)}
EDITABLE = ("method", "feedback", "content", "next", "result")
# how a rep contacts a customer; `service` is a complaint's trace (services/service_history.py), never logged
SALES_METHODS = tuple(m for m in ENUMS["method"] if m != "service")
# Records that say nothing (handbook 002 §5.1: a follow-up records what was discussed and what comes next),
# in both languages, compared case-insensitively after trimming spaces and trailing punctuation. The logging
# only refuses empty content today; `/report quality` lists these and the too-short ones.
VAGUE_CONTENT = ("已联系", "联系了", "已联系客户", "联系客户", "已沟通", "沟通了", "已跟进", "跟进了", "跟进", "已电话",
                 "打了电话", "已打电话", "电话", "已拜访", "拜访了", "已发", "已发微信", "已回复", "无", "没有", "好", "好的",
                 "收到", "嗯", "可以", "同上", "暂无", "ok", "okay", "done", "called", "contacted", "talked",
                 "followed up", "follow up", "follow-up", "fu", "na", "n/a", "none", "nothing", "same", "same as above",
                 "tbd", "todo", "test", "-", ".", "...")
MIN_CONTENT_CHARS = 4  # shorter content is too short to say what was discussed
TRAILING = ".。!！~～…,，"


def content_key(text: str | None) -> str:
    """How content is compared with `VAGUE_CONTENT`: lower-case, trimmed, without trailing punctuation."""
    return (text or "").strip().lower().rstrip(TRAILING).strip()


def is_vague(text: str | None) -> bool:
    """Content that says nothing: empty, one of `VAGUE_CONTENT`, or shorter than `MIN_CONTENT_CHARS`."""
    key = content_key(text)
    return not key or key in VAGUE_CONTENT or len((text or "").strip()) < MIN_CONTENT_CHARS



def match_method(text: str | None) -> str | None:
    """A sales method from its id, label (either language) or alias; None otherwise."""
    return label_index("method", SALES_METHODS).get((text or "").strip().lower())


def _audit(ctx: Ctx, fu: FollowUp, customer: Customer, action: str, field: str | None = None,
           old: object = None, new: object = None) -> None:
    """Write the follow-up's audit entry (a wrong call raises: an audit row is never skipped)."""
    audit.record(ctx.session, actor_id=ctx.staff.id if ctx.staff else None, action=action,
                 entity="followup", entity_id=fu.id, entity_code=customer.code, field=field,
                 old=None if old is None else str(old), new=None if new is None else str(new), now=ctx.now)


def reminder_time(ctx: Ctx) -> str:
    """`HH:MM`: the actor's own reminder time where it was changed from the default, else the setting."""
    own = getattr(ctx.staff, "reminder_time", None)
    return own if own and own != "09:00" else ctx.settings.reminder_time


def when(ctx: Ctx, text: str) -> datetime:
    """WHEN typed by the actor, in their zone, with their reminder time for dates without a time."""
    return parse_when(text, now=ctx.now, tz=ctx.tz, lang=ctx.lang, reminder=reminder_time(ctx))


def check_can_log(ctx: Ctx, customer: Customer) -> None:
    if not can_see_customer(ctx, customer):
        raise NotFound("lookup.not_found", query=customer.code)
    if not can_edit_customer(ctx, customer):
        raise Forbidden("fu.forbidden", code=customer.code)


def _check_fields(ctx: Ctx, *, method: str, content: str, feedback: str | None, result: str | None,
                  next_at: datetime | None) -> None:
    if method not in SALES_METHODS:
        raise InvalidInput("fu.bad_method", value=method)
    if feedback is not None and feedback not in ENUMS["feedback"]:
        raise InvalidInput("fu.bad_feedback", value=feedback)
    if result is not None and result not in ENUMS["result"]:
        raise InvalidInput("fu.bad_result", value=result)
    if not content or not content.strip():
        raise InvalidInput("fu.no_content")
    if len(content) > ctx.settings.max_text:
        raise InvalidInput("fu.too_long", max=ctx.settings.max_text, length=len(content))
    if next_at is not None and next_at <= ctx.now:
        raise InvalidInput("when.past", value=ctx.fmt_dt(next_at), example=example(ctx.lang))


def recompute(session: Session, customer: Customer, *, touched: datetime | None = None) -> None:
    """Set the customer's last/next follow-up times from its live follow-ups (the last: sales contacts only);
    `touched`: its `updated_at` too, in the same UPDATE."""
    lock_row(session, Customer, customer.id)  # the aggregates below must include concurrent changes
    customer.last_followup_at, customer.next_followup_at = followup_repo.last_and_next(
        session, customer_id=customer.id, methods=SALES_METHODS)
    if touched is not None:
        customer.updated_at = touched
    session.flush()


def find_author(ctx: Ctx, name: str, *, active: bool = True) -> Staff:
    """`by: NAME` (跟进人): who made the call, if not the actor. A manager may name a rep or manager of their
    team, an admin any sales staff member, a rep only themselves. `active=False`: someone who has left too
    (an import of past follow-ups)."""
    author = find_staff(ctx, name, active=active)
    if author.id == ctx.staff.id:
        return author
    if not is_manager_of(ctx, author.id):
        raise Forbidden("fu.by_forbidden", name=author.name)
    if author.role not in ("rep", "manager", "admin"):
        raise InvalidInput("fu.by_not_sales", name=author.name)
    return author


def log_followup(ctx: Ctx, *, customer: Customer, method: str, content: str, feedback: str | None = None,
                 next_at: datetime | None = None, result: str | None = None,
                 date: datetime | None = None, author: Staff | None = None) -> FollowUp:
    """Record a contact with `customer` made at `date` (default now) by `author` (default the actor; see
    `find_author`). The customer's owner owes the next follow-up."""
    check_can_log(ctx, customer)
    content = content.strip()
    _check_fields(ctx, method=method, content=content, feedback=feedback, result=result, next_at=next_at)
    if date is not None and date > ctx.now:
        raise InvalidInput("fu.date_future", value=ctx.fmt_dt(date), example=past_example(ctx.lang))
    author = author or ctx.staff
    s = ctx.session
    lock_row(s, Customer, customer.id)  # two logs at once: the second closes the first's next follow-up
    for open_fu in followup_repo.list_open(s, customer_id=customer.id):
        open_fu.done_at = ctx.now
    fu = FollowUp(customer_id=customer.id, date=date or ctx.now, method=method, content=content,
                  feedback=feedback, next_followup_at=next_at, staff_id=author.id,
                  assignee_id=assignee_for(customer, author.id), result=result, created_at=ctx.now)
    s.add(fu)
    s.flush()
    recompute(s, customer, touched=ctx.now)
    if author.id == ctx.staff.id:
        _audit(ctx, fu, customer, "create")
    else:  # logged for someone else: the audit row names them (the actor is the one who typed it)
        _audit(ctx, fu, customer, "create", field="staff", new=author.name)
    return fu


def get_followup(ctx: Ctx, fid: int | str) -> tuple[FollowUp, Customer]:
    """A live follow-up the actor may change, with its customer; `NotFound` otherwise."""
    n = inputs.parse_id(str(fid))
    fu = ctx.session.get(FollowUp, n) if n is not None else None
    customer = ctx.session.get(Customer, fu.customer_id) if fu else None
    if (fu is None or fu.deleted_at is not None or customer is None or not can_edit_customer(ctx, customer)
            or fu.method not in SALES_METHODS):  # a complaint's trace is not changed by hand
        raise NotFound("fu.not_found", id=fid)
    return fu, customer


def _typed_by_actor(ctx: Ctx, fu: FollowUp) -> bool:
    """Did the actor log `fu` for its author (`by:`)? Its audit row says who typed it."""
    return followup_repo.typed_by(ctx.session, followup_id=fu.id, actor_id=ctx.staff.id)


def undo_followup(ctx: Ctx, fid: int | str) -> tuple[FollowUp, Customer]:
    """Remove a just-logged follow-up: only who logged it (its author, or who typed it `by:` them), only
    within `UNDO_WINDOW`."""
    fu, customer = get_followup(ctx, fid)
    if fu.staff_id != ctx.staff.id and not _typed_by_actor(ctx, fu):
        raise Forbidden("fu.undo_not_author")
    if ctx.now - fu.created_at > UNDO_WINDOW:
        raise Forbidden("fu.undo_too_late", hours=int(UNDO_WINDOW.total_seconds() // 3600))
    fu.deleted_at = ctx.now
    for closed in followup_repo.list_closed_at(ctx.session, customer_id=customer.id, at=fu.created_at,
                                               other_than=fu.id):
        closed.done_at = None  # logging this one had closed them: reopen
    ctx.session.flush()
    recompute(ctx.session, customer)
    _audit(ctx, fu, customer, "delete")
    return fu, customer


def edit_followup(ctx: Ctx, fid: int | str, changes: dict) -> tuple[FollowUp, Customer, list[str]]:
    """Apply parsed `changes` (field → value; `next` is a datetime or None). Returns the changed fields."""
    fu, customer = get_followup(ctx, fid)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput("fu.bad_field", field=", ".join(sorted(unknown)), fields=", ".join(EDITABLE))
    new = {"method": fu.method, "content": fu.content, "feedback": fu.feedback, "result": fu.result,
           "next": fu.next_followup_at}
    new.update(changes)
    next_at = new["next"] if "next" in changes else None
    _check_fields(ctx, method=new["method"], content=new["content"], feedback=new["feedback"],
                  result=new["result"], next_at=next_at)
    changed = []
    for name in EDITABLE:
        attr = "next_followup_at" if name == "next" else name
        if name in changes and getattr(fu, attr) != new[name]:
            _audit(ctx, fu, customer, "update", field=attr, old=getattr(fu, attr), new=new[name])
            setattr(fu, attr, new[name])
            changed.append(name)
    if "next" in changed:
        fu.done_at, fu.reminded_at = None, None
        _owe(fu, customer)
    ctx.session.flush()
    recompute(ctx.session, customer)
    return fu, customer, changed


def _owe(fu: FollowUp, customer: Customer) -> None:
    """A next follow-up scheduled again is owed by the customer's owner (the author, in the pool), unless
    someone owes it already."""
    if fu.assignee_id is None:
        fu.assignee_id = assignee_for(customer, fu.staff_id)


def set_next(ctx: Ctx, fid: int | str, next_at: datetime | None) -> tuple[FollowUp, Customer, bool]:
    """Schedule (or clear) the next follow-up of a follow-up. Returns whether anything changed."""
    fu, customer = get_followup(ctx, fid)
    if next_at is not None and next_at <= ctx.now:
        raise InvalidInput("when.past", value=ctx.fmt_dt(next_at), example=example(ctx.lang))
    if fu.next_followup_at == next_at and fu.done_at is None:
        return fu, customer, False
    fu.next_followup_at, fu.done_at, fu.reminded_at = next_at, None, None
    _owe(fu, customer)
    ctx.session.flush()
    recompute(ctx.session, customer)
    return fu, customer, True


def mark_done(ctx: Ctx, fid: int | str) -> tuple[FollowUp, Customer, bool]:
    """Close a scheduled follow-up. Idempotent: a second call changes nothing and returns False."""
    fu, customer = get_followup(ctx, fid)
    if fu.done_at is not None or fu.next_followup_at is None:
        return fu, customer, False
    fu.done_at = ctx.now
    ctx.session.flush()
    recompute(ctx.session, customer)
    return fu, customer, True


def snooze(ctx: Ctx, fid: int | str, span: str) -> tuple[FollowUp, Customer, bool]:
    """Remind again `span` (1d, 3d, 1w) from today, at the follow-up's local time of day.

    Idempotent: the target depends on today, not on the current due time, so pressing twice changes
    nothing more; a follow-up already due later than the target is left alone (returns False).
    """
    delta = SNOOZE.get(span.lower())
    if delta is None:
        raise InvalidInput("fu.bad_snooze", value=span)
    fu, customer = get_followup(ctx, fid)
    if fu.done_at is not None or fu.next_followup_at is None:
        raise InvalidInput("fu.snooze_closed", id=fu.id)
    due_local = ctx.local(fu.next_followup_at)
    now_local = ctx.local(ctx.now)
    target = datetime.combine(now_local.date() + delta, due_local.timetz())
    if target <= fu.next_followup_at:
        return fu, customer, False
    fu.next_followup_at, fu.reminded_at = target, None
    ctx.session.flush()
    recompute(ctx.session, customer)
    return fu, customer, True


def _due_before(ctx: Ctx, days: int) -> datetime:
    """The end of the local day `days` days from today."""
    local = ctx.local(ctx.now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=days + 1)


def due_followups(ctx: Ctx, owner_ids: set[int] | None, *, days: int = 7, offset: int = 0,
                  limit: int | None = None) -> list[tuple[FollowUp, Customer]]:
    """Open follow-ups due by the end of the day `days` days from today (overdue ones included), owed by
    `owner_ids` (their `assignee_id`; None: all), earliest first; `offset`/`limit` page in SQL."""
    return followup_repo.list_due(ctx.session, owner_ids=owner_ids, before=_due_before(ctx, days),
                                  offset=offset, limit=limit)


def count_due(ctx: Ctx, owner_ids: set[int] | None, *, days: int = 7) -> tuple[int, int]:
    """(all due, overdue) — what `due_followups` would list, counted in SQL."""
    return followup_repo.count_due(ctx.session, owner_ids=owner_ids, before=_due_before(ctx, days), now=ctx.now)


def history(ctx: Ctx, customer: Customer, *, method: str | None = None, start: datetime | None = None,
            end: datetime | None = None) -> list[FollowUp]:
    """Past follow-ups of a customer the actor may see, newest first."""
    if not can_see_customer(ctx, customer):
        raise NotFound("lookup.not_found", query=customer.code)
    return followup_repo.history(ctx.session, customer_id=customer.id, method=method, start=start, end=end)


def cadence_proposal(ctx: Ctx, customer: Customer) -> datetime:
    """The next follow-up the grade's cadence suggests: N days from today at the reminder time (local)."""
    days = ctx.settings.cadence_days(customer.grade)
    local = ctx.local(ctx.now)
    h, _, m = reminder_time(ctx).partition(":")
    day = local.date() + timedelta(days=days)
    return datetime.combine(day, local.timetz().replace(hour=int(h), minute=int(m), second=0, microsecond=0))
