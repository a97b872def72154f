"""App assembly: configuration → engine → schema → core → transports → outbox sender."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import configure_mappers

from bot import logs
from bot.config import Config, ConfigError, Loaded, load
from bot.errors import StartupError
from handlers import dates
from handlers.router import Core
from handlers.settings import DomainSettings
from storage.db import is_sqlite, make_engine
from storage.files import private_file
from storage.migrate import MigrationError, upgrade


@dataclass
class App:
    config: Config
    settings: DomainSettings
    engine: Engine
    core: Core
    transports: dict = field(default_factory=dict)
    background: object | None = None  # bot.services.Background, once the sender and the election run


def safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "(unreadable URL)"


def connect(url: str) -> Engine:
    try:
        engine = make_engine(url)
        with engine.connect() as c:
            c.execute(text("SELECT 1"))
        return engine
    except (OperationalError, DBAPIError) as e:
        reason = str(getattr(e, "orig", e)).strip().splitlines()[0][:200] if str(e) else type(e).__name__
        raise StartupError(f"database error: cannot open {safe_url(url)}: {reason}") from None
    except Exception as e:  # noqa: BLE001 - e.g. a missing directory, a bad driver name
        raise StartupError(f"database error: cannot open {safe_url(url)}: {type(e).__name__}: {e}"[:300]) from None


# phrases the rules of handlers.dates leave to dateparser (a test checks that warming loads it)
WARM_PHRASES = ("2 weeks", "2周")


def warm_up(settings: DomainSettings) -> None:
    """Pay first-use costs now, at a bot's or the console's start, instead of on the first user's `/log`:
    dateparser's import and zh/en data (130–250 ms) and SQLAlchemy's mapper configuration (~40 ms).
    Not for one-shot commands, which never parse dates."""
    configure_mappers()
    now = datetime.now(UTC)
    for phrase in WARM_PHRASES:
        dates.parse_when(phrase, now=now, tz=settings.default_tz)


def build(loaded: Loaded | None = None, *, migrate: bool = True, database_url: str | None = None,
          log_file: str | None = None, warm: bool = False) -> App:
    """The assembled app; `warm=True` (the bots, the console) also warms dateparser (`warm_up`)."""
    try:
        loaded = loaded or (load(database_url=database_url) if database_url else load())
    except ConfigError as e:
        raise StartupError(str(e)) from None
    cfg = loaded.config
    if loaded.domain.backup_dir and not is_sqlite(cfg.database_url):
        raise StartupError("CRM_BACKUP_DIR: the nightly backup copies the SQLite database; on PostgreSQL leave it "
                           "empty and schedule pg_dump (see `crm-bot backup`)")
    if log_file:  # the console is a chat: logs (and any traceback) go to a file, never to the screen
        private_file(log_file)  # 0600: error logs name customers
    logs.configure(cfg.log_level, cfg.log_format, filename=log_file)
    engine = connect(cfg.database_url)
    if migrate:
        try:
            upgrade(engine)
        except (OperationalError, DBAPIError) as e:
            raise StartupError(f"database error: cannot upgrade the schema: {str(getattr(e, 'orig', e))[:200]}") from None
        except MigrationError as e:
            raise StartupError(f"database error: {e}") from None
    core = Core(engine, loaded.domain, channels=cfg.channels(), secret=cfg.secret(),
                bot_names={"telegram": cfg.telegram_bot_username} if cfg.telegram_bot_username else {})
    core.observers.append(logs.log_unit)
    if warm:
        warm_up(loaded.domain)
    return App(config=cfg, settings=loaded.domain, engine=engine, core=core)
