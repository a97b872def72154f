"""Block Kit rendering: every view type, escaping, and Slack's limits on the largest views."""

from __future__ import annotations

import typing

from bot.slack import limits as L
from bot.slack import render, surfaces
from handlers.views import (
    Action,
    Button,
    Buttons,
    Confirm,
    Error,
    Fields,
    Form,
    FormField,
    Header,
    ListItem,
    ListPage,
    Option,
    Reply,
    Select,
    Text,
    View,
)
from tests.fakes.slack_blocks import message_problems, view_problems
from tests.fakes.slack_testkit import NOTE, cmd_big, cmd_huge


def sign(a: Action) -> str:
    return a.cmd


class Store:
    def __init__(self) -> None:
        self.items: dict[str, list[dict]] = {}

    def put(self, blocks: list[dict]) -> str:
        key = f"k{len(self.items)}"
        self.items[key] = blocks
        return key


def all_text(blocks: list[dict]) -> str:
    out = []
    for b in blocks:
        if "text" in b and isinstance(b["text"], dict) and b["text"]["type"] == "mrkdwn":
            out.append(b["text"]["text"])
        out.extend(f["text"] for f in b.get("fields") or [])
        out.extend(e.get("text", "") for e in b.get("elements") or [] if e.get("type") == "mrkdwn")
    return "\n".join(out)


def more_key(blocks: list[dict]) -> str | None:
    for b in blocks:
        for el in b.get("elements") or []:
            if el.get("action_id") == render.MORE_ACTION:
                return el["value"]
    return None


def test_render_every_view_type_has_a_renderer():
    for cls in typing.get_args(View):
        assert render.render_view.dispatch(cls) is not render.render_view.dispatch(object), cls


def test_render_largest_views_keep_every_limit_and_lose_nothing():
    store = Store()
    reply = cmd_big(None, "")  # type: ignore[arg-type]
    msg = render.message(reply, sign=sign, lang="en", stash=store.put)
    assert message_problems(msg) == []
    assert len(msg["blocks"]) <= L.BLOCKS_MESSAGE
    seen = all_text(msg["blocks"])
    key = more_key(msg["blocks"])
    assert key is not None
    pages = 0
    while key is not None:  # follow the "more" control through modals until everything was shown
        modal = surfaces.blocks_modal(store.items[key], lang="en", stash=store.put)
        assert view_problems(modal) == []
        seen += all_text(modal["blocks"])
        key = more_key(modal["blocks"])
        pages += 1
    assert pages >= 1
    for i in range(300):
        assert f"*Customer {i} &lt;@here&gt;*" in seen
    assert "<@here>" not in seen


def test_render_10000_character_note_is_split_into_sections_not_lost():
    blocks = render.blocks_of(Reply(views=(Text(NOTE),)), sign=sign, lang="en")
    assert len(blocks) >= 4  # escaping makes the note longer
    assert all(len(b["text"]["text"]) <= L.SECTION_TEXT for b in blocks)
    joined = "".join(b["text"]["text"] for b in blocks).replace(" ", "")
    assert joined == L.escape(NOTE).replace(" ", "")


def test_render_huge_text_gets_a_more_control_and_fits():
    store = Store()
    msg = render.message(cmd_huge(None, ""), sign=sign, lang="en", stash=store.put)  # type: ignore[arg-type]
    assert message_problems(msg) == []
    assert more_key(msg["blocks"]) is not None
    assert len(msg["text"]) <= L.FALLBACK_TEXT


def test_render_without_a_stash_says_what_was_cut():
    msg = render.message(cmd_huge(None, ""), sign=sign, lang="zh")  # type: ignore[arg-type]
    assert message_problems(msg) == []
    assert msg["blocks"][-1]["type"] == "context"


def test_render_escapes_user_text_everywhere_including_the_fallback():
    evil = "<!channel> & <https://evil.example|click> <@U1>"
    reply = Reply(views=(Header(evil), Text(evil), Text(evil, muted=True), Fields(((evil, evil),)), Error(evil),
                         ListPage(evil, (ListItem(evil, evil),)), Confirm(evil, Button("y", Action("/y")),
                                                                          Button("n", Action("/n")))))
    msg = render.message(reply, sign=sign, lang="en")
    mrkdwn = all_text(msg["blocks"])
    assert "<" not in mrkdwn and ">" not in mrkdwn.replace("&gt;", "")
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt; &lt;@U1&gt;" in mrkdwn
    assert "<" not in msg["text"] and "&lt;!channel&gt;" in msg["text"]
    assert message_problems(msg) == []


def test_render_cut_never_splits_an_entity():
    s = L.mrkdwn("a" * 2996 + "&&&&&", 3000)
    assert len(s) <= 3000 and s.endswith("…") and not s[:-1].endswith(("&", "&a", "&am", "&amp"))


