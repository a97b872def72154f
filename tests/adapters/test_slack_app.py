"""The Slack app end to end: real slack-bolt in HTTP mode, signed requests, a fake Web API on loopback."""
# ruff: noqa: F811 - the shared fixtures are imported by name (tests/fakes/slack_fixtures.py)

from __future__ import annotations

import json
import time
import urllib.request

from handlers.i18n import t
from tests.fakes.slack_api import labels
from tests.fakes.slack_fixtures import slack  # noqa: F401
from tests.fakes.slack_testkit import t_count, testkit  # noqa: F401
from tests.says import lead, says


def texts(call) -> str:  # noqa: ANN001
    return json.dumps(call.blocks, ensure_ascii=False)


def test_slack_help_answers_ephemeral_in_the_users_language(slack):
    slack.staff("alice", slack_id="U1", lang="zh")
    r = slack.slack.command("/help", user="U1")
    assert r.status == 200
    call = slack.fake.wait("response_url")[0]
    assert call.args["response_type"] == "ephemeral"
    assert call.blocks[0]["text"]["text"] == t("zh", "help.title")
    assert slack.fake.problems == []


def test_slack_lang_button_switches_language(slack):
    slack.staff("alice", slack_id="U1")
    slack.slack.command("/lang", user="U1")
    first = slack.fake.wait("response_url")[0]
    assert "中文" in labels(first.blocks)
    slack.slack.press(first, "中文", user="U1")
    second = slack.fake.wait("response_url", 2)[1]
    assert t("zh", "lang.set") in texts(second)
    assert second.args["replace_original"] is False


def test_slack_unknown_user_is_told_to_ask_an_admin(slack):
    slack.slack.command("/help", user="UNKNOWN")
    call = slack.fake.wait("response_url")[0]
    assert t("en", "slack.unknown_user", user="UNKNOWN") in texts(call)
    assert "--slack-id UNKNOWN" in texts(call)  # the id the admin needs


def test_slack_bad_signature_or_old_timestamp_is_refused_and_not_processed(slack, testkit):
    slack.staff("alice", slack_id="U1")
    assert slack.slack.command("/t_count", user="U1", secret="wrong").status == 401
    assert slack.slack.command("/t_count", user="U1", timestamp=int(time.time()) - 600).status == 401
    ok = slack.slack.command("/t_help_missing", user="U1")
    assert ok.status == 200
    slack.fake.wait("response_url")
    assert t_count(slack.engine) == 0


def test_slack_payload_in_command_text_is_not_a_404(slack, testkit):
    """slack-bolt 1.30 answers 404 to a form body containing "payload"; the HTTP adapter repairs it."""
    slack.staff("alice", slack_id="U1")
    r = slack.slack.command("/t_echo", "ACME phone: payload test", user="U1")
    assert r.status == 200
    call = slack.fake.wait("response_url")[0]
    assert "ACME phone: payload test" in texts(call)


def test_slack_command_text_is_decoded_on_input_and_escaped_on_output(slack, testkit):
    slack.staff("alice", slack_id="U1")
    slack.slack.command("/t_echo", "R&amp;D &lt;!channel&gt; &lt;b&gt;", user="U1")
    call = slack.fake.wait("response_url")[0]
    section = call.blocks[0]["text"]["text"]
    assert section == "R&amp;D &lt;!channel&gt; &lt;b&gt;"  # stored as typed, escaped once on the way out
    assert call.args["text"] == "R&amp;D &lt;!channel&gt; &lt;b&gt;"


def test_slack_healthz_and_unknown_paths(slack):
    with urllib.request.urlopen(slack.server.url + "/healthz", timeout=5) as r:
        assert r.status == 200 and json.loads(r.read()) == {"ok": True}
    try:
        urllib.request.urlopen(slack.server.url + "/nope", timeout=5)
        raise AssertionError("expected 404")
    except urllib.error.HTTPError as e:
        assert e.code == 404


def test_slack_modal_dialog_with_a_field_error_then_success(slack, testkit):
    slack.staff("alice", slack_id="U1")
    slack.slack.command("/t_form", user="U1", channel="C7")
    opened = slack.fake.wait("views.open")[0]
    view = opened.args["view"]
    assert [b["block_id"] for b in view["blocks"]] == ["name", "priority", "note"]
    assert slack.fake.calls_to("response_url") == []
    bad = slack.slack.submit(opened, {"name": "X", "priority": "high"}, user="U1")
    assert bad.status == 200
    assert bad.json()["response_action"] == "errors" and set(bad.json()["errors"]) == {"name"}
    missing = slack.slack.submit(opened, {"name": "Acme", "priority": ""}, user="U1")
    assert set(missing.json()["errors"]) == {"priority"}
    good = slack.slack.submit(opened, {"name": "Acme & Co", "priority": "high", "note": "<hi>"}, user="U1")
    body = good.json()
    assert body["response_action"] == "update"
    assert "saved Acme &amp; Co high &lt;hi&gt;" in json.dumps(body["view"]["blocks"])
    assert t_count(slack.engine) == 1
    again = slack.slack.submit(opened, {"name": "Acme & Co", "priority": "high"}, user="U1")  # double submit
    assert again.status == 200 and t("en", "router.already_done") in json.dumps(again.json()["view"]["blocks"])
    assert t_count(slack.engine) == 1
    assert slack.fake.problems == []


