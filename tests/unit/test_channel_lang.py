"""The supervisor channel speaks its readers' language: CRM_SERVICE_LANG when set; else the supervisors' one
language, or both (Chinese first) when they are mixed."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from handlers.cards.tickets import channel_langs
from handlers.i18n import enum_label, t
from handlers.views import Buttons, Header, Select
from storage.db import session_scope
from storage.models import Staff
from tests.unit.test_tickets_support import Desk


@pytest.fixture
def desk(core, engine) -> Desk:
    return Desk(core, engine)


def set_langs(desk: Desk, **langs: str) -> None:
    with session_scope(desk.engine) as s:
        for name, lang in langs.items():
            s.execute(update(Staff).where(Staff.name == name).values(lang=lang))


def post(desk: Desk):
    desk.open()
    (p,) = desk.to("#service", desk.drain())
    return p.reply


def heads(reply) -> list[str]:
    return [v.text for v in reply.views if isinstance(v, Header)]


def title(lang: str) -> str:
    return t(lang, "tk.post_title", code="FW2026001", type=enum_label(lang, "ticket_type", "complaint"),
             priority=enum_label(lang, "priority", "high"))


def test_all_supervisors_chinese_the_posts_are_chinese(desk):
    set_langs(desk, sue="zh", sam="zh")
    assert heads(post(desk)) == ["🚨 " + title("zh")]


def test_mixed_supervisors_get_both_chinese_first_with_the_controls_once(desk):
    set_langs(desk, sue="zh", sam="en")
    r = post(desk)
    assert heads(r) == ["🚨 " + title("zh"), "🚨 " + title("en")]
    assert r.text.index(title("zh")) < r.text.index(title("en"))
    selects = [v for v in r.views if isinstance(v, Select)]
    buttons = [b for v in r.views if isinstance(v, Buttons) for b in v.buttons]
    assert len(selects) == 1 and len(buttons) == 1  # Assign and Take it, once
    assert buttons[0].label == f"{t('zh', 'tk.btn.take')} / {t('en', 'tk.btn.take')}"
    assert buttons[0].action.cmd == "/ticket take FW2026001"
    assert t("zh", "tk.assign_placeholder") in selects[0].placeholder
    assert t("en", "tk.assign_placeholder") in selects[0].placeholder


def test_the_setting_wins_and_nobody_means_the_default(desk, settings):
    set_langs(desk, sue="zh", sam="zh")
    with session_scope(desk.engine) as s:
        assert channel_langs(s, settings.model_copy(update={"service_lang": "en"})) == ("en",)
        assert channel_langs(s, settings) == ("zh",)
        for st in s.scalars(select(Staff).where(Staff.role == "supervisor")):
            st.active = False
        assert channel_langs(s, settings) == (settings.default_lang,)
        assert channel_langs(s, settings.model_copy(update={"default_lang": "zh"})) == ("zh",)
