"""Views reach the adapters with their labels already translated: the core labels every list (renderers never
translate)."""

from handlers.commands import COMMANDS, command
from handlers.context import Inbound
from handlers.i18n import t
from handlers.views import Action, ListItem, ListPage, Reply
from storage.db import session_scope
from tests import factories as f


def test_a_list_without_labels_gets_them_from_the_core_in_the_users_language(core):
    @command("bare_list_test", hidden=True)
    def bare(ctx, args):  # noqa: ANN001, ANN202
        return Reply(views=(ListPage("T", (ListItem("a"),), page=1, pages=2, total=7, next=Action("/x p2")),
                            ListPage("E", ())))

    try:
        with session_scope(core.engine) as s:
            f.staff(s, name="hana", lang="zh")
        r = core.handle(Inbound(platform="console", user_ref="hana", chat_ref="@hana", text="/bare_list_test"))
    finally:
        COMMANDS.pop("bare_list_test")
    full, empty = r.views
    assert full.nav_text == t("zh", "list.page", page=1, pages=2, total=7)
    assert (full.prev_label, full.next_label) == (t("zh", "list.prev"), t("zh", "list.next"))
    assert empty.empty_text == t("zh", "list.empty")
