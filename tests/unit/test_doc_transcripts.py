"""The console transcripts of README.md and docs/*.md are what the console answers on the demo data
(tests/doc_transcripts.py replays them; `python -m tests.doc_transcripts --write` refreshes them)."""

from __future__ import annotations

import pytest

from tests import doc_transcripts as dt

TRANSCRIPTS = [t for path in dt.DOCS for t in dt.parse(path)]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "template.db"
    dt.make_demo(db)
    return db


def test_doc_transcripts_exist_where_the_docs_show_the_demo():
    shown = {(t.path.name, t.speaker) for t in TRANSCRIPTS}
    assert {("README.md", "Emily Zhao"), ("README.md", "Dongfang"), ("service.md", "Dongfang"),
            ("sales.md", "李娜"), ("customers.md", "Kevin Liu")} <= shown


@pytest.mark.parametrize("t", TRANSCRIPTS, ids=lambda t: f"{t.path.name}:{t.line + 1}")
def test_doc_transcript_is_what_the_console_answers(t, template, tmp_path):
    replay = dt.Replay(template, tmp_path / "demo.db")
    try:
        assert dt.check(replay, t) == []
    finally:
        replay.close()


def test_doc_transcript_check_sees_a_wrong_answer(template, tmp_path):
    [t] = [
        dt.Transcript(dt.DOCS[0], 0, 0, "Emily Zhao", dt._steps(["> /customer 宏图健康", "== Nothing like this =="],
                                                                   "Emily Zhao"))]
    replay = dt.Replay(template, tmp_path / "demo.db")
    try:
        [problem] = dt.check(replay, t)
    finally:
        replay.close()
    assert "Nothing like this" in problem and "广州宏图健康科技有限公司" in problem


COMMAND_LINES = [(path.name, line) for path in dt.DOCS for line in dt.command_lines(path)]


def test_doc_command_blocks_exist():
    assert len([c for c in COMMAND_LINES if c[0] == "README.md"]) >= 4


@pytest.mark.parametrize(("doc", "line"), COMMAND_LINES, ids=[f"{d}:{c[:50]}" for d, c in COMMAND_LINES])
def test_doc_command_line_runs_on_the_demo(doc, line, template, tmp_path, monkeypatch, capsys):
    """Each `crm-bot …` line a reader is told to run works as shown (after Quick start, in the repo folder
    where `crm-bot demo` made ./data/demo.db), here with `/help` typed and then Ctrl-D."""
    import io
    import shlex
    import shutil

    from bot.cli import main

    (tmp_path / "data").mkdir()
    shutil.copyfile(template, tmp_path / "data" / "demo.db")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    words = shlex.split(line)
    while "=" in words[0] and not words[0].startswith("-"):
        name, _, value = words.pop(0).partition("=")
        monkeypatch.setenv(name, value)
    assert words[0] in ("crm-bot", ".venv/bin/crm-bot"), line
    monkeypatch.setattr("sys.stdin", io.StringIO("/help\n"))
    code = main(words[1:])
    out, err = capsys.readouterr()
    assert code == 0, f"{line}\n{err}"
    assert "» /help" in out and "console:" not in err
