"""`/import` on Slack, through signed requests and the fake Web API: a spreadsheet uploaded in the DM with the
bot is fetched (files.info, then url_private_download with the bot token), checked, and imported by the Import
button, the message updated with progress (chat.update) and the summary; a second press imports nothing more;
Cancel; what the bot refuses."""
# ruff: noqa: F811 - the shared fixtures are imported by name (tests/fakes/slack_fixtures.py)

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

from sqlmodel import select

from handlers.i18n import t
from storage.db import session_scope
from storage.models import Customer
from tests import factories as f
from tests.fakes.slack_api import TOKEN, FakeSlack, find_element
from tests.fakes.slack_fixtures import slack  # noqa: F401
from tests.says import says


def csv_bytes(n: int, encoding: str = "utf-8-sig", prefix: str = "Firm") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["name", "industry", "type", "phone"])
    w.writerows([f"{prefix} {i}", "IT", "intent", ""] for i in range(n))
    return buf.getvalue().encode(encoding)


def text_of(call) -> str:  # noqa: ANN001
    return json.dumps(call.blocks, ensure_ascii=False) + (call.args.get("text") or "")


def customers(engine) -> dict[str, int]:  # noqa: ANN001
    with session_scope(engine) as s:
        return {c.name: c.owner_id for c in s.scalars(select(Customer))}


def test_dm_upload_is_checked_then_imported_once_with_progress(slack):
    ray = slack.staff("ray", slack_id="URAY")
    file = slack.fake.add_file("leads.csv", csv_bytes(1200))
    assert slack.slack.share_file(file, "import", user="URAY", channel="DRAY").status == 200
    [checking] = slack.fake.wait("chat.postMessage")  # a big file: its check shows how far it got
    assert says(text_of(checking), "import.chat.checking", name="leads.csv", rows="1,000")
    [check] = slack.fake.wait("chat.update")  # … and becomes the report
    assert (check.args["channel"], check.args["ts"]) == ("DRAY", checking.result["ts"])
    check.result["ts"], check.result["channel"] = checking.result["ts"], "DRAY"
    assert slack.fake.last("files.info").args["file"] == file["id"]
    assert slack.fake.downloads == [(f"/files-pri/T1-{file['id']}/download/leads.csv", f"Bearer {TOKEN}")]
    assert slack.fake.calls_to("files.info")[0].headers["authorization"] == f"Bearer {TOKEN}"
    shown = text_of(check)
    assert t("en", "import.chat.title", kind=t("en", "import.kind.customers"), name="leads.csv") in shown and "utf-8-sig" in shown
    assert customers(slack.engine) == {}
    button = find_element(check.blocks, t("en", "import.btn.import", kind=t("en", "import.kind.customers"), count=1200))
    assert slack.slack.action(button, user="URAY", channel="DRAY", message=check).status == 200
    deadline = time.monotonic() + 60
    while not any(t("en", "import.chat.done_title", kind=t("en", "import.kind.customers"), name="leads.csv") in text_of(c)
                  for c in slack.fake.calls_to("chat.update")) and time.monotonic() < deadline:
        time.sleep(0.05)
    done = slack.fake.calls_to("chat.update")[1:]
    assert {(c.args["channel"], c.args["ts"]) for c in done} == {("DRAY", check.result["ts"])}
    assert t("en", "import.chat.progress", kind=t("en", "import.kind.customers"), name="leads.csv", pct=0) in text_of(done[0])
    assert says(text_of(done[-1]), "import.chat.done", created=1200, updated=0, unchanged=0, skipped=0)
    assert "actions" not in {b["type"] for b in done[-1].blocks}  # the buttons went with the summary
    assert len(customers(slack.engine)) == 1200 and set(customers(slack.engine).values()) == {ray.id}
    # pressed again later (not a double click the click guard drops): nothing more is imported
    slack.slack.action(button, user="URAY", channel="DRAY", message=check, action_ts=f"{time.time() + 10:.6f}")
    answer = slack.fake.wait("response_url")[0]
    assert says(text_of(answer), "import.err.done")
    assert len(customers(slack.engine)) == 1200
    assert slack.fake.problems == []


def test_cancel_deletes_the_file_and_a_forged_button_is_refused(slack, settings):
    slack.staff("ray", slack_id="URAY", lang="zh")
    slack.staff("eve", slack_id="UEVE")
    file = slack.fake.add_file("客户.csv", csv_bytes(3, "gbk", prefix="云栖"))
    slack.slack.share_file(file, user="URAY", channel="DRAY")
    [check] = slack.fake.wait("chat.postMessage")
    assert "gb18030" in text_of(check)
    kept = Path(settings.upload_dir)
    assert len(list(kept.iterdir())) == 2
    forged = dict(find_element(check.blocks, t("zh", "import.btn.import", kind=t("zh", "import.kind.customers"), count=3)))
    forged["value"] = forged["value"].replace("|", "x|", 1)
    slack.slack.action(forged, user="URAY", channel="DRAY", message=check)
    assert says(text_of(slack.fake.wait("response_url")[0]), "button.invalid", lang="zh")
    # eve copies the button into her own DM: a token signed for ray's DM fails there
    slack.slack.action(find_element(check.blocks, t("zh", "import.btn.import", kind=t("zh", "import.kind.customers"), count=3)), user="UEVE",
                       channel="DEVE", message=check)
    assert says(text_of(slack.fake.wait("response_url", 2)[1]), "button.invalid")
    slack.slack.action(find_element(check.blocks, t("zh", "import.btn.cancel")), user="URAY", channel="DRAY",
                       message=check)
    [cancelled] = slack.fake.wait("chat.update")
    assert says(text_of(cancelled), "import.chat.cancelled", lang="zh", name="客户.csv")
    assert list(kept.iterdir()) == [] and customers(slack.engine) == {}


