"""Assembly of the Slack app: a WebClient (SLACK_API_URL, 429 retries), a Bolt `App`, its listeners and the
outbox transport. Nothing here is a module-level singleton: `SlackBot(core, ...)` builds one.

`App()` calls auth.test when it is constructed, so the Web API (or the tests' fake) must be reachable first.
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.slack import listeners
from bot.slack.flows import Flows
from bot.slack.transport import SlackTransport, retry_after
from handlers import actions
from handlers.router import Core
from handlers.settings import DomainSettings
from handlers.views import Action
from storage.db import make_engine

log = logging.getLogger("crm.slack")


class _TokenComesWithTheClient(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN "will be unused" because we pass a client built from it (for
    SLACK_API_URL): true and harmless, so the warning is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


logging.getLogger("slack_bolt.App").addFilter(_TokenComesWithTheClient())

DEFAULT_API_URL = "https://slack.com/api/"


class ShortRateLimitRetry(RateLimitErrorRetryHandler):
    """Retries a 429 once after its Retry-After, but only a short one: a long wait would stall the thread (the
    outbox sender delivers every platform's rows). A longer Retry-After raises, and the outbox keeps the row and
    tries again after that many seconds (`transport.delivery_error` → `RetryAfter`)."""

    MAX_WAIT = 5

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:  # noqa: ANN001
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        wait = retry_after(response.headers, missing=0.0)
        return wait is not None and wait.is_integer() and wait <= self.MAX_WAIT  # slack_sdk waits int(value)


def web_client(token: str, api_url: str = "") -> WebClient:
    base = (api_url or DEFAULT_API_URL).rstrip("/") + "/"
    return WebClient(token=token, base_url=base, timeout=15,
                     retry_handlers=[ConnectionErrorRetryHandler(), ShortRateLimitRetry(max_retry_count=1)])


class Stash:
    """Blocks that did not fit a message, kept for the "more" button in the database (they outlive a restart and
    are the same for every process of the bot)."""

    KIND = "slack.more"

    def __init__(self, core: Core) -> None:
        self.core = core

    def put(self, blocks: list[dict]) -> str:
        return self.core.keep(self.KIND, json.dumps(blocks, ensure_ascii=False))

    def get(self, key: str) -> list[dict] | None:
        raw = self.core.kept(self.KIND, key)
        return None if raw is None else json.loads(raw)


class ClickGuard:
    """Drops the second of two presses of the same button by the same user within `window` seconds (a double
    click). Services are idempotent as well; this only spares the user a duplicate answer. The same press sent
    again (same action_ts: a replay or a retry) is not a double click: the core answers it "already done"."""

    def __init__(self, window: float = 2.0) -> None:
        self.window = window
        self._seen: dict[tuple, float] = {}
        self._lock = threading.Lock()

    def repeated(self, body: dict, action: dict) -> bool:
        container = body.get("container") or {}
        where = container.get("message_ts") or container.get("view_id") or ""
        key = ((body.get("user") or {}).get("id"), where, action.get("value") or str(action.get("selected_option")))
        try:
            ts = float(action.get("action_ts") or 0)
        except ValueError:
            return False
        with self._lock:
            last = self._seen.get(key)
            self._seen[key] = ts
            if len(self._seen) > 2000:
                for k in list(self._seen)[:1000]:
                    del self._seen[k]
        return last is not None and last != ts and abs(ts - last) < self.window


class ContextPool(ThreadPoolExecutor):
    """Bolt's listener pool, running each listener in a copy of the dispatching thread's context: the HTTP
    request's id (handlers.observe.request_id) reaches the core's log line and metrics."""

    def submit(self, fn, /, *args, **kwargs) -> Future:  # noqa: ANN001
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


class SlackBot:
    def __init__(self, core: Core, *, token: str, signing_secret: str = "", api_url: str = "",
                 token_verification: bool = True) -> None:
        self.core = core
        self.signing_secret = signing_secret
        self.client = web_client(token, api_url)
        self.app = App(client=self.client, signing_secret=signing_secret or "unused-in-socket-mode",
                       process_before_response=False, token_verification_enabled=token_verification,
                       raise_error_for_unhandled_request=False,
                       listener_executor=ContextPool(max_workers=5, thread_name_prefix="slack-listener"))
        self.stash = Stash(core)
        self.clicks = ClickGuard()
        self.transport = SlackTransport(self.client, signer=self.signer, lang=self.lang_of, stash=self.stash.put)
        self.flows = Flows(self)
        listeners.register(self.app, self.flows)

    def lang_of(self, chat_ref: str) -> str:
        """The language of a DM's staff member or a bound customer channel; else the default."""
        try:
            return self.core.actor("slack", chat_ref, chat_ref).lang
        except Exception as e:  # noqa: BLE001 - a label language is never worth a failed delivery
            log.warning("language of %s unknown (%s): the default is used", chat_ref, type(e).__name__)
            return self.core.settings.default_lang

    def signer(self, scope: str) -> Callable[[Action], str]:
        def sign(a: Action) -> str:
            try:
                return actions.encode(a.cmd, scope=scope, secret=self.core.secret, now=self.core.clock())
            except ValueError:  # the core binds long commands; this only guards a renderer-made action
                log.error("action too long for a token: /%s…", a.cmd.lstrip("/").partition(" ")[0][:20])
                return actions.encode("/help", scope=scope, secret=self.core.secret, now=self.core.clock())

        return sign


def transport_from_config(cfg) -> SlackTransport:  # noqa: ANN001 - bot.config.Config
    """A transport for a process that is not the running app (`crm-bot jobs run`, `outbox deliver`)."""
    core = Core(make_engine(cfg.database_url), DomainSettings(), secret=cfg.secret())
    return SlackBot(core, token=cfg.slack_bot_token, signing_secret=cfg.slack_signing_secret,
                    api_url=cfg.slack_api_url).transport
