"""The deployment examples in deploy/ (docs/scaling.md) stay true to the code: the container file copies every
package, runs as a non-root user, and its HEALTHCHECK command really tells a healthy instance (200) from an
unhealthy one (503); the commands of the container and the systemd unit parse with the real CLI; the unit passes
`systemd-analyze verify` where systemd is installed. (No container is built here: the suite runs offline.)"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot import run_both
from bot.cli import parser
from bot.health import Health
from bot.web.server import WebServer
from handlers.settings import DomainSettings
from storage.db import create_all, make_engine

ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = ROOT / "deploy" / "Containerfile"
UNIT = ROOT / "deploy" / "crm-bot.service"
INSTRUCTIONS = {"FROM", "ENV", "WORKDIR", "COPY", "RUN", "VOLUME", "USER", "EXPOSE", "HEALTHCHECK", "STOPSIGNAL",
                "ENTRYPOINT", "CMD", "ARG", "LABEL"}


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Containerfile, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in CONTAINERFILE.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip().removesuffix("\\").rstrip() + " " if line.rstrip().endswith("\\") else line
        if not line.rstrip().endswith("\\"):
            word, _, rest = pending.strip().partition(" ")
            out.append((word, rest.strip()))
            pending = ""
    assert not pending, "a continuation line ends the file"
    return out


def of(name: str) -> list[str]:
    return [args for word, args in instructions() if word == name]


def test_containerfile_is_well_formed_copies_every_package_and_runs_unprivileged() -> None:
    words = [w for w, _ in instructions()]
    assert set(words) <= INSTRUCTIONS, set(words) - INSTRUCTIONS
    assert words[0] == "FROM" and of("FROM") == ["python:3.11-slim"]
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    copied = {a.split()[0] for a in of("COPY")}
    for pattern in packages["include"]:  # a new top-level package must be copied into the image too
        assert pattern.removesuffix("*") in copied, pattern
    for src in copied:
        assert (ROOT / src).exists(), src
    assert any("pip install ." in r for r in of("RUN"))
    [user] = of("USER")
    assert user.split(":")[0] not in ("root", "0")
    assert of("VOLUME") and "/data" in of("VOLUME")[0]
    assert of("STOPSIGNAL") == ["SIGTERM"]


def container_command() -> list[str]:
    [entry], [cmd] = of("ENTRYPOINT"), of("CMD")
    return json.loads(entry) + json.loads(cmd)


def test_container_command_and_unit_exec_start_parse_with_the_cli() -> None:
    argv = container_command()
    assert argv[0] == "crm-bot"
    args = parser().parse_args(argv[1:])
    assert args.func is run_both.cmd_run_all and args.http  # one port: Slack, the webhook, /healthz
    exec_start = next(line.split("=", 1)[1] for line in UNIT.read_text().splitlines()
                      if line.startswith("ExecStart="))
    argv = shlex.split(exec_start)
    assert argv[0].endswith("/crm-bot")
    args = parser().parse_args(argv[1:])
    assert (args.platform, args.also) == ("slack", "telegram")  # both platforms in one process
    assert args.http and args.webhook_url.startswith("https://")


def healthcheck(port: int) -> int:
    """Run the Containerfile's HEALTHCHECK command (exec form) against 127.0.0.1:port; its exit status."""
    [hc] = of("HEALTHCHECK")
    cmd = json.loads(hc.split(" CMD ", 1)[1])
    assert cmd[0] == "python"
    return subprocess.run([sys.executable, *cmd[1:]], env={"PORT": str(port)}, capture_output=True,
                          timeout=30).returncode


def test_the_healthcheck_command_passes_a_healthy_instance_and_fails_an_unhealthy_one(tmp_path) -> None:
    good = make_engine(f"sqlite:///{tmp_path / 'crm.db'}")
    create_all(good)
    bad = make_engine(f"sqlite:///{tmp_path / 'missing' / 'crm.db'}")  # its folder does not exist: unreachable
    servers = [WebServer(host="127.0.0.1", port=0, health=Health(e, DomainSettings(_env_file=None)))
               for e in (good, bad)]
    for s in servers:
        s.start()
    try:
        ports = [int(s.url.rsplit(":", 1)[1]) for s in servers]
        assert healthcheck(ports[0]) == 0
        assert healthcheck(ports[1]) != 0  # 503: the database does not answer
    finally:
        for s in servers:
            s.stop()
        good.dispose()
        bad.dispose()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_systemd_unit_passes_systemd_analyze_verify(tmp_path) -> None:
    # verify also checks that ExecStart's program exists: point it at one that does, keep everything else
    text = UNIT.read_text()
    exec_start = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    unit = tmp_path / "crm-bot.service"
    unit.write_text(text.replace(exec_start, "ExecStart=/bin/true " + exec_start.split(" ", 1)[1]))
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
