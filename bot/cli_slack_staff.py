"""`crm-bot slack sync-staff`: link every staff record that has an email and no Slack id to the Slack user with
that email (`users.lookupByEmail`, scope users:read.email), and print what happened to each.

Slack allows users.lookupByEmail about 50 times a minute (Tier 3); past that it answers 429 with Retry-After,
and the client waits that long and tries again (up to `MAX_RETRIES` times a record), so a team of 200 is linked
in one run, a few minutes at worst.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from sqlalchemy.engine import Engine

from bot.slack.app import DEFAULT_API_URL
from handlers.services import staff_links
from storage.db import session_scope
from storage.models import Staff

MAX_RETRIES = 10
NOT_FOUND = ("users_not_found", "user_not_found")


def client(token: str, api_url: str) -> WebClient:
    """A client that waits out every 429 (a terminal command may wait; the bot's own client may not)."""
    return WebClient(token=token, base_url=(api_url or DEFAULT_API_URL).rstrip("/") + "/", timeout=15,
                     retry_handlers=[ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=MAX_RETRIES)])


def lookup(web: WebClient, email: str) -> str | None:
    """The id of the active, human Slack user with `email`, or None."""
    try:
        user = web.users_lookupByEmail(email=email).get("user") or {}
    except SlackApiError as e:
        if e.response.get("error") in NOT_FOUND:
            return None
        raise
    if user.get("deleted") or user.get("is_bot"):
        return None
    return user.get("id")


def sync(engine: Engine, web: WebClient, *, out: Callable[[str], None] = print,
         now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> dict[str, int]:
    """Link each waiting record (its own unit of work: a failure later keeps the links made). Counts by outcome."""
    with session_scope(engine) as s:
        waiting = [(st.id, st.name, st.email) for st in staff_links.awaiting(s)]
    counts = {"linked": 0, "not_found": 0, "taken": 0, "already": 0}
    if not waiting:
        out("Nobody to link: every active staff member with an email has a Slack id.")
        return counts
    for staff_id, name, email in waiting:
        slack_id = lookup(web, email)
        if slack_id is None:
            counts["not_found"] += 1
            out(f"not found  {name} <{email}>: no Slack user has this email")
            continue
        with session_scope(engine) as s:
            st = s.get(Staff, staff_id)
            r = staff_links.link(s, st, slack_id, now=now(), how="sync-staff")
        counts[r.outcome] += 1
        if r.outcome == "linked":
            out(f"linked     {name} <{email}> → {slack_id}")
        elif r.outcome == "taken":
            out(f"taken      {name} <{email}>: {slack_id} is already linked to {r.other}")
        else:
            out(f"skipped    {name}: got a Slack id meanwhile")
    out(f"{counts['linked']} linked, {counts['not_found']} not found, {counts['taken']} already taken.")
    return counts
