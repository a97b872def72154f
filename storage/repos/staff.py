"""Staff lookups: by platform id (who is writing), by name (what a user typed), names for display."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_, select
from sqlmodel import Session

from storage.models import Customer, Setting, Staff


def get(session: Session, staff_id: int | None) -> Staff | None:
    return session.get(Staff, staff_id) if staff_id else None


def get_by_platform(session: Session, *, platform: str, user_ref: str) -> Staff | None:
    """The active staff member behind a platform user (Slack id, Telegram id, console name), or None."""
    if platform == "slack":
        q = select(Staff).where(Staff.slack_id == user_ref)
    elif platform == "telegram":
        try:
            q = select(Staff).where(Staff.telegram_id == int(user_ref))
        except ValueError:
            return None
    elif platform == "console":
        q = select(Staff).where(Staff.name == user_ref)
    else:
        return None
    staff = session.scalar(q)
    return staff if staff is not None and staff.active else None


def get_by_name(session: Session, *, name: str, active: bool = True) -> Staff | None:
    """A staff member by name (case-insensitive; a unique prefix works), or None."""
    n = (name or "").strip().lstrip("@")
    q = select(Staff).where(func.lower(Staff.name) == n.lower())
    if active:
        q = q.where(Staff.active.is_(True))
    hit = session.scalar(q)
    if hit is None and n:
        q = select(Staff).where(func.lower(Staff.name).startswith(n.lower()))
        if active:
            q = q.where(Staff.active.is_(True))
        rows = list(session.scalars(q.limit(2)))
        hit = rows[0] if len(rows) == 1 else None
    return hit


def name_of(session: Session, staff_id: int | None) -> str | None:
    st = get(session, staff_id)
    return st.name if st else None


def names(session: Session, ids: Iterable[int | None] | None = None) -> dict[int, str]:
    """{id: name} of the given staff ids (None: everyone)."""
    q = select(Staff.id, Staff.name)
    if ids is not None:
        q = q.where(Staff.id.in_({i for i in ids if i is not None}))
    return dict(session.execute(q).all())


def list_sales(session: Session, *, ids: set[int] | None = None) -> list[Staff]:
    """Reps and managers (only `ids` among them when given), by name."""
    q = select(Staff).where(Staff.role.in_(("rep", "manager")))
    if ids is not None:
        q = q.where(Staff.id.in_(ids))
    return list(session.scalars(q.order_by(Staff.name)))


def list_all(session: Session, *, active_only: bool) -> list[Staff]:
    q = select(Staff).order_by(Staff.active.desc(), Staff.role, Staff.name)
    if active_only:
        q = q.where(Staff.active.is_(True))
    return list(session.scalars(q))


def team_ids(session: Session, manager: Staff) -> set[int]:
    """Ids of the staff a manager is responsible for (reports and same team), themselves included."""
    conds = [Staff.manager_id == manager.id, Staff.id == manager.id]
    if manager.team:
        conds.append(Staff.team == manager.team)
    return set(session.scalars(select(Staff.id).where(or_(*conds))))


def team_member_ids(session: Session, *, team: str) -> set[int]:
    """Ids of the staff whose team is `team` (case-insensitive)."""
    return set(session.scalars(select(Staff.id).where(func.lower(Staff.team) == team.strip().lower())))


def first_active(session: Session, *, role: str, team: str | None = None) -> Staff | None:
    """The longest-standing active staff member of `role` (in `team` when given)."""
    q = select(Staff).where(Staff.role == role, Staff.active.is_(True))
    if team is not None:
        q = q.where(Staff.team == team)
    return session.scalar(q.order_by(Staff.id))


def owned_customers(session: Session, staff_id: int) -> int:
    """How many customers `staff_id` owns."""
    return session.scalar(select(func.count()).select_from(Customer).where(Customer.owner_id == staff_id,
                                                                       Customer.merged_into_id.is_(None)))


STAFF_INVITE = "staff_invite:"  # + the token's SHA-256: a staff invite, kept in the setting table


def staff_invite(session: Session, digest: str) -> Setting | None:
    return session.get(Setting, STAFF_INVITE + digest)


def by_telegram_id(session: Session, telegram_id: int) -> Staff | None:
    """Whoever holds this Telegram id, active or not."""
    return session.scalar(select(Staff).where(Staff.telegram_id == telegram_id))


def by_slack_id(session: Session, slack_id: str) -> Staff | None:
    """Whoever holds this Slack id, active or not."""
    return session.scalar(select(Staff).where(Staff.slack_id == slack_id))


def awaiting_slack(session: Session) -> list[Staff]:
    """Active staff with an email and no Slack id yet (matched to a Slack user by that email), by name."""
    return list(session.scalars(select(Staff).where(Staff.active.is_(True), Staff.email.is_not(None),
                                                    Staff.email != "", Staff.slack_id.is_(None))
                                .order_by(Staff.name)))


def awaiting_slack_by_email(session: Session, email: str) -> Staff | None:
    """The active staff member with this email (any case) and no Slack id yet."""
    return session.scalar(select(Staff).where(Staff.active.is_(True), Staff.slack_id.is_(None),
                                              func.lower(Staff.email) == email.strip().lower()).order_by(Staff.id))
