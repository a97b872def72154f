"""Every verb the core registers, typed as a Slack slash command with realistic arguments by a staff member
allowed to use it: signed request → 200 → an answer (ephemeral message or modal) that Slack accepts (the fake
checks every Block Kit limit) and that is not an error. A verb added without a case here fails the test."""
# ruff: noqa: F811 - the shared fixtures are imported by name (tests/fakes/slack_fixtures.py)

from __future__ import annotations

import json

from handlers import commands
from storage.db import session_scope
from tests import factories as f
from tests.fakes.slack_fixtures import slack  # noqa: F401

# verb → [(user, args, outcome)]; outcome: "msg" an answer in the channel, "modal" a form opens
CASES = {
    "help": [("URAY", "", "msg"), ("URAY", "log", "msg")],
    "lang": [("URAY", "", "msg"), ("URAY", "zh", "msg"), ("URAY", "en", "msg")],
    "customer": [("URAY", "{acme}", "msg"), ("URAY", "Acme", "msg"), ("URAY", "add", "modal"),
                 ("URAY", "edit {acme} phone=13800000000", "msg")],
    "log": [("URAY", "{acme} phone positive: budget &amp; &lt;@channel&gt; payload next: tomorrow 3pm", "msg"),
            ("URAY", "", "modal")],
    "followups": [("URAY", "", "msg")],
    "history": [("URAY", "{acme}", "msg")],
    "opp": [("URAY", "add {acme} Renewal amount=50000 close=2026-12-20", "msg"), ("URAY", "list mine", "msg"),
            ("URAY", "{acme}OP01", "msg"), ("URAY", "stage {acme}OP01 needs analysis done", "msg"),
            ("URAY", "add", "modal")],
    "purchase": [("URAY", "{acme} 12000 Cloud licences", "msg")],
    "pool": [("URAY", "", "msg")],
    "claim": [("URAY", "{pooled}", "msg")],
    "staff": [("UADM", "", "msg"), ("URAY", "ray", "msg"), ("UADM", "invite ray", "msg"),
              ("UADM", "edit ray tz=Europe/Berlin", "msg")],
    "setup": [("UADM", "", "msg")],
    "settings": [("URAY", "", "msg"), ("URAY", "tz=Asia/Shanghai reminder=08:30 notify=slack", "msg")],
    "approvals": [("UMAN", "", "msg"), ("UADM", "", "msg")],
    "export": [("UMAN", "customers", "msg")],
    "import": [("URAY", "", "msg")],  # where to upload the file; the upload itself: test_slack_import.py
    "report": [("UMAN", "", "msg"), ("UMAN", "pipeline", "msg"), ("UMAN", "followups", "msg"),
               ("USUE", "sla", "msg"), ("USUE", "csat", "msg")],
    "ticket": [("URAY", "new {acme} complaint high: login fails for everyone", "msg"), ("URAY", "new", "modal"),
               ("USUE", "FW2026001", "msg")],
    "tickets": [("URAY", "", "msg"), ("UALAN", "mine", "msg"), ("USUE", "unassigned", "msg"),
                ("USUE", "breaching", "msg")],
    "cancel": [("URAY", "", "msg")],
    "start": [("URAY", "", "msg")],
    "handover": [("UMAN", "ray bob", "msg")],  # last: it moves ray's customers to bob
}
# button-only verbs, covered where their buttons appear
BUTTON_ONLY = {"rate": "test_slack_service_flow.py (the rating buttons in the customer's channel)",
               "nudge": "tests/unit/test_jobs_manager.py (Remind, in a manager's team alert)",
               "keep": "tests/unit/test_pool_warning.py (Keep, in the warning before the pool return)"}


def test_every_registered_verb_has_a_case():
    commands.load_all()
    real = {v for v, c in commands.COMMANDS.items() if c.func.__module__.startswith("handlers.")}  # no test verbs
    assert real == set(CASES) | set(BUTTON_ONLY)


def test_every_verb_works_as_a_slash_command(slack):
    with session_scope(slack.engine) as s:
        man = f.staff(s, name="mia", role="manager", slack_id="UMAN")
        ray = f.staff(s, name="ray", role="rep", manager=man, slack_id="URAY")
        f.staff(s, name="bob", role="rep", manager=man, slack_id="UBOB")
        f.staff(s, name="ada", role="admin", team=None, slack_id="UADM")
        f.staff(s, name="sue", role="supervisor", team="service", slack_id="USUE")
        f.staff(s, name="alan", role="agent", team="service", slack_id="UALAN")
        codes = {"acme": f.customer(s, name="Acme Cloud", owner=ray).code,
                 "pooled": f.customer(s, name="Pooled Ltd", owner=None).code}
    failures = []
    for verb, cases in CASES.items():
        for user, args, outcome in cases:
            n = {m: len(slack.fake.calls_to(m)) for m in ("response_url", "views.open")}
            text = args.format(**codes)
            r = slack.slack.command(f"/{verb}", text, user=user, channel="CWORK")
            method = "response_url" if outcome == "msg" else "views.open"
            call = slack.fake.wait(method, n[method] + 1)[-1]
            shown = json.dumps(call.blocks, ensure_ascii=False) + call.args.get("text", "")
            if r.status != 200 or ":warning:" in shown or "Traceback" in shown:
                failures.append(f"/{verb} {text} ({user}): {r.status} {shown[:300]}")
            if outcome == "msg" and call.args.get("response_type") != "ephemeral":
                failures.append(f"/{verb} {text}: not ephemeral")
            if "<@channel>" in shown or "<test>" in shown:
                failures.append(f"/{verb} {text}: user text not escaped")
    assert failures == []
    assert slack.fake.problems == []
