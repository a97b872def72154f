"""The HTTP server of a running bot, assembled: health (`bot.health`) and metrics (`bot.metrics`, attached to the
core's observers), then each adapter adds its route (`bot.slack.server.add_slack`,
`bot.telegram.webhook.add_telegram`).

A run with no HTTP server of its own (Socket Mode, Telegram long polling) gets `/healthz` and `/metrics` on
`CRM_HTTP_PORT` (`monitoring_server`); unset, it serves none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import StartupError
from bot.health import Health
from bot.metrics import Metrics
from bot.web.server import Limits, WebServer

if TYPE_CHECKING:
    from bot.app import App


def role_of(a: App) -> str:
    """`leader` or `follower` once the scheduler election runs in this process; `none` before or without it."""
    bg = a.background
    if bg is None or bg.leadership is None:
        return "none"
    return "leader" if bg.is_leader else "follower"


def build_server(a: App, *, host: str, port: int, limits: Limits | None = None) -> WebServer:
    metrics = Metrics(a.engine, clock=a.core.clock).attach(a.core)
    health = Health(a.engine, a.settings, clock=a.core.clock, role=lambda: role_of(a))
    return WebServer(host=host, port=port, health=health, metrics=metrics, limits=limits)


def start_in_thread(server: WebServer) -> WebServer:
    """Listen from a thread of its own; a port in use is one line (StartupError)."""
    try:
        server.start()
    except OSError as e:
        raise StartupError(f"cannot listen on {server.host}:{server.port}: {e.strerror or e}") from None
    return server


def monitoring_server(a: App) -> WebServer | None:
    """`/healthz` and `/metrics` on CRM_HTTP_HOST:CRM_HTTP_PORT, started, or None when CRM_HTTP_PORT is unset."""
    port = a.config.http_port()
    if port is None:
        return None
    server = start_in_thread(build_server(a, host=a.config.crm_http_host, port=port))
    print(f"crm-bot: health and metrics on {server.url}/healthz and {server.url}/metrics", flush=True)
    return server
