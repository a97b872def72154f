"""Start-up: `crm-bot --help` loads no database, settings or chat library; the bots warm dateparser at start.

Behaviour, not timing: each check runs a fresh interpreter and looks at the modules it loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "pydantic_settings", "slack_bolt", "slack_sdk", "telegram",
         "dateparser", "apscheduler")


def loaded_by(code: str) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after running `code`."""
    script = code + "\nimport json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("argv", [["--help"], ["staff", "add", "--help"], ["jobs", "run", "--help"],
                                  ["run", "all", "--help"], ["export", "--help"]])
def test_help_imports_nothing_heavy(argv):
    code = textwrap.dedent(f"""
        import contextlib, io
        from bot import cli
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            cli.main({argv!r})
    """)
    assert loaded_by(code).isdisjoint(HEAVY), sorted(loaded_by(code) & set(HEAVY))


def test_help_still_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "bot", "--help"], check=True, capture_output=True, text=True).stdout
    for command in ("console", "db", "staff", "export", "demo", "import", "jobs", "outbox", "run", "slack"):
        assert command in out


def test_the_light_copies_of_choices_match_their_sources():
    from bot import cli_data, cli_jobs, cli_staff
    from handlers import exporting
    from handlers.services import staff_edit
    from scheduler import registry

    assert cli_data.KINDS == exporting.KINDS
    assert cli_data.FORMATS == exporting.FORMATS
    assert tuple(sorted(registry.JOBS)) == cli_jobs.JOB_NAMES
    assert cli_staff.OPTIONS == staff_edit.FIELDS


def test_a_warm_start_has_loaded_dateparser_and_a_plain_build_has_not(tmp_path):
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    code = textwrap.dedent(f"""
        import sys
        from bot.app import build
        build(database_url={url!r})
        assert "dateparser" not in sys.modules, "a one-shot command should not pay for dateparser"
        build(database_url={url!r}, warm=True)
    """)
    assert "dateparser" in loaded_by(code)