def test_slack_button_double_click_runs_once(slack, testkit):
    slack.staff("alice", slack_id="U1")
    slack.slack.command("/t_notify", "hello", user="U1")
    slack.fake.wait("response_url")
    slack.drain()
    post = slack.fake.wait("chat.postMessage")[0]
    slack.slack.press(post, "Take", user="U1", channel="CSERVICE", action_ts="1700000100.000001")
    slack.slack.press(post, "Take", user="U1", channel="CSERVICE", action_ts="1700000100.400001")
    slack.fake.wait("chat.update")
    time.sleep(0.3)  # give a wrongly processed second click the chance to show up
    assert len(slack.fake.calls_to("chat.update")) == 1
    assert t_count(slack.engine, "t_take") == 1


def test_slack_channel_post_button_updates_the_message_in_place(slack, testkit):
    slack.staff("sam", slack_id="U2", role="supervisor")
    slack.slack.command("/t_notify", "<!channel> printer on fire", user="U2")
    slack.fake.wait("response_url")
    assert slack.drain() == 1
    post = slack.fake.wait("chat.postMessage")[0]
    assert post.args["channel"] == "CSERVICE"
    shown = post.args["text"] + json.dumps([b.get("text") for b in post.blocks])
    assert "&lt;!channel&gt; printer on fire" in shown and "<!channel>" not in shown
    slack.slack.press(post, "Take", user="U2", channel="CSERVICE")
    upd = slack.fake.wait("chat.update")[0]
    assert upd.args["channel"] == "CSERVICE" and upd.args["ts"] == post.result["ts"]
    assert "Taken by sam" in texts(upd)


def test_slack_forged_or_foreign_button_is_refused(slack, testkit):
    slack.staff("sam", slack_id="U2")
    slack.slack.command("/t_notify", "x", user="U2")
    slack.fake.wait("response_url")
    slack.drain()
    post = slack.fake.wait("chat.postMessage")[0]
    slack.slack.press(post, "Take", user="U2", channel="COTHER")  # a token copied into another channel
    call = slack.fake.wait("response_url", 2)[1]
    assert t("en", "button.invalid") in texts(call)
    assert t_count(slack.engine, "t_take") == 0


def test_slack_event_retries_are_processed_once(slack, testkit):
    slack.staff("alice", slack_id="U1")
    assert slack.slack.dm("/t_count", user="U1", event_id="Ev1").status == 200
    slack.fake.wait("chat.postMessage")
    assert slack.slack.dm("/t_count", user="U1", event_id="Ev1", retry_num=1).status == 200
    assert slack.slack.dm("/t_count", user="U1", event_id="Ev2").status == 200
    slack.fake.wait("chat.postMessage", 2)
    time.sleep(0.3)
    assert t_count(slack.engine) == 2
    assert len(slack.fake.calls_to("chat.postMessage")) == 2


def test_slack_dm_dialog_runs_step_by_step(slack, testkit):
    slack.staff("alice", slack_id="U1")
    slack.slack.dm("hi", user="U1")
    first = slack.fake.wait("chat.postMessage")[0]
    assert first.args["channel"] == "D1"
    assert t("en", "router.not_a_command") in texts(first)


def test_slack_big_reply_pages_behind_a_more_button(slack, testkit):
    slack.staff("alice", slack_id="U1")
    slack.slack.command("/t_big", user="U1")
    call = slack.fake.wait("response_url")[0]
    assert len(call.blocks) <= 50
    more = [lab for lab in labels(call.blocks) if says(lab, "slack.more")]
    assert more
    slack.slack.press(call, lead("slack.more"), user="U1")
    modal = slack.fake.wait("views.open")[0]
    assert "Customer" in texts(modal)
    assert slack.fake.problems == []


def test_slack_home_for_a_stranger(slack):
    slack.slack.event({"type": "app_home_opened", "user": "U404", "channel": "D9", "tab": "home"})
    pub = slack.fake.wait("views.publish")[0]
    assert t("en", "slack.unknown_user", user="U404") in texts(pub)


def test_slack_select_option_runs_its_command(slack, testkit):
    slack.staff("sam", slack_id="U2", role="supervisor")
    slack.slack.command("/t_pick", user="U2", channel="CSERVICE")
    first = slack.fake.wait("response_url")[0]
    assert first.blocks[0]["elements"][0]["type"] == "static_select"
    slack.slack.press(first, "Agent 2", user="U2", channel="CSERVICE")
    second = slack.fake.wait("response_url", 2)[1]
    assert "picked 2" in texts(second)


