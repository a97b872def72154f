"""The one HTTP server of a running bot: Slack's events and interactivity, the Telegram webhook, `GET /healthz`
and `GET /metrics`, on one port (aiohttp, one asyncio loop).

Hostile traffic is bounded before any adapter sees it:
- a connection that sends no complete request head within `Limits.idle` seconds is closed (aiohttp's
  keep-alive timer runs from the first byte on), and a body must arrive whole within `Limits.body_timeout`
  seconds (408, connection closed): 300 clients sending half a body hold nothing for long;
- a body larger than `Limits.max_body` is refused (413) from its Content-Length, before it is read;
- at most `Limits.max_connections` connections are served at once; one more is answered 503 and closed;
- a request head aiohttp cannot parse (`Content-Length: -1`, `abc`) is a 400 and one log line, no traceback.

Routes get the raw body (`read_body`) and check their own signature on it before parsing anything. Every
request runs under a request id (`handlers.observe.request_id`, echoed as `X-Request-Id`); a request that
fails is one log line with it. Blocking work (Bolt's dispatch, database checks) runs in a bounded thread pool.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from handlers import observe

if TYPE_CHECKING:
    from bot.health import Health
    from bot.metrics import Metrics

log = logging.getLogger("crm.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Limits:
    max_body: int = 1 << 20  # bytes; Slack's and Telegram's requests are a few kB
    body_timeout: float = 10.0  # seconds for a whole body once its head arrived
    idle: float = 15.0  # seconds a connection may sit without a complete request head
    max_connections: int = 1000
    workers: int = 16  # threads for blocking work (Bolt's dispatch, health and metrics queries)
    backlog: int = 1024
    check_timeout: float = 5.0  # seconds /healthz waits for the database
    shutdown: float = 5.0  # seconds a stopping server lets requests in flight finish


LIMITS = web.AppKey("limits", Limits)
POOL = web.AppKey("pool", ThreadPoolExecutor)


class Refused(Exception):
    """A request the server answers with `status` and one log line (`reason`, never the body)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


async def read_body(request: web.Request) -> bytes:
    """The raw body, whole, within the server's limits; raises `Refused` (413, 408, 400)."""
    limits: Limits = request.app[LIMITS]
    if request.content_length is not None and request.content_length > limits.max_body:
        raise Refused(413, f"body of {request.content_length} bytes is over the limit of {limits.max_body}")
    try:
        async with asyncio.timeout(limits.body_timeout):
            return await request.read()
    except TimeoutError:
        raise Refused(408, f"body not received within {limits.body_timeout:g} s") from None
    except web.HTTPRequestEntityTooLarge:
        raise Refused(413, f"body over the limit of {limits.max_body} bytes") from None
    except (ConnectionError, ValueError) as e:  # aiohttp's payload errors (a chunked body cut short)
        raise Refused(400, f"unreadable body ({type(e).__name__})") from None


def json_response(status: int, body: dict) -> web.Response:
    return web.Response(status=status, text=json.dumps(body, ensure_ascii=False), content_type="application/json")


class _OneLineLogger(logging.LoggerAdapter):
    """aiohttp's protocol logs a request it cannot parse (answered 400 by aiohttp) with a traceback; here it is
    one warning line."""

    def exception(self, msg: object, *args: object, exc_info: object = True, **kw: object) -> None:
        exc = exc_info if isinstance(exc_info, BaseException) else None
        what = f"{type(exc).__name__}: {getattr(exc, 'message', '') or ''}".strip(": ") if exc else "error"
        self.logger.warning("http: bad request refused before any route: %s", what[:120])

    def debug(self, msg: object, *args: object, **kw: object) -> None:
        kw.pop("exc_info", None)
        self.logger.debug(msg, *args, **kw)


class _Refuse(asyncio.Protocol):
    """One connection too many: 503 and close, without reading anything."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")  # type: ignore[attr-defined]
        transport.close()


class _Site(web.TCPSite):
    """A TCP site that serves at most `limit` connections at once."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, *, limit: int, backlog: int) -> None:
        super().__init__(runner, host, port, backlog=backlog, reuse_address=True)
        self.limit = limit
        self.refused = 0

    def _factory(self) -> asyncio.Protocol:
        server = self._runner.server
        assert server is not None
        if len(server.connections) >= self.limit:
            self.refused += 1
            if self.refused == 1 or self.refused % 100 == 0:
                log.warning("http: connection limit of %d reached: refused %d connection(s) so far",
                            self.limit, self.refused)
            return _Refuse()
        return server()

    async def start(self) -> None:
        self._runner._reg_site(self)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._factory, self._host, self._port, backlog=self._backlog,
                                                reuse_address=True)
        self._bound_port = self._server.sockets[0].getsockname()[1] if self._server.sockets else self._port


