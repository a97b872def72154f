"""Every real feature reply, rendered for Telegram, is valid: the demo database, the real verbs with realistic
(Chinese, hostile) arguments, one level of their buttons pressed, and the outbox notifications they cause.

Checked for each message: only Telegram HTML tags, balanced; no bare `< > &` (every user text escaped);
at most 4096 characters after parsing; at most 100 buttons, 8 per row, callback_data at most 64 bytes.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from bot.demo_data import generate
from bot.telegram.render import render
from handlers import actions
from handlers.context import Inbound
from handlers.router import Core
from handlers.settings import DomainSettings
from handlers.views import Reply, from_json
from storage.db import create_all, make_engine
from storage.models import Outbox, Staff
from tests.factories import NOW

SERVICE = "-1001234567890"
TAGS = re.compile(r"</?(b|i|u|s|code|pre)>")
HOSTILE = "<b>粗体</b> & <script>x</script>"

# (staff name, command): what staff type every day, in both languages
SCRIPT = [
    ("李娜", "/help"), ("李娜", "/customer 杭州"), ("李娜", "/followups"), ("李娜", "/pool"),
    ("李娜", f"/log@crm_test_bot 杭州嘉禾 电话 积极: 谈了续约 {HOSTILE} next: 明天 10点"),
    ("李娜", f"/log 嘉禾 wechat: sent quote {HOSTILE}"), ("李娜", "/history 嘉禾"), ("李娜", "/opp list"),
    ("李娜", f"/opp add 嘉禾 ERP二期 {HOSTILE} amount=150000 close=2027-03-01"),
    ("李娜", "/purchase 嘉禾 5000 软件许可"), ("李娜", "/staff"), ("李娜", "/report"), ("李娜", "/customer add"),
    ("李娜", "/ticket new"), ("张伟", "/report pipeline"), ("张伟", "/report followups 本月"),
    ("周婷", "/report sla"), ("Mark Wu", "/report csat"), ("Mark Wu", "/tickets"), ("Mark Wu", "/tickets all"),
    ("赵敏", "/tickets mine"), ("李娜", f"/ticket new 嘉禾 投诉 高: 发票重复 {HOSTILE}"),
    ("Mark Wu", "/customer invite 杭州嘉禾"), ("李娜", "/nonsense"),
    ("王强", "/staff 李娜"),  # last: its buttons (deactivate …) are pressed too
]


def check(text: str, rows: list) -> list[str]:
    problems = []
    bare = TAGS.sub("", text)
    if "<" in bare or ">" in bare:
        problems.append("raw < or >")
    if re.search(r"&(?!(lt|gt|amp|quot|#\d+);)", bare):
        problems.append("bare &")
    if not 0 < len(html.unescape(bare)) <= 4096:
        problems.append(f"length {len(html.unescape(bare))}")
    depth: dict[str, int] = {}
    for close, tag in re.findall(r"<(/?)(b|i|u|s|code|pre)>", text):
        depth[tag] = depth.get(tag, 0) + (-1 if close else 1)
        if depth[tag] not in (0, 1):
            problems.append("nested or unbalanced tags")
    if any(depth.values()):
        problems.append("unclosed tag")
    if sum(len(r) for r in rows) > 100 or any(len(r) > 8 for r in rows):
        problems.append("too many buttons")
    if any(len(k.data.encode()) > 64 or not k.label.strip() for r in rows for k in r):
        problems.append("bad button")
    return problems


@pytest.fixture(scope="module")
def demo_core():
    engine = make_engine("sqlite://")
    create_all(engine)
    settings = DomainSettings(_env_file=None)
    with Session(engine) as s:
        generate(s, now=NOW, settings=settings)
        s.execute(update(Staff).values(telegram_id=Staff.id + 1000, notify="telegram"))
        s.commit()
        ids = dict(s.execute(select(Staff.name, Staff.telegram_id)).all())
    yield Core(engine, settings, secret=b"walk", clock=lambda: NOW, channels={"telegram": SERVICE},
               bot_names={"telegram": "crm_test_bot"}), ids
    engine.dispose()


def rendered(core: Core, reply: Reply, chat: str) -> list:
    sign = lambda cmd: actions.encode(cmd, scope=f"c:{chat}", secret=b"walk", now=NOW)  # noqa: E731
    return render(reply, sign=sign)


def ask(core: Core, user: int, *, text: str | None = None, token: str | None = None, n: list[int]) -> Reply:
    n[0] += 1
    return core.handle(Inbound(platform="telegram", user_ref=str(user), chat_ref=str(user), text=text, token=token,
                               scopes=(f"c:{user}",), update_key=f"walk:{n[0]}"))


def test_real_replies_and_their_buttons_render_valid_telegram_messages(demo_core) -> None:
    core, ids = demo_core
    n, seen, problems, texts = [0], 0, [], []
    for name, cmd in SCRIPT:
        user = ids[name]
        reply = ask(core, user, text=cmd, n=n)
        msgs = rendered(core, reply, str(user))
        assert msgs, cmd
        keys = [k for o in msgs for row in o.rows for k in row][:4]
        for o in msgs:
            problems += [f"{cmd}: {p}" for p in check(o.text, o.rows)]
            texts.append(o.text)
        for k in keys:  # one level deeper: press the first buttons of the reply
            pressed = ask(core, user, token=k.data, n=n)
            for o in rendered(core, pressed, str(user)):
                problems += [f"{cmd} → [{k.label}]: {p}" for p in check(o.text, o.rows)]
                seen += 1
            ask(core, user, text="/cancel", n=n)
        seen += len(msgs)
    with Session(core.engine) as s:  # the notifications these caused (service posts, DMs)
        rows = list(s.scalars(select(Outbox).where(Outbox.platform == "telegram")))
    assert any(r.chat_ref == SERVICE for r in rows)
    for r in rows:
        for o in rendered(core, from_json(r.payload), r.chat_ref):
            problems += [f"outbox {r.key}: {p}" for p in check(o.text, o.rows)]
            texts.append(o.text)
            seen += 1
    assert not problems, problems
    assert seen > 60, seen
    assert sum("&lt;script&gt;x&lt;/script&gt;" in x for x in texts) >= 3  # the hostile text, escaped
    [error] = [x for x in texts if x.startswith("⚠️")]  # only /nonsense is an error: every verb really worked
    assert "/nonsense" in error
