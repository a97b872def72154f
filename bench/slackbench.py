"""Slack figures through the real Bolt app in HTTP mode, driven like Slack drives it (signed slash commands)
against the tests' fake Web API: `/log` from 8 concurrent clients (throughput and reply-delivered latency)
against a bare slack-bolt app (ack + one chat.postMessage), and a complaint's supervisor-channel post while 8
clients log calls."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from slack_bolt import App
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bench.report import Row, median, pct
from bot.outbox import Sender
from bot.slack.app import SlackBot, web_client
from bot.slack.server import EVENTS_PATH, add_slack, slack_route
from bot.web.server import WebServer
from handlers.router import Core
from handlers.settings import DomainSettings
from tests.fakes.slack_api import TOKEN, FakeSlack, _handler
from tests.fakes.slack_platform import SlackPlatform

SECRET = "bench-signing-secret"
SERVICE = "CSERVICE"
CLIENTS = 8


class TimedFake(FakeSlack):
    """The fake Web API, noting when each response_url and each channel's chat.postMessage arrived."""

    def __init__(self) -> None:
        super().__init__(TOKEN)
        self.seen: Counter = Counter()
        self._cv = threading.Condition()

    def note(self, key: str) -> None:
        with self._cv:
            self.seen[key] += 1
            self._cv.notify_all()

    def answer(self, method: str, args: dict, headers: dict) -> tuple[int, dict, dict]:
        out = super().answer(method, args, headers)
        with self._cond:
            self.calls.clear()  # a long run would keep every call otherwise
        if method == "chat.postMessage":
            self.note(f"chat:{args.get('channel')}")
        return out

    def start(self) -> TimedFake:
        from http.server import ThreadingHTTPServer

        fake, base = self, _handler(self)

        class Handler(base):  # type: ignore[misc, valid-type]
            def do_POST(self) -> None:  # noqa: N802
                super().do_POST()
                if self.path.startswith("/respond/"):
                    fake.note(self.path)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def wait(self, key: str, n: int = 1, timeout: float = 30.0) -> None:  # type: ignore[override]
        deadline = time.monotonic() + timeout
        with self._cv:
            while self.seen[key] < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {key} within {timeout} s")
                self._cv.wait(left)


class Driver(SlackPlatform):
    _urls = itertools.count(1)

    def trigger(self) -> str:
        """Unique across drivers and runs, as Slack's are: requests are de-duplicated by trigger_id, and one
        database serves several drivers (and several bench runs)."""
        return f"{uuid.uuid4().hex}.trigger"

    def slash(self, command: str, text_: str, *, user: str, channel: str) -> str:
        """Sends a signed slash command; returns the key its reply arrives under."""
        url = f"{self.fake.url}/respond/b{next(self._urls)}"
        form = {"token": "legacy", "team_id": "T1", "team_domain": "fake", "channel_id": channel,
                "channel_name": "general", "user_id": user, "user_name": user, "command": command, "text": text_,
                "api_app_id": "A1", "is_enterprise_install": "false", "response_url": url,
                "trigger_id": self.trigger()}
        r = self.post(urlencode(form))
        if r.status != 200:
            raise RuntimeError(f"{command} answered {r.status}")
        return url[len(self.fake.url):]


@dataclass
class Served:
    fake: TimedFake
    server: WebServer
    driver: Driver
    reply_key: Callable[[str, str], str]  # (key returned by slash, channel) → what to wait for

    def stop(self) -> None:
        self.server.stop()
        self.fake.stop()


def ours(engine: Engine, *, sender: bool = False) -> tuple[Served, Sender | None]:
    fake = TimedFake().start()
    core = Core(engine, DomainSettings(_env_file=None), secret=b"bench", channels={"slack": SERVICE})
    bot = SlackBot(core, token=TOKEN, signing_secret=SECRET, api_url=fake.api_url)
    server = add_slack(WebServer(host="127.0.0.1", port=0), bot)
    server.start()
    out = None
    if sender:
        out = Sender(engine, {"slack": bot.transport}, clock=core.clock)
        core.on_outbox.append(out.wake)
        out.start(interval=2.0)
    return Served(fake, server, Driver(server.url + "/slack/events", SECRET, fake), lambda k, ch: k), out


def bare() -> Served:
    fake = TimedFake().start()
    app = App(client=web_client(TOKEN, fake.api_url), signing_secret=SECRET)

    @app.command("/log")
    def log(ack, body, client) -> None:  # noqa: ANN001
        ack()
        client.chat_postMessage(channel=body["channel_id"], text=f"logged: {body['text']}")

    server = WebServer(host="127.0.0.1", port=0)
    server.add_post(EVENTS_PATH, slack_route(app, SECRET))
    server.start()
    return Served(fake, server, Driver(server.url + "/slack/events", SECRET, fake), lambda k, ch: f"chat:{ch}")


