"""Reusable Slack test fixtures: `slack` = fake Web API + the real Bolt app in HTTP mode + a signed-request driver.

Use in a test module with `from tests.fakes.slack_fixtures import slack  # noqa: F401`. The fixture starts the
fake first (App() calls auth.test), builds `SlackBot` against it on a temporary SQLite file, serves it on
port 0 and gives an outbox `Sender` with the Slack transport (`env.drain()` delivers pending rows).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.health import Health
from bot.metrics import Metrics
from bot.outbox import Sender
from bot.slack.app import SlackBot
from bot.slack.server import add_slack
from bot.web.server import Limits, WebServer
from handlers.router import Core
from storage.db import create_all, make_engine, session_scope
from storage.models import Staff
from tests import factories
from tests.fakes.slack_api import TOKEN, FakeSlack
from tests.fakes.slack_platform import SlackPlatform

SECRET = "test-signing-secret"
SERVICE_CHANNEL = "CSERVICE"


@dataclass
class SlackEnv:
    fake: FakeSlack
    bot: SlackBot
    server: WebServer
    slack: SlackPlatform
    core: Core
    engine: Engine
    sender: Sender

    def staff(self, name: str, *, slack_id: str | None, role: str = "rep", lang: str = "en", **kw: object) -> Staff:
        with session_scope(self.engine) as s:
            return factories.staff(s, name=name, role=role, slack_id=slack_id, lang=lang, **kw)  # type: ignore[arg-type]

    def drain(self) -> int:
        return self.sender.drain()


_TEMPLATE: dict[str, Path] = {}


def _fresh_db(tmp_path: Path) -> Engine:
    """A file database with the schema (copied from a template: DDL with fsyncs is slow)."""
    if "db" not in _TEMPLATE:
        tpl = Path(tempfile.mkdtemp(prefix="crm-slack-tpl-")) / "schema.db"
        e = make_engine(f"sqlite:///{tpl}")
        create_all(e)
        e.dispose()  # closing the last connection checkpoints the WAL into the file
        _TEMPLATE["db"] = tpl
    db = tmp_path / "slack.db"
    shutil.copyfile(_TEMPLATE["db"], db)
    return make_engine(f"sqlite:///{db}")


def make_env(tmp_path: Path, settings, clock, *, channels: dict[str, str] | None = None,  # noqa: ANN001
             engine: Engine | None = None, limits: Limits | None = None, monitored: bool = False) -> SlackEnv:
    """Everything for a Slack test; `channels` defaults to the Slack service channel `CSERVICE`; `engine`
    defaults to a fresh SQLite file; `limits` are the HTTP server's (tests of hostile traffic shorten them); `monitored`: the server also has the bot's /healthz and /metrics."""
    engine = engine or _fresh_db(tmp_path)
    core = Core(engine, settings, secret=b"test-secret", clock=clock,
                channels=channels or {"slack": SERVICE_CHANNEL})
    fake = FakeSlack(TOKEN).start()
    bot = SlackBot(core, token=TOKEN, signing_secret=SECRET, api_url=fake.api_url)
    kw = {}
    if monitored:
        kw = {"health": Health(engine, settings, clock=clock), "metrics": Metrics(engine, clock=clock).attach(core)}
    server = add_slack(WebServer(host="127.0.0.1", port=0, limits=limits, **kw), bot)
    server.start()
    sender = Sender(engine, {"slack": bot.transport}, clock=clock)
    return SlackEnv(fake=fake, bot=bot, server=server, core=core, engine=engine, sender=sender,
                    slack=SlackPlatform(server.url + "/slack/events", SECRET, fake))


@pytest.fixture
def slack(tmp_path, settings, clock):  # noqa: ANN001, ANN201
    env = make_env(tmp_path, settings, clock)
    yield env
    env.sender.stop()
    env.server.stop()
    env.fake.stop()
    env.engine.dispose()