def test_slack_private_file_goes_to_the_dm_never_into_the_channel(slack, testkit, tmp_path):
    f = tmp_path / "export.xlsx"
    f.write_bytes(b"PK fake")
    slack.staff("alice", slack_id="U1")
    slack.slack.command("/t_file", str(f), user="U1", channel="C5")  # an export typed in a shared channel
    done = slack.fake.wait("files.completeUploadExternal")[0]
    assert slack.fake.wait("conversations.open")[0].args["users"] == "U1"
    assert done.args["channel_id"] == "D1"
    assert len(slack.fake.calls_to("files.completeUploadExternal")) == 1
    assert t("en", "slack.file_in_dm") in texts(slack.fake.wait("response_url")[0])


def _public_file(ctx, args):  # noqa: ANN001, ANN202
    from handlers.views import FileRef, Reply, Text

    return Reply(views=(Text("chart"),), file=FileRef(args, "chart.png", title="Chart"), public=True)


def test_slack_public_file_goes_to_the_channel_or_else_the_dm(slack, tmp_path):
    from tests.fakes.slack_testkit import registered

    f = tmp_path / "chart.png"
    f.write_bytes(b"PNG fake")
    slack.staff("alice", slack_id="U1")
    with registered({"t_pubfile": _public_file}):
        slack.slack.command("/t_pubfile", str(f), user="U1", channel="C5")
        first = slack.fake.wait("files.completeUploadExternal")[0]
        assert first.args["channel_id"] == "C5" and slack.fake.calls_to("conversations.open") == []
        slack.fake.fail("files.getUploadURLExternal", status=200, error="not_in_channel")
        slack.slack.command("/t_pubfile", str(f), user="U1", channel="C6")
        second = slack.fake.wait("files.completeUploadExternal", 2)[1]
        assert second.args["channel_id"] == "D1"


def test_slack_url_verification_answers_the_challenge(slack):
    r = slack.slack.post(json.dumps({"type": "url_verification", "challenge": "abc123", "token": "legacy"}),
                         content_type="application/json")
    assert r.status == 200 and "abc123" in r.body


def test_slack_mention_in_a_channel_answers_only_the_asker(slack, testkit):
    slack.staff("alice", slack_id="U1")
    slack.slack.event({"type": "app_mention", "user": "U1", "channel": "C3", "text": "<@UBOT> /t_echo R&amp;D",
                       "ts": "1700000000.000200"})
    call = slack.fake.wait("chat.postEphemeral")[0]
    assert call.args["channel"] == "C3" and call.args["user"] == "U1"
    assert call.args["text"] == "R&amp;D"


def _bind(env, channel: str) -> None:  # noqa: ANN001
    from sqlmodel import select

    from storage.db import session_scope
    from storage.models import ChatBinding, Contact
    from tests import factories

    with session_scope(env.engine) as s:
        c = factories.customer(s, name="Acme")
        contact = s.exec(select(Contact).where(Contact.customer_id == c.id)).one()
        s.add(ChatBinding(platform="slack", chat_ref=channel, customer_id=c.id, contact_id=contact.id, lang="en",
                          created_at=env.core.clock()))


def test_slack_customer_channel_messages_reach_the_core_and_staff_chatter_does_not(slack, testkit):
    slack.staff("ray", slack_id="U1")
    _bind(slack, "C77")
    ev = {"type": "message", "channel_type": "channel", "channel": "C77", "ts": "1700000000.000300"}
    slack.slack.event(dict(ev, user="U1", text="hi team"))  # staff: ignored
    slack.slack.event(dict(ev, user="UEXT", text="<@UBOT> hello"))  # a mention: handled as app_mention
    slack.slack.event(dict(ev, channel="C78", user="UEXT", text="hello"))  # not a customer channel: ignored
    slack.slack.event(dict(ev, user="UEXT", text="joined", subtype="channel_join"))  # not a message: ignored
    slack.slack.event(dict(ev, user="UEXT", text="/t_echo from the customer"))
    call = slack.fake.wait("chat.postMessage")[0]
    assert call.args["channel"] == "C77"
    slack.slack.event(dict(ev, user="UEXT", text="/t_echo with a screenshot", subtype="file_share"))
    assert slack.fake.wait("chat.postMessage", 2)[1].args["channel"] == "C77"  # answered like any message
    time.sleep(0.3)
    assert len(slack.fake.calls_to("chat.postMessage")) == 2


def test_slack_multi_step_modal_updates_the_view_and_the_next_step_is_processed(slack, testkit):
    slack.staff("alice", slack_id="U1")
    slack.slack.command("/t_form", "two", user="U1")
    opened = slack.fake.wait("views.open")[0]
    step1 = slack.slack.submit(opened, {"first": "x"}, user="U1").json()
    assert step1["response_action"] == "update"
    nxt = dict(step1["view"], id=opened.result["view"]["id"], hash="h-next")  # same view, new hash
    assert [b["block_id"] for b in nxt["blocks"]] == ["name", "priority", "note"]
    done = slack.slack.submit(nxt, {"name": "Acme", "priority": "low"}, user="U1").json()
    assert "saved Acme low" in json.dumps(done)
    assert t_count(slack.engine) == 1
