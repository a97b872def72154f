"""The one HTTP server under hostile load: the ack time of a signed Slack command with no other client, and
while 300 slow clients each hold a connection with half a body sent (the server's body timeout is 10 s, so
they are all held during the measurement). `python -m bench.httpbench` prints just these rows."""

from __future__ import annotations

import socket
import tempfile
import time
from pathlib import Path

from bench.report import Row, median, pct, table
from bench.slackbench import SECRET, Driver, TimedFake
from bot.slack.app import SlackBot
from bot.slack.server import add_slack
from bot.web.server import WebServer
from handlers.router import Core
from handlers.settings import DomainSettings
from storage.db import create_all, make_engine, session_scope
from tests import factories
from tests.fakes.slack_api import TOKEN, sign

SLOW = 300


def _slow_clients(url: str, n: int) -> list[socket.socket]:
    host, port = url.removeprefix("http://").split(":")
    body = "command=%2Fhelp&text=" + "x" * 200
    ts = str(int(time.time()))
    head = (f"POST /slack/events HTTP/1.1\r\nHost: crm\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"X-Slack-Request-Timestamp: {ts}\r\nX-Slack-Signature: {sign(SECRET, ts, body)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    socks = []
    for _ in range(n):
        s = socket.create_connection((host, int(port)), timeout=10)
        s.sendall(head + body[:100].encode())
        socks.append(s)
    return socks


def _acks(driver: Driver, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        r = driver.command("/help", user="UBENCH")
        out.append((time.perf_counter() - t0) * 1000)
        if r.status != 200:
            raise RuntimeError(f"/help answered {r.status}")
    return out


def slow_client_rows(rounds: int = 20) -> list[Row]:
    work = Path(tempfile.mkdtemp(prefix="crm-httpbench-"))
    engine = make_engine(f"sqlite:///{work / 'http.db'}")
    create_all(engine)
    with session_scope(engine) as s:
        factories.staff(s, name="bench", slack_id="UBENCH")
    fake = TimedFake().start()
    core = Core(engine, DomainSettings(_env_file=None), secret=b"bench", channels={"slack": "CSERVICE"})
    server = add_slack(WebServer(host="127.0.0.1", port=0),
                       SlackBot(core, token=TOKEN, signing_secret=SECRET, api_url=fake.api_url))
    server.start()
    driver = Driver(server.url + "/slack/events", SECRET, fake)
    try:
        _acks(driver, 3)  # warm
        idle = _acks(driver, rounds)
        held = _slow_clients(server.url, SLOW)
        try:
            busy = _acks(driver, rounds)
        finally:
            for s in held:
                s.close()
    finally:
        server.stop()
        fake.stop()
        engine.dispose()
    return [Row("HTTP: signed /help ack, median, no other client", "ms", median(idle), None, "< 200 ms",
                median(idle) < 200),
            Row(f"HTTP: signed /help ack, p99, {SLOW} slow clients held", "ms", pct(busy, 99), pct(idle, 99),
                "< 1000 ms", pct(busy, 99) < 1000)]


if __name__ == "__main__":
    print(table(slow_client_rows()))
