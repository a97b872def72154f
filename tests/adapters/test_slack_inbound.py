"""Slack payloads → Inbound: decoding, renamed commands, scopes, form values, mentions."""

from __future__ import annotations

from bot.slack import inbound as inb
from bot.slack.flows import MENTION
from bot.slack.limits import escape, unescape


def test_inbound_command_is_decoded_and_renamed_commands_map_to_verbs():
    i = inb.from_command({"command": "/crm-log", "text": "ACME phone: R&amp;D &lt;2 weeks&gt;", "user_id": "U1",
                          "channel_id": "C1", "trigger_id": "t"})
    assert i.text == "/log ACME phone: R&D <2 weeks>"
    assert i.scopes == ("c:C1", "u:U1") and i.surface == "form" and i.is_group
    assert inb.from_command({"command": "/help", "text": "", "user_id": "U1", "channel_id": "D1"}).is_group is False


def test_inbound_escape_roundtrip_keeps_what_the_user_typed():
    typed = "a & b < c > d &amp; <@U1>"
    assert unescape(escape(typed)) == typed


def test_inbound_action_from_the_home_has_only_the_user_scope():
    body = {"user": {"id": "U1"}, "container": {"type": "view", "view_id": "V1"}, "view": {"type": "home"}}
    i = inb.from_action(body, {"type": "button", "value": "tok"})
    assert i.scopes == ("u:U1",) and i.chat_ref == "U1" and i.token == "tok"


def test_inbound_select_value_and_modal_channel_from_metadata():
    body = {"user": {"id": "U1"}, "container": {"type": "view"},
            "view": {"type": "modal", "private_metadata": '{"d": "", "c": "C9"}'}}
    i = inb.from_action(body, {"type": "static_select", "selected_option": {"value": "tok2"}})
    assert i.token == "tok2" and i.scopes == ("c:C9", "u:U1")


def test_inbound_submission_carries_dialog_channel_and_a_dedupe_key():
    body = {"user": {"id": "U1"}, "view": {"id": "V7", "hash": "h1", "private_metadata": '{"d": "t_dialog", "c": "C2"}',
                                            "state": {"values": {"name": {"v": {"type": "plain_text_input",
                                                                                "value": "A&B"}}}}}}
    i = inb.from_submission(body)
    assert (i.dialog, i.chat_ref, i.form, i.update_key) == ("t_dialog", "C2", {"name": "A&B"}, "view:V7:h1")


def test_inbound_mention_prefix_is_stripped():
    assert MENTION.sub("", "<@UBOT> /help", count=1).strip() == "/help"
    assert MENTION.sub("", "<@UBOT|crm>: yes", count=1).strip() == "yes"
