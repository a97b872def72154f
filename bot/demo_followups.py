"""Demo follow-ups: a history per customer whose last entry sets the customer's next follow-up (overdue, due
today, upcoming or none), with `last_followup_at`/`next_followup_at` kept consistent."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot import demo_words as W
from storage.models import Customer, FollowUp, Staff

if TYPE_CHECKING:
    from bot.demo_data import Demo, Spec

DAY = timedelta(days=1)


def next_plan(dm: Demo, c: Customer, sp: Spec) -> tuple[datetime, datetime | None]:
    """(date of the last follow-up, its next_followup_at) for this customer."""
    now = dm.now
    if sp.owner is None:
        return now - (dm.st.pool_return_days + dm.rng.randint(1, 20)) * DAY, None
    if sp.type == "lost":
        return now - dm.rng.randint(5, 60) * DAY, None
    when = dm.pick({"overdue": 20, "today": 15, "upcoming": 50, "none": 15})
    if when == "overdue":
        nxt = dm.at_local(now - dm.rng.randint(1, 10) * DAY, dm.rng.randint(9, 17))
        return nxt - dm.rng.randint(1, 10) * DAY, nxt
    if when == "today":
        nxt = dm.at_local(now, dm.rng.randint(9, 18), dm.rng.choice((0, 30)))
        return nxt - dm.rng.randint(1, 10) * DAY, nxt
    last = now - dm.rng.randint(2, 240) * timedelta(hours=1)
    if when == "none":
        return last, None
    return last, dm.at_local(now + dm.rng.randint(1, 20) * DAY, dm.rng.randint(9, 17))


def add_followups(dm: Demo, c: Customer, sp: Spec, won_at: datetime | None) -> None:
    if sp.new_lead:
        return
    staff = sp.owner or sp.prev_owner
    end, nxt = next_plan(dm, c, sp)
    start = c.created_at + timedelta(hours=2)
    if end <= start:
        end, nxt = dm.now - timedelta(hours=1), dm.at_local(dm.now + 3 * DAY, 10)
    n = {"potential": (1, 3), "intent": (3, 7), "deal": (4, 9), "lost": (2, 4)}[sp.type]
    dates = sorted([dm.between(start, end) for _ in range(dm.rng.randint(*n) - 1)] + [end])
    if won_at and start < won_at < end:
        dates = sorted([*dates, won_at])
    for i, when in enumerate(dates):
        last = i == len(dates) - 1
        due = nxt if last else dm.at_local(dates[i + 1], 9)
        if not last and due > dates[i + 1]:
            due = dates[i + 1]
        fu = followup(dm, c, staff, when, due, last=last, won=when == won_at, sp=sp)  # type: ignore[arg-type]
        fu.done_at = None if last else dates[i + 1]
        fu.assignee_id = c.owner_id if last else staff.id  # the open one: the owner (nobody in the pool)
        dm.later.append(fu)
    c.last_followup_at, c.next_followup_at = dates[-1], nxt
    if sp.owner is None:
        c.pooled_at = dates[-1] + dm.st.pool_return_days * DAY


def followup(dm: Demo, c: Customer, staff: Staff, at: datetime, due: datetime | None, *, last: bool,
             won: bool, sp: Spec) -> FollowUp:
    method = dm.pick({"phone": 40, "wechat": 25, "visit": 15, "email": 10, "meeting": 10})
    feedback = "positive" if won else dm.pick(
        {"lost": {"positive": 1, "neutral": 3, "negative": 6}}.get(sp.type, {"positive": 5, "neutral": 4, "negative": 1}))
    result = "deal" if won else "continue"
    if last and sp.type == "lost":
        result = dm.rng.choice(("invalid", "paused"))
    elif last and due is None:
        result = "paused"
    elif feedback == "positive" and dm.rng.random() < 0.3:
        result = "key"
    zh = staff.lang == "zh"
    text = dm.rng.choice((W.FU_ZH if zh else W.FU_EN)[method])
    content = text.format(mood=(W.MOOD_ZH if zh else W.MOOD_EN)[feedback],
                          title=dm.rng.choice(W.TITLES) if zh else "manager")
    reminded = dm.at_local(due, 9) if due and not last and dm.at_local(due, 9) <= dm.now else None
    if last and due and due < dm.at_local(dm.now, 0):
        reminded = dm.at_local(due, 9)
    return FollowUp(customer_id=c.id, date=at, method=method, content=content, feedback=feedback,
                    next_followup_at=due, staff_id=staff.id, result=result, reminded_at=reminded,
                    created_at=at)
