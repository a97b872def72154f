"""`/import` on Telegram: a spreadsheet sent as a document is fetched with getFile from the Bot API's file URL
(the real python-telegram-bot client against the fake), checked, and imported by the Import button, with the
message edited as the import goes; a second press imports nothing more; Cancel; files the bot refuses."""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, datetime

from sqlmodel import Session, select

from handlers.i18n import t
from storage.models import Customer, FollowUp
from tests import factories
from tests.adapters.telegram_fixtures import *  # noqa: F403
from tests.adapters.telegram_fixtures import ALICE, STRANGER
from tests.fakes.telegram_harness import running_bot
from tests.says import says

REP = 3003


def csv_bytes(n: int, encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["客户名称", "所属行业", "客户类型"])
    w.writerows([f"客户{i}", "IT", "潜在客户"] for i in range(n))
    return buf.getvalue().encode(encoding)


def plain(call) -> str:  # noqa: ANN001
    return html.unescape(call["text"].replace("<b>", "").replace("</b>", "").replace("<i>", "").replace("</i>", ""))


def add_rep(engine, lang: str = "en") -> int:  # noqa: ANN001
    with Session(engine) as s:
        rep = factories.staff(s, name="rita", role="rep", telegram_id=REP, lang=lang)
        s.commit()
        return rep.id


def customers(engine) -> dict[str, int]:  # noqa: ANN001
    with Session(engine) as s:
        return {c.name: c.owner_id for c in s.exec(select(Customer))}


def test_document_is_checked_then_imported_with_progress_and_once(tg_core, fake, tg_engine, settings) -> None:
    rep = add_rep(tg_engine)
    with running_bot(tg_core, fake):
        fake.push_document(chat_id=REP, user_id=REP, name="clients.csv", content=csv_bytes(1200, "gbk"))
        [checking] = fake.wait_sent(REP)  # a big file: its check shows how far it got, then becomes the report
        assert plain(checking) == t("en", "import.chat.checking", name="clients.csv", rows="1,000")
        [check] = fake.wait_for(lambda: fake.calls_of("editMessageText"))
        assert check["message_id"] == checking.result["message_id"]
        assert fake.calls_of("getFile") and fake.downloads
        text = plain(check)
        assert t("en", "import.chat.title", kind=t("en", "import.kind.customers"), name="clients.csv") in text and "gb18030" in text
        assert customers(tg_engine) == {}
        labels = [b["text"] for b in check.buttons]
        assert labels == [t("en", "import.btn.import", kind=t("en", "import.kind.customers"), count=1200), t("en", "import.btn.cancel")]
        fake.press(check, t("en", "import.btn.import", kind=t("en", "import.kind.customers"), count=1200))
        fake.press(check, t("en", "import.btn.import", kind=t("en", "import.kind.customers"), count=1200))  # pressed twice
        done = fake.wait_for(lambda: [c for c in fake.calls_of("editMessageText")
                                      if c.result and t("en", "import.chat.done_title", kind=t("en", "import.kind.customers"), name="clients.csv")
                                      in plain(c)])
        fake.wait_for(lambda: len(fake.calls_of("answerCallbackQuery")) == 2)
    edits = [plain(c) for c in fake.calls_of("editMessageText", message_id=check["message_id"])]
    progress = [e for e in edits if "%" in e and e.startswith("Importing")]
    assert progress[0] == t("en", "import.chat.progress", kind=t("en", "import.kind.customers"), name="clients.csv", pct=0) and len(progress) >= 2
    assert says(plain(done[0]), "import.chat.done", created=1200, updated=0, unchanged=0, skipped=0)
    assert not done[0].get("reply_markup")  # the buttons are gone with the summary
    assert len(customers(tg_engine)) == 1200 and set(customers(tg_engine).values()) == {rep}
    second = [plain(m) for m in fake.sent(REP)[1:]] + [c.get("text") or "" for c in
                                                        fake.calls_of("answerCallbackQuery")]
    assert any(says(x, "import.err.done") for x in second), second