def test_render_many_buttons_options_and_long_labels_stay_within_limits():
    buttons = Buttons(tuple(Button("Button with a very long label " * 4, Action(f"/b {i}")) for i in range(30)))
    select = Select("Pick one of these many customers " * 10,
                    tuple(Option(f"Customer {i} " * 10, Action(f"/c {i}"), "desc " * 30) for i in range(250)))
    fields = Fields(tuple((f"key {i}", "v" * (i * 100)) for i in range(25)))
    msg = render.message(Reply(views=(buttons, select, fields)), sign=sign, lang="en")
    assert message_problems(msg) == []
    actions = [b for b in msg["blocks"] if b["type"] == "actions"]
    assert [len(b["elements"]) for b in actions] == [25, 5, 3]
    assert sum(len(e["options"]) for e in actions[2]["elements"]) == 250


def test_render_buttons_carry_signed_values_and_unique_action_ids():
    reply = Reply(views=(Buttons((Button("A", Action("/a")), Button("B", Action("/b"), "danger"))),
                         ListPage("L", (ListItem("x", buttons=(Button("C", Action("/c")),)),))))
    blocks = render.blocks_of(reply, sign=lambda a: "signed:" + a.cmd, lang="en")
    els = blocks[0]["elements"]
    assert [e["value"] for e in els] == ["signed:/a", "signed:/b"]
    assert els[1]["style"] == "danger"
    ids = [e["action_id"] for e in els] + [blocks[2]["accessory"]["action_id"]]
    assert len(set(ids)) == 3 and all(i.startswith("crm_btn_") for i in ids)


def test_render_list_page_navigation_and_empty_list():
    page = ListPage("T", (), page=2, pages=3, total=25, prev=Action("/x p1"), next=Action("/x p3"),
                    empty_text="nothing")
    blocks = render.blocks_of(Reply(views=(page,)), sign=sign, lang="en")
    assert blocks[1]["elements"][0]["text"] == "nothing"
    assert [e["value"] for e in blocks[-1]["elements"]] == ["/x p1", "/x p3"]


def test_render_form_modal_keeps_view_limits():
    form = Form("t", "A title much longer than twenty-four characters", "Submit it now please!!!!!!", (
        FormField("name", "Name " * 500, value="v" * 50, max_length=10, hint="h" * 3000),
        FormField("pick", "Pick", choices=tuple((f"choice {i}", f"c{i}") for i in range(5)), value="c3"),
        FormField("many", "Many", choices=tuple((f"choice {i}", f"c{i}") for i in range(150))),
        FormField("note", "Note", optional=True, multiline=True, max_length=9000),
    ))
    view = surfaces.form_modal(form, channel="C1", lang="en")
    assert view_problems(view) == []
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["pick"]["element"]["initial_option"]["value"] == "c3"
    assert blocks["many"]["element"]["type"] == "plain_text_input"
    assert blocks["note"]["optional"] is True and blocks["note"]["element"]["multiline"] is True
    assert surfaces.read_metadata(view["private_metadata"]) == {"d": "t", "c": "C1", "s": ""}


def test_render_form_values_reads_text_and_selects():
    state = {"name": {"v": {"type": "plain_text_input", "value": "Acme & <Co>"}},
             "pick": {"v": {"type": "static_select", "selected_option": {"value": "c1"}}},
             "note": {"v": {"type": "plain_text_input", "value": None}},
             "none": {"v": {"type": "static_select", "selected_option": None}}}
    assert surfaces.form_values(state) == {"name": "Acme & <Co>", "pick": "c1", "note": "", "none": ""}


def test_render_home_view_fits_100_blocks():
    store = Store()
    sections = [cmd_big(None, ""), Reply(views=(Text("second"),))]  # type: ignore[arg-type]
    view = surfaces.home_view(sections, sign=sign, lang="en", stash=store.put)
    assert view_problems(view) == []
    assert len(view["blocks"]) <= L.BLOCKS_VIEW


def test_render_empty_texts_make_no_empty_blocks():
    reply = Reply(views=(Text(""), Text("  ", muted=True), Error(""), Fields(()), Buttons(()),
                         ListPage("", (ListItem("", buttons=(Button("", Action("/x")),)),))))
    msg = render.message(reply, sign=sign, lang="en")
    assert message_problems(msg) == []
    assert msg["text"]


def test_render_list_navigation_uses_the_cores_translated_labels():
    page = ListPage("T", (ListItem("a"),), page=1, pages=2, total=12, next=Action("/x p2"),
                    nav_text="第 1/2 页", next_label="下一页")
    blocks = render.blocks_of(Reply(views=(page,)), sign=sign, lang="en")
    assert blocks[-2]["elements"][0]["text"] == "第 1/2 页"
    assert blocks[-1]["elements"][0]["text"]["text"] == "下一页"
