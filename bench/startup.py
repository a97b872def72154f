"""Start-up figures, each in fresh processes: `crm-bot --help` CPU time against `python -c pass`, and the
first `/log` that reaches dateparser after a start (`bot.app.build(warm=True)`, as every `crm-bot run` does) against the
second one.

    python -m bench.startup first-log DATABASE_URL USER CODE    # prints {"first": ms, "second": ms}
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

from bench.report import Row, median


def cpu_seconds(argv: list[str]) -> float:
    """User + system CPU of one child process run to completion."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


def help_rows(rounds: int) -> list[Row]:
    ours_cmd = [sys.executable, "-m", "bot", "--help"]
    ref_cmd = [sys.executable, "-c", "pass"]
    cpu_seconds(ours_cmd)  # warm the page cache
    a, b = [], []
    for _ in range(rounds):
        a.append(cpu_seconds(ours_cmd))
        b.append(cpu_seconds(ref_cmd))
    return [Row("`crm-bot --help` CPU vs `python -c pass`", "s", median(a), median(b), "< 0.25 s",
                median(a) < 0.25)]


def first_log_rows(url: str, user: str, code: str, rounds: int) -> list[Row]:
    firsts, seconds = [], []
    for _ in range(rounds):
        out = subprocess.run([sys.executable, "-m", "bench.startup", "first-log", url, user, code], check=True,
                             capture_output=True, text=True, env=_env())
        got = json.loads(out.stdout.strip().splitlines()[-1])
        firsts.append(got["first"])
        seconds.append(got["second"])
    a, b = median(firsts), median(seconds)
    return [Row("first /log that reaches dateparser after start (reference: the second /log)", "ms", a, b,
                "paid at start-up (≤ 2nd + 20 ms)", a <= b + 20)]


def _first_log(url: str, user: str, code: str) -> None:
    os.environ["DATABASE_URL"] = url
    from bot.app import build
    from handlers.context import Inbound
    from handlers.views import Error

    app = build(database_url=url, warm=True)  # as `crm-bot run` and the console do
    out = []
    for i in range(2):
        line = f"/log {code} phone: bench start {i} next: 下周五下午3点"
        t0 = time.perf_counter()
        r = app.core.handle(Inbound(platform="console", user_ref=user, chat_ref=f"@{user}", text=line))
        out.append((time.perf_counter() - t0) * 1000)
        if any(isinstance(v, Error) for v in r.views):
            raise SystemExit(f"the /log was refused: {r.views}")
    print(json.dumps({"first": out[0], "second": out[1]}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["first-log"]:
        _first_log(*sys.argv[2:5])
    else:
        raise SystemExit(__doc__)