class WebServer:
    """`add_post(path, handler)` the adapters' routes, then `start()` (a thread of its own, for the CLI's
    threaded runs and tests), `serve_forever()` (the main thread) or `await start_async()` (a running loop)."""

    def __init__(self, *, host: str = "0.0.0.0", port: int = 0, health: Health | None = None,
                 metrics: Metrics | None = None, limits: Limits | None = None) -> None:
        self.host, self.port = host, port
        self.limits = limits or Limits()
        self.health, self.metrics = health, metrics
        self.pool = ThreadPoolExecutor(self.limits.workers, thread_name_prefix="crm-http")
        self.app = web.Application(client_max_size=self.limits.max_body, middlewares=[self._guard])
        self.app[LIMITS] = self.limits
        self.app[POOL] = self.pool
        self.app.router.add_get("/healthz", self._healthz)
        self.app.router.add_get("/metrics", self._metrics)
        self.paths: list[str] = []
        self._runner: web.AppRunner | None = None
        self._site: _Site | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Event | None = None

    def add_post(self, path: str, handler: Handler) -> None:
        self.app.router.add_post(path, handler)
        self.paths.append(path)

    @property
    def url(self) -> str:
        port = self._site.port if self._site else self.port
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{port}"

    # ------------------------------------------------------------ life cycle
    async def start_async(self) -> None:
        self._loop = asyncio.get_running_loop()
        # lingering_time=0: a refused request's unread body is not waited for (a slow client answered 408
        # would otherwise hold its connection another 10 s)
        self._runner = web.AppRunner(self.app, access_log=None, keepalive_timeout=self.limits.idle,
                                     shutdown_timeout=self.limits.shutdown, lingering_time=0,
                                     logger=_OneLineLogger(logging.getLogger("crm.http"), {}))
        await self._runner.setup()
        self._site = _Site(self._runner, self.host, self.port, limit=self.limits.max_connections,
                           backlog=self.limits.backlog)
        try:
            await self._site.start()
        except OSError:
            await self._runner.cleanup()
            raise

    async def stop_async(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.pool.shutdown(wait=False, cancel_futures=True)

    def start(self) -> None:
        """Serve from a thread of its own; returns once listening (raises OSError when the port is taken)."""
        started: list[BaseException | None] = []
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._stopped = asyncio.Event()
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as e:  # noqa: BLE001 - handed to the starting thread
                started.append(e)
                ready.set()
                loop.close()
                return
            started.append(None)
            ready.set()
            try:
                loop.run_until_complete(self._stopped.wait())
                loop.run_until_complete(self.stop_async())
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="crm-http-loop", daemon=True)
        self._thread.start()
        ready.wait()
        if started[0] is not None:
            raise started[0]

    def stop(self) -> None:
        if self._thread is None or self._loop is None or self._stopped is None:
            return
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout=10)
        self._thread = None

    def serve_forever(self, on_started: Callable[[], None] = lambda: None) -> None:
        """Serve on the calling thread until SIGINT/SIGTERM; `on_started` runs once listening."""

        async def main() -> None:
            self._stopped = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self._stopped.set)
            await self.start_async()
            on_started()
            try:
                await self._stopped.wait()
            finally:
                await self.stop_async()

        asyncio.run(main())

    # ------------------------------------------------------------ every request
    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        rid = observe.new_request_id()
        token = observe.request_id.set(rid)
        started = time.perf_counter()
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else "other"
        try:
            try:
                resp = await handler(request)
            except Refused as e:
                log.warning("http %s %s: %d %s", request.method, route, e.status, e.reason,
                            extra={"request_id": rid, "status": e.status})
                resp = json_response(e.status, {"error": e.reason})
                if e.status in (408, 413):
                    resp.force_close()
            except web.HTTPException as e:
                if e.status >= 400:
                    log.warning("http %s %s: %d", request.method, request.path[:80], e.status,
                                extra={"request_id": rid, "status": e.status})
                resp = json_response(e.status, {"error": e.reason})
            except Exception:  # noqa: BLE001 - our own failure: logged with its traceback, no detail to the client
                log.exception("http %s %s: unhandled error", request.method, route, extra={"request_id": rid})
                resp = json_response(500, {"error": "internal error", "request_id": rid})
        finally:
            observe.request_id.reset(token)
        if self.metrics is not None:
            self.metrics.http_done(route, resp.status, time.perf_counter() - started)
        resp.headers["X-Request-Id"] = rid
        return resp

    # ------------------------------------------------------------ health and metrics
    async def _healthz(self, request: web.Request) -> web.Response:
        if self.health is None:
            return json_response(200, {"ok": True})
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.limits.check_timeout):
                ok, report = await loop.run_in_executor(self.pool, self.health.check)
        except TimeoutError:
            ok, report = False, {"ok": False, "reasons": [
                f"database: no answer within {self.limits.check_timeout:g} s"]}
        if not ok:
            log.warning("health: %s", "; ".join(report.get("reasons", [])))
        return json_response(200 if ok else 503, report)

    async def _metrics(self, request: web.Request) -> web.Response:
        if self.metrics is None:
            raise web.HTTPNotFound()
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.limits.check_timeout * 2):
            body, ctype = await loop.run_in_executor(self.pool, self.metrics.scrape)
        resp = web.Response(body=body)
        resp.headers["Content-Type"] = ctype
        return resp
