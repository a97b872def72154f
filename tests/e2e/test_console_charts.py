"""The console REPL saves a report's chart in the data folder and prints where."""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image

from bot.console import repl
from storage.db import session_scope
from tests import factories as f
from tests.e2e.test_console_notifications import Script


def test_console_saves_the_chart_in_the_data_folder_and_prints_its_path(core, tmp_path, monkeypatch):
    with session_scope(core.engine) as s:
        f.staff(s, name="mary", role="manager", team="east", lang="zh")
    monkeypatch.setenv("CRM_FILES_DIR", str(tmp_path / "data" / "files"))
    out = io.StringIO()
    assert repl.run(core, "mary", out=out, inp=Script("/report 漏斗")) == 0
    [(name, path)] = re.findall(r"📎 (\S+) → (\S+)", out.getvalue())
    saved = Path(path)
    assert saved.parent == tmp_path / "data" / "files" and saved.name == name and name.startswith("funnel-")
    assert Image.open(saved).format == "PNG"
    assert saved.stat().st_mode & 0o777 == 0o600 and saved.parent.stat().st_mode & 0o777 == 0o700