def test_cancel_deletes_the_kept_file(tg_core, fake, tg_engine, settings) -> None:
    add_rep(tg_engine, lang="zh")
    with running_bot(tg_core, fake):
        fake.push_document(chat_id=REP, user_id=REP, name="c.xlsx.csv", content=csv_bytes(2), caption="/import")
        [check] = fake.wait_sent(REP)
        assert t("zh", "import.chat.title", kind=t("zh", "import.kind.customers"), name="c.xlsx.csv") in plain(check)
        assert len(list((tmp := __import__("pathlib").Path(settings.upload_dir)).iterdir())) == 2  # file + meta
        fake.press(check, t("zh", "import.btn.cancel"))
        edit = fake.wait_for(lambda: fake.calls_of("editMessageText"))[0]
    assert says(plain(edit), "import.chat.cancelled", lang="zh", name="c.xlsx.csv")
    assert list(tmp.iterdir()) == [] and customers(tg_engine) == {}


def test_files_the_bot_does_not_take(tg_core, fake, tg_engine, settings) -> None:
    add_rep(tg_engine)
    with running_bot(tg_core, fake):
        fake.push_document(chat_id=REP, user_id=REP, name="photo.png", content=b"\x89PNG")
        fake.push_document(chat_id=REP, user_id=REP, name="big.csv", content=b"name\nx\n", size=25 * 1024 * 1024)
        fake.push_document(chat_id=REP, user_id=REP, name="empty.csv", content=b"name,industry,type\n")
        fake.push_document(chat_id=STRANGER, user_id=STRANGER, name="c.csv", content=csv_bytes(1))
        fake.push_document(chat_id=ALICE, user_id=ALICE, name="c.csv", content=csv_bytes(1))  # a supervisor
        msgs = [plain(m) for m in fake.wait_sent(REP, 3)]
        stranger = plain(fake.wait_sent(STRANGER)[0])
        alice = plain(fake.wait_sent(ALICE)[0])
    assert says(msgs[0], "import.err.type", name="photo.png")
    assert says(msgs[1], "import.err.too_big", size="25.0", max=20)
    assert says(msgs[2], "import.err.empty", name="empty.csv")
    assert stranger == t("en", "tg.unsupported")
    assert says(alice, "err.forbidden_role", verb="import")
    assert len(fake.calls_of("getFile")) == 1 and len(fake.downloads) == 1  # only empty.csv: no png, not too big
    assert customers(tg_engine) == {}


def test_a_document_in_a_group_needs_the_import_caption(tg_core, fake, tg_engine) -> None:
    add_rep(tg_engine)
    group = -100555
    with running_bot(tg_core, fake):
        fake.push_document(chat_id=group, user_id=REP, name="c.csv", content=csv_bytes(1))
        fake.push_document(chat_id=group, user_id=REP, name="c.csv", content=csv_bytes(1), caption="/import")
        [check] = fake.wait_sent(group)
    assert t("en", "import.chat.title", kind=t("en", "import.kind.customers"), name="c.csv") in plain(check)
    assert len(fake.calls_of("getFile")) == 1


def test_a_follow_ups_file_with_its_word_as_caption(tg_core, fake, tg_engine) -> None:
    """The caption names the kind (跟进记录); the button imports follow-ups, their author and date kept."""
    rep = add_rep(tg_engine, lang="zh")
    with Session(tg_engine) as s:
        code = factories.customer(s, name="Acme", owner=s.get(factories.Staff, rep), contact=None).code
        s.commit()
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([["客户编号", "跟进日期", "跟进方式", "沟通内容", "跟进人"],
                                                    [code, "2026-03-02 15:30", "电话", "报价已发", "rita"]])
    kind = t("zh", "import.kind.followups")
    with running_bot(tg_core, fake):
        fake.push_document(chat_id=REP, user_id=REP, name="跟进.csv", content=buf.getvalue().encode("gbk"),
                           caption="跟进记录")
        [check] = fake.wait_sent(REP)
        assert t("zh", "import.chat.title", kind=kind, name="跟进.csv") in plain(check)
        assert says(plain(check), "import.chat.kind_said", lang="zh", kind=kind)
        fake.press(check, t("zh", "import.btn.import", kind=kind, count=1))
        done = fake.wait_for(lambda: [c for c in fake.calls_of("editMessageText")
                                      if t("zh", "import.chat.done_title", kind=kind, name="跟进.csv") in plain(c)])
    assert says(plain(done[0]), "import.chat.done", lang="zh", kind=kind, created=1, updated=0, unchanged=0, skipped=0)
    with Session(tg_engine) as s:
        [fu] = s.exec(select(FollowUp)).all()
        assert (fu.staff_id, fu.date.replace(tzinfo=UTC)) == (rep, datetime(2026, 3, 2, 7, 30, tzinfo=UTC))
