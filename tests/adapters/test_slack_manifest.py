"""The Slack app manifest (validated against the fields Slack documents) and the Slack CLI."""

from __future__ import annotations

import re

import pytest
import yaml

from bot import cli
from bot.slack import listeners
from bot.slack.cli import manifest_text
from handlers import commands as registry
from handlers.commands import VERBS

# The manifest schema v1 (github.com/slackapi/manifest-schema, schemas/manifest.schema.1.0.0.json): allowed keys
# and length limits of the parts this app uses.
KEYS = {
    "": {"_metadata", "display_information", "features", "oauth_config", "settings"},
    "display_information": {"name", "description", "background_color", "long_description"},
    "features": {"app_home", "bot_user", "shortcuts", "slash_commands", "unfurl_domains"},
    "app_home": {"home_tab_enabled", "messages_tab_enabled", "messages_tab_read_only_enabled"},
    "bot_user": {"display_name", "always_online"},
    "shortcut": {"name", "type", "callback_id", "description"},
    "slash_command": {"command", "url", "description", "usage_hint", "should_escape"},
    "settings": {"event_subscriptions", "interactivity", "org_deploy_enabled", "socket_mode_enabled",
                 "token_rotation_enabled", "allowed_ip_address_ranges"},
    "event_subscriptions": {"request_url", "bot_events", "user_events"},
    "interactivity": {"is_enabled", "request_url", "message_menu_options_url"},
}
URL = re.compile(r"^https?://")


def between(s: str, lo: int, hi: int) -> bool:
    return isinstance(s, str) and lo <= len(s) <= hi


def check(m: dict) -> list[str]:  # noqa: C901 - one flat list of the documented rules
    p: list[str] = []

    def keys(obj: dict, kind: str) -> None:
        extra = set(obj) - KEYS[kind]
        if extra:
            p.append(f"{kind}: unknown keys {sorted(extra)}")

    keys(m, "")
    di = m["display_information"]
    keys(di, "display_information")
    if not between(di["name"], 1, 35) or not between(di.get("description", "x"), 1, 140):
        p.append("display_information: name 1-35, description 1-140")
    if not re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", di.get("background_color", "#fff")):
        p.append("background_color")
    f = m["features"]
    keys(f, "features")
    keys(f["app_home"], "app_home")
    keys(f["bot_user"], "bot_user")
    if not between(f["bot_user"]["display_name"], 1, 80):
        p.append("bot_user.display_name 1-80")
    if not 1 <= len(f["shortcuts"]) <= 10:
        p.append("shortcuts: 1-10")
    for s in f["shortcuts"]:
        keys(s, "shortcut")
        if not (between(s["name"], 1, 24) and s["type"] in ("message", "global") and between(s["callback_id"], 1, 255)
                and between(s["description"], 1, 150)):
            p.append(f"shortcut {s}")
    cmds = f["slash_commands"]
    if not 1 <= len(cmds) <= 50 or len({c["command"] for c in cmds}) != len(cmds):
        p.append("slash_commands: 1-50, unique")
    for c in cmds:
        keys(c, "slash_command")
        if not (between(c["command"], 2, 32) and c["command"].startswith("/") and between(c["description"], 1, 2000)
                and between(c.get("usage_hint", "x"), 1, 1000) and isinstance(c.get("should_escape", False), bool)):
            p.append(f"slash command {c['command']}")
        if "url" in c and not (URL.match(c["url"]) and len(c["url"]) <= 3000):
            p.append(f"slash command url {c['command']}")
    for scope in m["oauth_config"]["scopes"]["bot"]:
        if not between(scope, 1, 50):
            p.append(f"scope {scope}")
    st = m["settings"]
    keys(st, "settings")
    keys(st["event_subscriptions"], "event_subscriptions")
    keys(st["interactivity"], "interactivity")
    for url in (st["event_subscriptions"].get("request_url"), st["interactivity"].get("request_url")):
        if url is not None and not URL.match(url):
            p.append(f"request_url {url}")
    return p


