"""The service flow on Telegram, through the real PTB Application and the fake Bot API: a rep logs a call;
a customer binds with an invite, opens a high-priority complaint; the supervisor group gets the post; a
supervisor assigns by button (the post is edited in place); the agent resolves; the customer confirms and
rates 5 with a comment; a forged rating callback from another chat is refused."""

from __future__ import annotations

import html
import re

import pytest
from sqlmodel import select

from handlers.commands.customer_chat import create_invite
from handlers.context import Inbound
from handlers.i18n import t
from handlers.router import Core
from storage.db import create_all, make_engine, session_scope
from storage.models import Customer, FollowUp, Ticket
from tests import factories as f
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_harness import running_bot

SERVICE, RAY, SUE, ALAN, CUST, OTHER = -1009876543210, 101, 102, 103, 7001, 7002


def plain(call) -> str:  # noqa: ANN001
    return html.unescape(re.sub(r"</?[bi]>", "", call["text"]))


@pytest.fixture
def world(tmp_path, settings, clock):
    engine = make_engine(f"sqlite:///{tmp_path}/crm.db")
    create_all(engine)
    with session_scope(engine) as s:
        ray = f.staff(s, name="ray", role="rep", telegram_id=RAY)
        f.staff(s, name="sue", role="supervisor", team="service", telegram_id=SUE)
        f.staff(s, name="alan", role="agent", team="service", telegram_id=ALAN)
        f.customer(s, name="杭州云栖科技有限公司", owner=ray, contact="张伟")
    core = Core(engine, settings, secret=b"e2e", clock=clock, channels={"telegram": str(SERVICE)},
                bot_names={"telegram": "crm_test_bot"})
    fake = FakeTelegram().start()
    yield core, fake
    fake.stop()
    engine.dispose()


def invite_token(core: Core) -> str:
    with session_scope(core.engine) as s:
        ctx = core.context(s, Inbound(platform="telegram", user_ref=str(RAY), chat_ref=str(RAY)), core.clock())
        r = create_invite(ctx, s.scalars(select(Customer)).first(), None)
    text = "\n".join(getattr(v, "text", "") for v in r.views)
    return re.search(r"start[= ]([A-Za-z0-9_-]+)", text).group(1)


def test_service_flow_on_telegram(world) -> None:
    core, fake = world
    token = invite_token(core)
    with running_bot(core, fake, service_chat=str(SERVICE)):
        fake.push_message(chat_id=RAY, user_id=RAY, text="/log 云栖 phone positive: talked about renewal")
        [logged] = fake.wait_sent(RAY)
        fake.push_message(chat_id=CUST, user_id=CUST, text=f"/start {token}", lang="zh")
        [welcome] = fake.wait_sent(CUST)
        assert "张伟" in plain(welcome)
        fake.push_message(chat_id=CUST, user_id=CUST, text="Nobody can log in <since 9am> & it's urgent")
        [kind] = fake.wait_sent(CUST, after=1)
        fake.press(kind, "投诉")
        [prio] = fake.wait_sent(CUST, after=2)
        fake.press(prio, "紧急")
        [created] = fake.wait_sent(CUST, after=3)
        assert "FW2026001" in plain(created)
        [post] = fake.wait_sent(SERVICE)
        assert "FW2026001" in plain(post) and "&lt;since 9am&gt; &amp;" in post["text"]
        fake.press(post, "alan", user_id=SUE)  # in the supervisor group
        edit = fake.wait_for(lambda: fake.calls_of("editMessageText", chat_id=SERVICE))[0]
        assert edit["message_id"] == post.result["message_id"] and "alan" in plain(edit)
        [dm] = fake.wait_sent(ALAN)
        assert "FW2026001" in plain(dm)
        fake.press(dm, t("en", "tk.btn.accept"))
        fake.wait_sent(ALAN, after=1)
        fake.press(dm, t("en", "tk.btn.resolve"))
        [ask] = fake.wait_sent(ALAN, after=2)
        fake.push_message(chat_id=ALAN, user_id=ALAN, text="Renewed the SSO certificate; logins work again")
        fake.wait_sent(ALAN, after=3)
        [solved] = fake.wait_for(lambda: [c for c in fake.sent(CUST)[4:] if c.buttons])
        assert "Renewed the SSO certificate" in plain(solved)
        n = len(fake.sent(CUST))
        fake.press(solved, "确认")
        [rate] = fake.wait_for(lambda: [c for c in fake.sent(CUST)[n:] if len(c.buttons) >= 5])
        five = next(b for b in rate.buttons if "5" in b["text"])
        # the same rating button replayed from another chat is refused with an alert
        n_answers = len(fake.calls_of("answerCallbackQuery"))
        fake.push_callback(chat_id=OTHER, user_id=OTHER, data=five["callback_data"])
        refused = fake.wait_for(lambda: fake.calls_of("answerCallbackQuery")[n_answers:])[0]
        assert refused["show_alert"] is True and fake.sent(OTHER) == []
        n = len(fake.sent(CUST))
        fake.push_callback(chat_id=CUST, user_id=CUST, data=five["callback_data"],
                           message_id=rate.result["message_id"])
        fake.wait_sent(CUST, after=n)
        n = len(fake.sent(CUST))
        fake.push_message(chat_id=CUST, user_id=CUST, text="Fast & friendly <3", lang="zh")
        [thanks] = fake.wait_sent(CUST, after=n)
    assert thanks["parse_mode"] == "HTML"
    with session_scope(core.engine) as s:
        tk = s.scalars(select(Ticket)).one()
        assert (tk.status, tk.rating, tk.rating_comment) == ("closed", 5, "Fast & friendly <3")
        fus = list(s.scalars(select(FollowUp).order_by(FollowUp.id)))
        assert fus[0].content == "talked about renewal"
        # the complaint left its trace on the customer: resolved, confirmed by the customer, rated
        assert [f.method for f in fus[1:]] == ["service"] * 3 and "FW2026001" in fus[-1].content
    assert "talked about renewal" in plain(logged)
    assert all(len(b["callback_data"].encode()) <= 64 for c in fake.calls_of("sendMessage") for b in c.buttons)


def test_customer_ticket_dialog_survives_a_restart(world, settings, clock) -> None:
    core, fake = world
    token = invite_token(core)
    with running_bot(core, fake, service_chat=str(SERVICE)):
        fake.push_message(chat_id=CUST, user_id=CUST, text=f"/start {token}", lang="zh")
        fake.wait_sent(CUST)
        fake.push_message(chat_id=CUST, user_id=CUST, text="发票开错了 <抬头> & 税号", lang="zh")
        [kind] = fake.wait_sent(CUST, after=1)
    # a new process on the same database; the button sent before the restart still works
    core2 = Core(core.engine, settings, secret=b"e2e", clock=clock, channels={"telegram": str(SERVICE)})
    with running_bot(core2, fake, service_chat=str(SERVICE)):
        fake.press(kind, "咨询")
        [prio] = fake.wait_sent(CUST, after=2)
        fake.press(prio, "不急")
        [created] = fake.wait_sent(CUST, after=3)
        fake.push_message(chat_id=CUST, user_id=CUST, text="/cancel", lang="zh")
        [nothing] = fake.wait_sent(CUST, after=4)
    assert "FW2026001" in plain(created)
    assert plain(nothing) == t("zh", "dlg.nothing_to_cancel")  # the dialog is over
    with session_scope(core.engine) as s:
        tk = s.scalars(select(Ticket)).one()
        assert (tk.type, tk.priority, tk.description) == ("consult", "low", "发票开错了 <抬头> & 税号")
