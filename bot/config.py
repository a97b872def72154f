"""Infrastructure settings (database, platforms) from the environment and `.env`.

Domain settings (SLA, cadence, …) live in `handlers.settings.DomainSettings`. `load()` returns both, or raises
`ConfigError` with one line naming the variable that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from handlers.settings import DomainSettings
from storage.db import DEFAULT_URL


class ConfigError(Exception):
    pass


class Config(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = DEFAULT_URL
    log_level: str = "INFO"
    log_format: str = "text"
    crm_http_host: str = "0.0.0.0"
    crm_http_port: str = ""
    crm_secret_key: str = ""

    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = ""
    slack_service_channel: str = ""

    telegram_bot_token: str = ""
    telegram_api_url: str = ""
    telegram_service_chat: str = ""
    telegram_webhook_secret: str = ""
    telegram_bot_username: str = ""

    @field_validator("database_url")
    @classmethod
    def _url(cls, v: str) -> str:
        try:
            u = make_url(v)
        except (ArgumentError, ValueError) as e:
            raise ValueError(f"not a database URL: {v!r} (try sqlite:///./data/crm.db)") from e
        if u.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError("use sqlite:///… or postgresql+psycopg://…")
        if u.get_backend_name() == "postgresql" and u.get_driver_name() != "psycopg":
            raise ValueError("use the psycopg driver: postgresql+psycopg://…")
        if u.get_backend_name() == "sqlite" and u.database in (None, "", ":memory:"):
            raise ValueError("give a file: sqlite:///./data/crm.db (an in-memory database would lose everything)")
        if u.get_backend_name() == "postgresql" and not u.database:
            raise ValueError("name the database: postgresql+psycopg://user@host:5432/crm")
        return v

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        if v.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("one of DEBUG, INFO, WARNING, ERROR")
        return v.upper()

    @field_validator("log_format")
    @classmethod
    def _format(cls, v: str) -> str:
        if v.strip().lower() not in ("text", "json"):
            raise ValueError("text or json")
        return v.strip().lower()

    @field_validator("crm_http_port")
    @classmethod
    def _port(cls, v: str) -> str:
        v = v.strip()
        if v and not (v.isdigit() and 0 <= int(v) <= 65535):
            raise ValueError("a port number (1-65535), or empty for no health/metrics server")
        return v

    def http_port(self) -> int | None:
        """CRM_HTTP_PORT as a number; None when unset."""
        return int(self.crm_http_port) if self.crm_http_port else None

    @field_validator("crm_secret_key")
    @classmethod
    def _key(cls, v: str) -> str:
        if v and len(v.strip()) < 32:
            raise ValueError("at least 32 characters (openssl rand -hex 32), or empty to keep the generated key")
        return v.strip()

    @field_validator("telegram_service_chat")
    @classmethod
    def _chat(cls, v: str) -> str:
        if v and not v.lstrip("-").isdigit() and not v.startswith("@"):
            raise ValueError("a numeric chat id such as -1001234567890")
        return v

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret(cls, v: str) -> str:
        import re

        if v and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", v):
            raise ValueError("1-256 characters of A-Z a-z 0-9 _ -")
        return v

    def channels(self) -> dict[str, str]:
        """The supervisor channel per platform that is configured (console when none is)."""
        out = {}
        if self.slack_bot_token and self.slack_service_channel:
            out["slack"] = self.slack_service_channel
        if self.telegram_bot_token and self.telegram_service_chat:
            out["telegram"] = self.telegram_service_chat
        return out or {"console": "#service"}

    def secret(self) -> bytes | None:
        """CRM_SECRET_KEY, which then signs buttons instead of the key generated and stored in the database."""
        return self.crm_secret_key.encode() if self.crm_secret_key else None


@dataclass(frozen=True)
class Loaded:
    config: Config
    domain: DomainSettings


def _one_line(e: ValidationError, prefix: str) -> str:
    err = e.errors()[0]
    var = (prefix + str(err["loc"][0])).upper() if err.get("loc") else prefix.upper().rstrip("_")
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"configuration error: {var}: {msg}"


def load(**overrides: object) -> Loaded:
    try:
        cfg = Config(**overrides)  # type: ignore[arg-type]
    except ValidationError as e:
        raise ConfigError(_one_line(e, "")) from None
    try:
        dom = DomainSettings()
    except ValidationError as e:
        raise ConfigError(_one_line(e, "CRM_")) from None
    return Loaded(cfg, dom)