def test_slash_import_says_where_to_upload_and_refusals(slack, settings):
    slack.staff("ray", slack_id="URAY")
    slack.slack.command("/import", "", user="URAY")
    assert says(text_of(slack.fake.wait("response_url")[0]), "import.chat.how_slack", max=20)
    pdf = slack.fake.add_file("deck.pdf", b"%PDF-1.4")
    big = slack.fake.add_file("big.csv", b"name\nx\n", size=(settings.import_max_mb + 5) << 20)
    slack.slack.share_file(pdf, user="URAY", channel="DRAY")
    slack.slack.share_file(big, user="URAY", channel="DRAY")
    posts = [text_of(c) for c in slack.fake.wait("chat.postMessage", 2)]
    assert any(says(x, "import.err.type", name="deck.pdf") for x in posts)
    assert any(says(x, "import.err.too_big", size=f"{settings.import_max_mb + 5:.1f}", max=settings.import_max_mb)
               for x in posts)
    assert slack.fake.downloads == []  # neither fetched: not a spreadsheet, too big


def test_a_strangers_file_is_not_fetched(slack):
    file = slack.fake.add_file("c.csv", csv_bytes(1))
    slack.slack.share_file(file, "import", user="UNOBODY", channel="DNOBODY")
    [answer] = slack.fake.wait("chat.postMessage")
    assert says(text_of(answer), "slack.unknown_user", user="UNOBODY")
    assert slack.fake.downloads == [] and slack.fake.calls_to("files.info") == []


def test_the_download_url_must_be_slacks(slack):
    """A file object pointing at another host never gets the bot token."""
    slack.staff("ray", slack_id="URAY")
    elsewhere = FakeSlack(TOKEN).start()
    try:
        file = slack.fake.add_file("c.csv", csv_bytes(1))
        file["url_private_download"] = f"{elsewhere.url}/files-pri/T1-{file['id']}/download/c.csv"
        slack.slack.share_file(file, user="URAY", channel="DRAY")
        [answer] = slack.fake.wait("chat.postMessage")
    finally:
        elsewhere.stop()
    assert says(text_of(answer), "import.err.download", name="c.csv")
    assert elsewhere.downloads == [] and slack.fake.downloads == []


def test_a_manager_imports_for_a_rep_of_the_team(slack):
    with session_scope(slack.engine) as s:
        mia = f.staff(s, name="mia", role="manager", slack_id="UMIA", team="east")
        rita = f.staff(s, name="rita", role="rep", slack_id="URITA", team="east", manager=mia)
        rita_id = rita.id
    file = slack.fake.add_file("c.csv", csv_bytes(2))
    slack.slack.share_file(file, "import owner:rita", user="UMIA", channel="DMIA")
    [check] = slack.fake.wait("chat.postMessage")
    assert says(text_of(check), "import.chat.owner", name="rita")
    slack.slack.action(find_element(check.blocks, t("en", "import.btn.import", kind=t("en", "import.kind.customers"), count=2)), user="UMIA",
                       channel="DMIA", message=check)
    deadline = time.monotonic() + 30
    while len(customers(slack.engine)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(customers(slack.engine).values()) == {rita_id}


def test_a_file_in_a_channel_message_mentioning_the_bot_is_answered_to_the_sender_only(slack):
    slack.staff("ray", slack_id="URAY")
    file = slack.fake.add_file("c.csv", csv_bytes(2))
    slack.slack.event({"type": "app_mention", "user": "URAY", "channel": "C1", "text": "<@UBOT> import",
                       "files": [{"id": file["id"], "name": "c.csv"}], "ts": f"{time.time():.6f}"})
    [check] = slack.fake.wait("chat.postEphemeral")
    assert check.args["user"] == "URAY" and t("en", "import.chat.title", kind=t("en", "import.kind.customers"), name="c.csv") in text_of(check)
    slack.slack.action(find_element(check.blocks, t("en", "import.btn.import", kind=t("en", "import.kind.customers"), count=2)), user="URAY",
                       channel="C1", message=check, ephemeral=True)
    deadline = time.monotonic() + 30
    while not any(says(text_of(c), "import.chat.done_title", name="c.csv") for c in slack.fake.calls_to("response_url")) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    posts = slack.fake.calls_to("response_url")
    assert all(c.args.get("replace_original") for c in posts) and len(posts) <= 5
    assert says(text_of(posts[0]), "import.chat.progress", name="c.csv", pct=0)
    assert len(customers(slack.engine)) == 2
    assert slack.fake.calls_to("chat.postMessage") == []  # nothing in the channel for everyone
