"""A language switch is a field of the reply (`Reply.lang_set`), not something adapters guess from its wording."""

from handlers.context import Inbound
from handlers.i18n import t
from storage.db import session_scope
from tests import factories as f


def test_lang_switch_says_so_in_the_reply_and_nothing_else_does(core):
    with session_scope(core.engine) as s:
        f.staff(s, name="dora", lang="en")
    ask = core.handle(Inbound(platform="console", user_ref="dora", chat_ref="console", text="/lang"))
    assert ask.lang_set is None
    done = core.handle(Inbound(platform="console", user_ref="dora", chat_ref="console", text="/lang zh"))
    assert done.lang_set == "zh" and t("zh", "lang.set") in [getattr(v, "text", "") for v in done.views]
    assert core.handle(Inbound(platform="console", user_ref="dora", chat_ref="console", text="/help")).lang_set is None
