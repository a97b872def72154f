"""Staff invites: `/staff invite NAME` and `crm-bot staff invite NAME` give a one-time Telegram link that binds
whoever opens it (`/start TOKEN`) to that staff record."""

from __future__ import annotations

import re
import threading

import pytest
from sqlmodel import select

from handlers.context import Inbound
from handlers.i18n import t
from handlers.router import Core
from storage.db import create_all, make_engine, session_scope
from storage.models import Setting, Staff
from storage.repos import staff as staff_repo
from tests.unit.test_tickets_support import Desk


@pytest.fixture
def desk(engine, settings, clock) -> Desk:
    return Desk(Core(engine, settings, secret=b"s", clock=clock, bot_names={"telegram": "acme_crm_bot"}), engine)


def text(reply) -> str:
    return "\n".join(getattr(v, "text", "") for v in reply.views)


def ask(core, by: str, line: str) -> str:
    return text(core.handle(Inbound(platform="console", user_ref=by, chat_ref=f"@{by}", text=line)))


def tg(core, user: int, line: str) -> str:
    return text(core.handle(Inbound(platform="telegram", user_ref=str(user), chat_ref=str(user), text=line)))


def token_of(out: str) -> str:
    return re.search(r"/start ([A-Za-z0-9_-]+)", out).group(1)


def telegram_id(engine, name: str) -> int | None:
    with session_scope(engine) as s:
        return staff_repo.get_by_name(s, name=name).telegram_id


def test_invite_link_binds_once(desk):
    out = ask(desk.core, "ada", "/staff invite alan")
    token = token_of(out)
    assert f"https://t.me/acme_crm_bot?start={token}" in out
    with session_scope(desk.engine) as s:  # only the hash is kept
        assert all(token not in r.key + r.value for r in s.scalars(select(Setting)))
    assert t("en", "auth.stranger") in tg(desk.core, 555, "/tickets")
    assert "alan" in tg(desk.core, 555, f"/start {token}")
    assert telegram_id(desk.engine, "alan") == 555
    with session_scope(desk.engine) as s:
        assert staff_repo.get_by_name(s, name="alan").notify == "telegram"
    assert t("en", "auth.stranger") not in tg(desk.core, 555, "/tickets")  # now alan on Telegram
    assert tg(desk.core, 666, f"/start {token}") == t("en", "staffinv.used")
    assert telegram_id(desk.engine, "alan") == 555


def test_expired_forged_and_taken(desk, clock):
    token = token_of(ask(desk.core, "ada", "/staff invite alan"))
    assert tg(desk.core, 777, f"/start {token[:-2]}xx") == t("en", "inv.invalid")
    other = token_of(ask(desk.core, "ada", "/staff invite bea"))
    assert "bea" in tg(desk.core, 777, f"/start {other}")
    token2 = token_of(ask(desk.core, "ada", "/staff invite rob"))
    assert tg(desk.core, 777, f"/start {token2}") == t("en", "inv.staff_no_bind")  # 777 is bea now
    token3 = token_of(ask(desk.core, "ada", "/staff invite mia"))
    clock.advance(days=8)
    assert tg(desk.core, 900, f"/start {token3}") == t("en", "staffinv.expired")
    assert telegram_id(desk.engine, "mia") is None


def test_taken_telegram_account(desk):
    with session_scope(desk.engine) as s:
        staff_repo.get_by_name(s, name="rob", active=True).telegram_id = 4242
        staff_repo.get_by_name(s, name="rob").active = False  # deactivated: the bot does not know them
    token = token_of(ask(desk.core, "ada", "/staff invite alan"))
    assert tg(desk.core, 4242, f"/start {token}") == t("en", "staffinv.taken")
    assert telegram_id(desk.engine, "alan") is None


def test_who_may_invite(desk):
    assert "/start" in ask(desk.core, "mia", "/staff invite ray")  # a manager, their team
    assert ask(desk.core, "mia", "/staff invite rob") == t("en", "staffcmd.err.not_yours", name="rob")
    assert ask(desk.core, "ray", "/staff invite alan") == t("en", "staffcmd.err.not_yours", name="alan")


@pytest.fixture(params=["sqlite_file", "postgresql"])
def any_desk(request, settings, clock, tmp_path) -> Desk:
    """Real concurrency needs real connections: an in-memory SQLite shares one connection between threads."""
    if request.param == "sqlite_file":
        engine = make_engine(f"sqlite:///{tmp_path / 'invite.db'}")
        create_all(engine)
        request.addfinalizer(engine.dispose)
    else:
        engine = request.getfixturevalue("pg_db")
    return Desk(Core(engine, settings, secret=b"s", clock=clock), engine)


def test_two_people_open_one_link_at_once(any_desk):
    desk = any_desk
    token = token_of(ask(desk.core, "ada", "/staff invite alan"))
    results: list[str] = []
    go = threading.Barrier(2)

    def open_link(user: int) -> None:
        go.wait()
        results.append(tg(desk.core, user, f"/start {token}"))

    threads = [threading.Thread(target=open_link, args=(u,)) for u in (1001, 1002)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(r == t("en", "staffinv.used") for r in results) == [False, True]
    assert telegram_id(desk.engine, "alan") in (1001, 1002)
    with session_scope(desk.engine) as s:
        assert len(s.scalars(select(Staff).where(Staff.telegram_id.in_((1001, 1002)))).all()) == 1
