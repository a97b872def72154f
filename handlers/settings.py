"""Domain numbers that domain.md calls settings, with its defaults, in one place.

Read from the environment (prefix `CRM_`) and `.env`. A bad value raises `pydantic.ValidationError`, which
the CLI turns into one line naming the variable.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_DUR = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")


def parse_duration(s: str) -> timedelta:
    m = _DUR.match(s)
    if not m:
        raise ValueError(f"{s!r} is not a duration like 10m, 4h or 3d")
    n, unit = int(m.group(1)), m.group(2)
    return {"m": timedelta(minutes=n), "h": timedelta(hours=n), "d": timedelta(days=n)}[unit]


def _sla(v: object) -> tuple[timedelta, timedelta, timedelta]:
    if isinstance(v, tuple | list) and len(v) == 3 and all(isinstance(x, timedelta) for x in v):
        return tuple(v)  # type: ignore[return-value]
    parts = [p for p in str(v).split(",") if p.strip()]
    if len(parts) != 3:
        raise ValueError("give three durations: assign,contact,resolve — e.g. 10m,30m,24h")
    return tuple(parse_duration(p) for p in parts)  # type: ignore[return-value]


FORECAST_STAGES = ("initial", "needs", "proposal", "negotiation")


def _weights(v: object) -> dict[str, int]:
    """`initial:10,needs:25,proposal:50,negotiation:75`: the percent of an open opportunity's amount the
    forecast counts, per stage; every open stage must be given, each 0-100."""
    if isinstance(v, dict):
        items = {str(k): v[k] for k in v}
    else:
        items = {}
        for part in (p.strip() for p in str(v).split(",") if p.strip()):
            stage, sep, pct = part.partition(":")
            if not sep:
                raise ValueError(f"{part!r}: give stage:percent, e.g. proposal:50")
            items[stage.strip()] = pct.strip()
    if set(items) != set(FORECAST_STAGES):
        raise ValueError("give a percent for each of " + ", ".join(FORECAST_STAGES) + " (e.g. initial:10,needs:25,"
                         "proposal:50,negotiation:75)")
    out = {}
    for st in FORECAST_STAGES:
        try:
            n = int(str(items[st]).rstrip("%"))
        except ValueError:
            raise ValueError(f"{st}: {items[st]!r} is not a whole percent") from None
        if not 0 <= n <= 100:
            raise ValueError(f"{st}: {n} is not between 0 and 100")
        out[st] = n
    return out


SlaTuple = Annotated[tuple[timedelta, timedelta, timedelta], NoDecode]


class DomainSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", env_file=".env", extra="ignore")

    default_tz: str = "Asia/Shanghai"
    default_lang: str = "en"
    service_lang: str = ""  # the supervisor channel's posts; empty: the supervisors' (cards.tickets.channel_langs)
    company_abbr: str = "ABC"
    industries: Annotated[list[str], NoDecode] = Field(
        default=["manufacturing", "retail", "IT", "finance", "education", "healthcare", "logistics",
                 "real_estate", "other"])
    grade_a_min: int = 1_000_000  # yearly purchases (yuan) for grade A
    grade_b_min: int = 200_000
    cadence_a_days: int = 7
    cadence_b_days: int = 14
    cadence_c_days: int = 30
    pool_return_days: int = 30
    forecast_weights: Annotated[dict[str, int], NoDecode] = Field(
        default={"initial": 10, "needs": 25, "proposal": 50, "negotiation": 75})  # % of an open amount, by stage
    pool_warn_days: int = Field(default=3, ge=0)  # tell the owner this many days before the pool takes it back (0: never)
    pool_claim_cap: int = 200  # a rep may own at most this many customers when claiming from the pool
    reminder_time: str = "09:00"
    first_contact_remind: Annotated[timedelta, NoDecode] = timedelta(hours=20)  # a new lead's owner is reminded
    first_contact_window: Annotated[timedelta, NoDecode] = timedelta(hours=24)  # then the manager is told
    weekly_summary_time: str = "09:00"  # managers' Monday team summary, their local time
    sla_high: SlaTuple = Field(default=_sla("10m,30m,24h"))
    sla_medium: SlaTuple = Field(default=_sla("1h,4h,72h"))
    sla_low: SlaTuple = Field(default=_sla("4h,24h,7d"))
    escalate_after: Annotated[timedelta, NoDecode] = timedelta(minutes=30)
    auto_close_after: Annotated[timedelta, NoDecode] = timedelta(hours=24)
    invite_ttl: Annotated[timedelta, NoDecode] = timedelta(days=7)
    dialog_ttl: Annotated[timedelta, NoDecode] = timedelta(hours=24)
    page_size: int = Field(default=10, ge=3, le=50)
    max_text: int = Field(default=4000, ge=100, le=20000)
    backup_dir: str = ""  # the nightly backup job's folder (SQLite); empty: no nightly backup
    backup_keep: int = Field(default=7, ge=1, le=1000)  # how many nightly backups the folder keeps
    outbox_keep_text: Annotated[timedelta, NoDecode] = timedelta(days=7)  # a sent message's text, after delivery
    import_max_mb: int = Field(default=20, ge=1, le=500)  # largest spreadsheet `/import` takes in chat
    upload_dir: str = "./data/uploads"  # where a spreadsheet sent in chat waits for its Import button

    @field_validator("default_tz")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {v!r} (try Asia/Shanghai)") from e
        return v

    @field_validator("default_lang")
    @classmethod
    def _lang(cls, v: str) -> str:
        if v not in ("en", "zh"):
            raise ValueError("must be en or zh")
        return v

    @field_validator("service_lang")
    @classmethod
    def _service_lang(cls, v: str) -> str:
        if v not in ("", "en", "zh"):
            raise ValueError("must be en or zh (or empty for CRM_DEFAULT_LANG)")
        return v

    @property
    def channel_lang(self) -> str:
        return self.service_lang or self.default_lang

    @field_validator("company_abbr")
    @classmethod
    def _abbr(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Z]{2,6}", v):
            raise ValueError("2 to 6 capital letters, e.g. ABC")
        return v

    @field_validator("industries", mode="before")
    @classmethod
    def _industries(cls, v: object) -> list[str]:
        items = [x.strip() for x in v.split(",")] if isinstance(v, str) else list(v)  # type: ignore[arg-type]
        items = [x for x in items if x]
        if not items:
            raise ValueError("list at least one industry, comma-separated")
        return items

    @field_validator("forecast_weights", mode="before")
    @classmethod
    def _forecast_weights(cls, v: object) -> dict[str, int]:
        return _weights(v)

    @field_validator("reminder_time", "weekly_summary_time")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v):
            raise ValueError("a time like 09:00")
        return v

    @field_validator("sla_high", "sla_medium", "sla_low", mode="before")
    @classmethod
    def _sla_v(cls, v: object) -> tuple[timedelta, timedelta, timedelta]:
        return _sla(v)

    @field_validator("escalate_after", "auto_close_after", "invite_ttl", "dialog_ttl", "outbox_keep_text",
                     "first_contact_remind", "first_contact_window", mode="before")
    @classmethod
    def _dur(cls, v: object) -> timedelta:
        return v if isinstance(v, timedelta) else parse_duration(str(v))

    @field_validator("first_contact_window")
    @classmethod
    def _window(cls, v: timedelta, info: ValidationInfo) -> timedelta:
        remind = info.data.get("first_contact_remind")
        if remind is not None and remind >= v:
            raise ValueError("must be longer than CRM_FIRST_CONTACT_REMIND (the owner is reminded first)")
        return v

    def sla(self, priority: str) -> tuple[timedelta, timedelta, timedelta]:
        """(assign, first contact, resolve) for a priority."""
        return {"high": self.sla_high, "medium": self.sla_medium, "low": self.sla_low}[priority]

    def cadence_days(self, grade: str | None) -> int:
        return {"A": self.cadence_a_days, "B": self.cadence_b_days}.get(grade or "C", self.cadence_c_days)

    def grade_for(self, yearly_amount: float) -> str:
        if yearly_amount >= self.grade_a_min:
            return "A"
        return "B" if yearly_amount >= self.grade_b_min else "C"
