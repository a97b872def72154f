"""`/import PATH` in the console REPL: the check with numbered choices, a number presses Import, the progress
lines are printed as the import goes, and the customers are saved."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from bot.console import repl
from handlers.i18n import t
from storage.db import session_scope
from storage.models import Customer
from tests import factories as f
from tests.e2e.test_console_notifications import Script


def test_console_import_from_a_path_with_progress(core, tmp_path):
    with session_scope(core.engine) as s:
        f.staff(s, name="lina", role="rep", lang="zh")
    p = tmp_path / "客户.csv"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["客户名称", "所属行业", "客户类型", "联系电话"])
    w.writerows([f"客户{i}", "IT", "潜在客户", f"1380013{i:04d}"] for i in range(1500))
    p.write_bytes(buf.getvalue().encode("gbk"))
    out = io.StringIO()
    assert repl.run(core, "lina", out=out, inp=Script(f"/import {p}", "1")) == 0
    check, done = out.getvalue().split("» ")[1:3]
    assert t("zh", "import.chat.checking", name="客户.csv", rows="1,000") in check  # printed while checking
    assert t("zh", "import.chat.title", kind=t("zh", "import.kind.customers"), name="客户.csv") in check and "gb18030" in check
    assert "[1] " + t("zh", "import.btn.import", kind=t("zh", "import.kind.customers"), count=1500) in check
    assert "[2] " + t("zh", "import.btn.cancel") in check
    assert t("zh", "import.chat.progress", kind=t("zh", "import.kind.customers"), name="客户.csv", pct=0) in done
    assert done.index("%") < done.index(t("zh", "import.chat.done_title", kind=t("zh", "import.kind.customers"), name="客户.csv"))
    with session_scope(core.engine) as s:
        assert len(s.scalars(select(Customer)).all()) == 1500