def load(s: Served, codes: list[tuple[str, str]], per_client: int,
         stop: threading.Event | None = None) -> tuple[float, list[float]]:
    """CLIENTS closed-loop clients sending `/log` until each sent `per_client` (or `stop` is set): (replies
    delivered per second, each reply's latency in ms)."""
    lat: list[float] = []
    errors: list[BaseException] = []

    def client(c: int) -> None:
        user, code = codes[c % len(codes)]
        try:
            for j in itertools.count():
                if (stop is None and j >= per_client) or (stop is not None and stop.is_set()):
                    return
                ch = f"CB{c}x{j}x{time.monotonic_ns()}"
                t0 = time.perf_counter()
                key = s.driver.slash("/log", f"{code} phone: bench call {j} next: in 3 days", user=user, channel=ch)
                s.fake.wait(s.reply_key(key, ch))
                lat.append((time.perf_counter() - t0) * 1000)
        except BaseException as e:  # noqa: BLE001 - reported after the run
            errors.append(e)

    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(CLIENTS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"a Slack client failed: {errors[0]!r}")
    return len(lat) / (time.perf_counter() - t0), lat


def rep_codes(engine: Engine, n: int = CLIENTS) -> list[tuple[str, str]]:
    """(Slack user id, a customer code they own) for the first `n` reps."""
    with engine.connect() as c:
        rows = c.execute(text("SELECT s.slack_id, min(c.code) FROM staff s JOIN customer c ON c.owner_id = s.id "
                              "WHERE s.role = 'rep' GROUP BY s.id, s.slack_id ORDER BY s.id LIMIT :n"), {"n": n})
        return [(u, code) for u, code in rows]


def log_rows(engines: dict[str, Engine], per_client: int, rounds: int) -> list[Row]:
    """Throughput (vs bare bolt) and reply p99 on each engine, rounds interleaved."""
    ref = bare()
    mine = {name: ours(e)[0] for name, e in engines.items()}
    codes = {name: rep_codes(e) for name, e in engines.items()}
    thr: dict[str, list[float]] = {n: [] for n in engines}
    lat: dict[str, list[float]] = {n: [] for n in engines}
    ref_thr, ref_lat = [], []
    try:
        load(ref, [("UX", "X")], 2)  # warm-up
        for name, s in mine.items():
            load(s, codes[name], 2)
        for _ in range(rounds):
            for name, s in mine.items():
                t, l_ = load(s, codes[name], per_client)
                thr[name].append(t)
                lat[name] += l_
            t, l_ = load(ref, [("UX", "X")], per_client)
            ref_thr.append(t)
            ref_lat += l_
    finally:
        ref.stop()
        for s in mine.values():
            s.stop()
    ref = median(ref_thr)
    rows = [Row(f"Slack /log, {CLIENTS} concurrent clients, {name}: throughput vs bare slack-bolt", "/s",
                median(thr[name]), ref, "≥ 0.6×", median(thr[name]) / ref >= 0.6) for name in engines]
    rows += [Row(f"Slack /log: reply delivered p99, {name} (reference: bare bolt)", "ms", pct(lat[name], 99),
                 pct(ref_lat, 99), "< 150 ms", pct(lat[name], 99) < 150) for name in engines]
    return rows


def complaint_rows(engine: Engine, rounds: int, label: str) -> list[Row]:
    """A high-priority complaint until its supervisor-channel post is delivered: idle (reference) and while
    CLIENTS clients log calls, alternating."""
    s, sender = ours(engine, sender=True)
    codes = rep_codes(engine, CLIENTS + 1)
    user, code = codes[-1]
    idle, busy, n = [], [], 0

    def complaint() -> float:
        nonlocal n
        n += 1
        t0 = time.perf_counter()
        s.driver.slash("/ticket", f"new {code} complaint high: bench complaint {n}", user=user, channel="CB")
        s.fake.wait(f"chat:{SERVICE}", n)
        return (time.perf_counter() - t0) * 1000

    try:
        complaint()  # warm-up
        for _ in range(2):
            idle += [complaint() for _ in range(rounds)]
            stop = threading.Event()
            bg = threading.Thread(target=load, args=(s, codes[:CLIENTS], 0, stop), daemon=True)
            bg.start()
            time.sleep(0.5)
            busy += [complaint() for _ in range(rounds)]
            stop.set()
            bg.join()
    finally:
        if sender:
            sender.stop()
        s.stop()
    return [Row(f"complaint → supervisor post p99 while {CLIENTS} clients log calls, {label} (reference: idle)",
                "ms", pct(busy, 99), pct(idle, 99), "< 300 ms", pct(busy, 99) < 300)]
