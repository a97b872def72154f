"""Logging of a running bot: `LOG_FORMAT=text` (a line per record) or `json` (one JSON object per line:
time, level, logger, event, and where known request_id, platform, staff_id, verb, duration_ms, outcome, status).

Every handler carries `Redact`: phone numbers, e-mail addresses and platform tokens are replaced in each line,
whatever a library or an exception message put there. The core's units of work are logged as one `command`
line each (`log_unit`, a core observer): the verb and the outcome, never the message text.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from handlers import observe

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FIELDS = ("request_id", "platform", "staff_id", "verb", "duration_ms", "outcome", "status")

_SECRETS = re.compile("|".join((
    r"xox[abeprs]-[A-Za-z0-9-]+",  # Slack bot/user/refresh tokens
    r"xapp-[A-Za-z0-9-]+",  # Slack app-level tokens
    r"(?<![\d:])\d{5,}:[A-Za-z0-9_-]{10,}",  # Telegram bot tokens (also inside /bot<token>/ URLs)
    r"v0=[0-9a-f]{16,}",  # Slack request signatures
)))
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile("|".join((
    r"(?<![\w.])1[3-9]\d{9}(?!\d)",  # mainland mobile
    r"(?<![\w.])1[3-9]\d[ -]\d{4}[ -]\d{4}(?!\d)",  # 138 1234 5678
    r"\+\d{1,3}[\d ()-]{6,}\d",  # international
    r"(?<![\w.])0\d{2,3}-\d{7,8}(?!\d)",  # landline with an area code
)))


def redact(text: str) -> str:
    text = _SECRETS.sub("[secret]", text)
    text = _EMAIL.sub("[email]", text)
    return _PHONE.sub("[phone]", text)


class Redact(logging.Filter):
    """Scrubs the formatted message (and the exception text) of each record before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = redact(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                     "level": record.levelname, "logger": record.name,
                     "event": getattr(record, "event", None) or record.getMessage()}
        rid = getattr(record, "request_id", None) or observe.request_id.get()
        if rid:
            out["request_id"] = rid
        for name in FIELDS[1:]:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if getattr(record, "event", None):
            out["message"] = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            out["error"] = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else "error"
            out["traceback"] = record.exc_text
        return json.dumps(out, ensure_ascii=False, default=str)


def make_handler(fmt: str = "text", *, filename: str | None = None) -> logging.Handler:
    h: logging.Handler = logging.FileHandler(filename, encoding="utf-8") if filename \
        else logging.StreamHandler(sys.stderr)
    h.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    h.addFilter(Redact())
    return h


def configure(level: str = "INFO", fmt: str = "text", *, filename: str | None = None) -> None:
    """The root logger of a bot or console process; like `logging.basicConfig`, nothing when the root logger
    already has a handler (a second call, or a test runner's capture)."""
    root = logging.getLogger()
    if root.handlers:
        return
    root.addHandler(make_handler(fmt, filename=filename))
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the bot token in URLs
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


unit_log = logging.getLogger("crm.unit")


def log_unit(ev: observe.UnitDone) -> None:
    """A core observer: one line per unit of work (no text: the verb and the outcome)."""
    ms = round(ev.duration * 1000, 1)
    level = logging.WARNING if ev.outcome in ("error", "busy") else logging.INFO
    unit_log.log(level, "%s %s %s in %.0f ms", ev.platform, ev.verb, ev.outcome, ms,
                 extra={"event": "command", "request_id": ev.request_id, "platform": ev.platform,
                        "staff_id": ev.staff_id, "verb": ev.verb, "duration_ms": ms, "outcome": ev.outcome})
