"""Slack's error boundary answers on the surface the user is looking at: the App Home and a modal too."""

# ruff: noqa: F811 - the shared fixtures are imported by name
from __future__ import annotations

import json

from handlers.i18n import t
from tests.adapters.test_db_outage import slack_down  # noqa: F401

BUSY = t("en", "err.busy")


def _shown(call) -> str:  # noqa: ANN001
    return json.dumps(call.args.get("view") or call.blocks, ensure_ascii=False)


def test_app_home_opened_while_the_database_is_down_shows_busy_in_the_home(slack_down):
    env = slack_down
    env.slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    [home] = env.fake.wait("views.publish")
    assert home.args["user_id"] == "U1" and BUSY in _shown(home)


def test_a_button_in_a_modal_while_the_database_is_down_shows_busy_in_that_modal(slack_down):
    env = slack_down
    modal = {"id": "V9", "hash": "h", "type": "modal", "callback_id": "crm_view", "private_metadata": "{}",
             "blocks": []}
    env.slack.action({"type": "button", "action_id": "crm_btn_0", "value": "token", "block_id": "b"}, user="U1",
                     channel=None, view=modal)
    [update] = env.fake.wait("views.update")
    assert update.args["view_id"] == "V9" and BUSY in _shown(update)