def test_slack_manifest_validates_and_declares_every_verb_and_the_shortcut():
    m = yaml.safe_load(manifest_text("https://crm.example.com"))
    assert check(m) == []
    commands = {c["command"] for c in m["features"]["slash_commands"]}
    registry.load_all()
    visible = {"/" + v for v, c in registry.COMMANDS.items() if not c.hidden and c.func.__module__.startswith("handlers.")}
    assert visible <= commands, "a verb the core offers has no slash command"
    assert {c for c in commands if registry.lookup(c[1:]) is None} == set(), "a slash command no verb answers"
    assert {"/" + v for v in VERBS if registry.lookup(v)} <= commands
    assert [s["callback_id"] for s in m["features"]["shortcuts"]] == [listeners.SHORTCUT_CALLBACK]
    assert m["features"]["app_home"]["home_tab_enabled"] is True
    assert m["settings"]["interactivity"]["is_enabled"] is True
    assert {"app_home_opened", "message.im"} <= set(m["settings"]["event_subscriptions"]["bot_events"])
    assert {"commands", "chat:write", "im:history"} <= set(m["oauth_config"]["scopes"]["bot"])
    urls = {c["url"] for c in m["features"]["slash_commands"]}
    assert urls == {"https://crm.example.com/slack/events"}
    assert m["settings"]["interactivity"]["request_url"] == "https://crm.example.com/slack/events"


def test_slack_manifest_for_socket_mode_has_no_urls():
    m = yaml.safe_load(manifest_text(None))
    assert check(m) == []
    assert m["settings"]["socket_mode_enabled"] is True
    assert all("url" not in c for c in m["features"]["slash_commands"])


def test_slack_cli_manifest_prints_the_url(capsys):
    assert cli.main(["slack", "manifest", "--url", "https://crm.example.com/slack/events"]) == 0
    out = capsys.readouterr().out
    assert "https://crm.example.com/slack/events" in out and "HOST" not in out
    assert cli.main(["slack", "manifest", "--url", "crm.example.com"]) == 2


@pytest.mark.parametrize("url", ["http://crm.example.com", "HTTP://crm.example.com/slack/events", "ftp://x",
                                 "https://", "https://crm.example.com/#frag", "crm.example.com"])
def test_slack_cli_manifest_requires_an_https_url(capsys, url):
    assert cli.main(["slack", "manifest", "--url", url]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "https://" in captured.err


@pytest.mark.parametrize(("url", "events"), [
    ("https://crm.example.com", "https://crm.example.com/slack/events"),
    ("https://crm.example.com/", "https://crm.example.com/slack/events"),
    ("https://crm.example.com/slack/events", "https://crm.example.com/slack/events"),
    ("https://h.example.com/crm?tenant=acme", "https://h.example.com/crm/slack/events?tenant=acme"),
    ("https://h.example.com:8443/?k=v&x=1", "https://h.example.com:8443/slack/events?k=v&x=1"),
])
def test_slack_cli_manifest_appends_the_events_path_to_the_path(capsys, url, events):
    assert cli.main(["slack", "manifest", "--url", url]) == 0
    m = yaml.safe_load(capsys.readouterr().out)
    assert m["settings"]["interactivity"]["request_url"] == events
    assert {c["url"] for c in m["features"]["slash_commands"]} == {events}


def test_slack_cli_run_without_tokens_says_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/crm.db")
    for var in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    assert cli.main(["run", "slack"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "SLACK_BOT_TOKEN" in err
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    assert cli.main(["run", "slack", "--http"]) == 2
    assert "SLACK_SIGNING_SECRET" in capsys.readouterr().err
    assert cli.main(["run", "slack"]) == 2
    assert "SLACK_APP_TOKEN" in capsys.readouterr().err


def test_slack_cli_run_with_an_unreachable_api_says_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/crm.db")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")
    assert cli.main(["run", "slack", "--http", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("crm-bot: slack: cannot connect") and "\n" not in err


def test_slack_cli_run_parser_is_shared_with_other_platforms():
    import argparse

    from bot.slack.cli import register

    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    run = sub.add_parser("run")
    rs = run.add_subparsers(dest="platform")
    rs.add_parser("telegram")
    register(sub)
    assert p.parse_args(["run", "slack", "--http", "--port", "8080"]).port == 8080
    assert p.parse_args(["run", "telegram"]).platform == "telegram"


@pytest.mark.parametrize("url", ["https://a.example", "https://a.example/", "https://a.example/slack/events"])
def test_slack_manifest_url_forms(url):
    assert "https://a.example/slack/events\n" in manifest_text(url)
