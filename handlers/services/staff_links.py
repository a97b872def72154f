"""Linking staff records to Slack users by email, so nobody has to find and type a Slack id.

A staff record with an `email` and no `slack_id` is linked to the Slack user with that email: when that user
first writes to the bot (the adapter reads their profile email with `users.info`), or all at once with
`crm-bot slack sync-staff` (`users.lookupByEmail` per waiting record). Linking is a conditional UPDATE
(`… WHERE slack_id IS NULL`) and `staff.slack_id` is unique, so a record is linked once and a Slack user to one
record; each link is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from handlers.services import audit
from storage.models import Staff
from storage.repos import staff as staff_repo


@dataclass(frozen=True)
class SlackLink:
    """What linking `staff` to `slack_id` did: `linked`, `taken` (that Slack user is `other`'s) or `already`
    (the record got a Slack id meanwhile)."""

    staff: Staff
    slack_id: str
    outcome: str
    other: str | None = None


def awaiting(session: Session) -> list[Staff]:
    """The records to match: active, with an email, without a Slack id."""
    return staff_repo.awaiting_slack(session)


def link(session: Session, staff: Staff, slack_id: str, *, now: datetime, how: str) -> SlackLink:
    """Give `staff` the Slack id `slack_id` unless another record holds it or `staff` has one already."""
    holder = staff_repo.by_slack_id(session, slack_id)
    if holder is not None and holder.id != staff.id:
        return SlackLink(staff, slack_id, "taken", holder.name)
    notify = "slack" if staff.notify == "console" else staff.notify  # nowhere to reach them before; now there is
    try:
        with session.begin_nested():
            res = session.execute(update(Staff).where(Staff.id == staff.id, Staff.slack_id.is_(None))
                                  .values(slack_id=slack_id, notify=notify).execution_options(synchronize_session=False))
    except IntegrityError:  # the unique slack_id: another record took this Slack user at the same moment
        holder = staff_repo.by_slack_id(session, slack_id)
        return SlackLink(staff, slack_id, "taken", holder.name if holder else None)
    session.expire(staff)
    if res.rowcount != 1:
        return SlackLink(staff, slack_id, "already")
    audit.record(session, actor_id=None, action="update", entity="staff", entity_id=staff.id,
                 entity_code=staff.name, field="slack_id", old=None, new=f"{slack_id} ({how})", now=now)
    session.flush()
    return SlackLink(staff, slack_id, "linked")


def link_by_email(session: Session, *, slack_id: str, email: str, now: datetime) -> Staff | None:
    """A Slack user the bot does not know wrote; their profile email is `email`: link the waiting record with
    that email to them. The linked record, or None."""
    if not email or staff_repo.by_slack_id(session, slack_id) is not None:
        return None
    staff = staff_repo.awaiting_slack_by_email(session, email)
    if staff is None:
        return None
    return staff if link(session, staff, slack_id, now=now, how="email").outcome == "linked" else None
