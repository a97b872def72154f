"""The console transcripts in README.md and docs/*.md, replayed against the demo data so the docs stay true.

A transcript is a fenced block right after a marker line naming who types by default:

    <!-- transcript: 李娜 -->
    ```text
    > /log 南京中科 phone positive: budget 600k next: next friday 3pm
    == Follow-up logged ==
    …
    周婷> /ticket assign FW2026065 赵敏         (another speaker: staff by name…)
    南京中科> the printer jams                   (…or a customer, by name or code: `crm-bot console --customer`)
    周婷>                                        (Enter on an empty line: what arrived for them meanwhile)
    # (a day later, Tuesday 12:00)               (the clock moves on to that local time)
    ```

Each input is answered by the same console `crm-bot console` runs (`bot.console.repl`), on the demo database
generated for `NOW` (Monday 2026-11-23 10:00 in Asia/Shanghai), with the clock at `NOW` unless a `# (…)` line
moves it. Whatever follows an input up to the next input is the answer the docs show.

`python -m tests.doc_transcripts` checks every transcript and prints the differences; `--write` rewrites the
blocks with what the console answers now (review the diff: it is what readers will see).
"""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.console.repl import Terminal, customer_terminal, staff_terminal
from bot.demo_data import generate
from handlers.router import Core
from handlers.settings import DomainSettings
from storage.db import create_all, make_engine, session_scope
from storage.models import Staff

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Asia/Shanghai
MARKER = re.compile(r"^<!-- transcript: (.+?) -->$")
COMMANDS = "<!-- commands -->"  # the ``` block after it: `crm-bot …` lines a reader runs on the demo
SPEAKER = re.compile(r"^([^\s>#=•\[(][^>]{0,40}?)?> ?(.*)$")
CLOCK = re.compile(r"^# \(.*?\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) (\d{1,2}):(\d{2})\)$")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass
class Step:
    speaker: str | None  # None: a clock line
    text: str  # the input, or the clock line itself
    shown: list[str] = field(default_factory=list)  # the answer as the docs show it


@dataclass
class Transcript:
    path: Path
    line: int  # 0-based index of the block's first line (after the opening fence)
    end: int  # index of the closing fence
    speaker: str
    steps: list[Step]


def parse(path: Path) -> list[Transcript]:
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Transcript] = []
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        if not m:
            i += 1
            continue
        if i + 1 >= len(lines) or not lines[i + 1].startswith("```"):
            raise ValueError(f"{path.name}:{i + 1}: a transcript marker must be followed by a ``` block")
        start = j = i + 2
        while not lines[j].startswith("```"):
            j += 1
        out.append(Transcript(path, start, j, m.group(1), _steps(lines[start:j], m.group(1))))
        i = j + 1
    return out


def command_lines(path: Path) -> list[str]:
    """The `crm-bot …` lines of the blocks marked `<!-- commands -->` (comments after `#` dropped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for i, ln in enumerate(lines):
        if ln.strip() != COMMANDS:
            continue
        j = i + 2
        while not lines[j].strip().startswith("```"):
            cmd = lines[j].split("  #")[0].strip()
            if cmd:
                out.append(cmd)
            j += 1
    return out


def _steps(body: list[str], default: str) -> list[Step]:
    steps: list[Step] = []
    for ln in body:
        if CLOCK.match(ln):
            steps.append(Step(None, ln))
            continue
        m = SPEAKER.match(ln)
        if m and (m.group(1) is None or not m.group(1).startswith(" ")):
            steps.append(Step((m.group(1) or default).strip(), m.group(2)))
        elif steps:
            steps[-1].shown.append(ln)
        elif ln.strip():
            raise ValueError(f"a transcript must begin with an input, not {ln!r}")
    return steps


def make_demo(db: Path) -> None:
    """The demo database as `crm-bot demo` makes it, on `NOW`."""
    engine = make_engine(f"sqlite:///{db}")
    create_all(engine)
    with session_scope(engine) as s:
        generate(s, now=NOW, settings=DomainSettings(_env_file=None), channels={"console": "#service"})
    engine.dispose()  # closing the last connection checkpoints the WAL into the file


class Replay:
    """A copy of the demo database and one console per speaker."""

    def __init__(self, template: Path, db: Path) -> None:
        shutil.copyfile(template, db)
        self.settings = DomainSettings(_env_file=None)
        self.now = NOW
        self.engine = make_engine(f"sqlite:///{db}")
        with session_scope(self.engine) as s:
            self.staff = set(s.scalars(select(Staff.name)))
        self.core = Core(self.engine, self.settings, secret=b"doc-transcripts", clock=lambda: self.now)
        self.terms: dict[str, Terminal] = {}

    def terminal(self, speaker: str) -> Terminal:
        if speaker not in self.terms:
            opener = staff_terminal if speaker in self.staff else customer_terminal
            self.terms[speaker] = opener(self.core, speaker)
        return self.terms[speaker]

    def move_clock(self, line: str) -> None:
        m = CLOCK.match(line)
        tz = ZoneInfo(self.settings.default_tz)
        local = self.now.astimezone(tz)
        day = (DAYS.index(m.group(1)) - local.weekday()) % 7 or 7
        target = (local + timedelta(days=day)).replace(hour=int(m.group(2)), minute=int(m.group(3)), second=0)
        self.now = target.astimezone(UTC)

    def answer(self, step: Step) -> list[str]:
        if step.speaker is None:
            self.move_clock(step.text)
            return []
        term = self.terminal(step.speaker)
        text = term.say(step.text) if step.text.strip() else ""
        notes = term.notifications()
        shown = "\n".join(x for x in (text, notes.lstrip("\n")) if x)
        return [*shown.splitlines(), ""]

    def close(self) -> None:
        self.engine.dispose()


def _trim(lines: list[str]) -> list[str]:
    out = [ln.rstrip() for ln in lines]
    while out and not out[-1]:
        out.pop()
    return out


def check(replay: Replay, t: Transcript) -> list[str]:
    """The differences between what `t` shows and what the console answers (empty: the docs are true)."""
    problems = []
    for step in t.steps:
        got = replay.answer(step)
        if step.speaker is not None and _trim(got) != _trim(step.shown):
            who = "" if step.speaker == t.speaker else step.speaker
            problems.append(f"{t.path.name}: {who}> {step.text}\n  docs:    {_trim(step.shown)}\n  console: {_trim(got)}")
    return problems


def render(replay: Replay, t: Transcript) -> list[str]:
    """The block's lines with what the console answers now."""
    out: list[str] = []
    named = any(st.speaker not in (None, t.speaker) for st in t.steps)  # several speakers: every line says who
    for step in t.steps:
        got = replay.answer(step)
        if step.speaker is None:
            out.append(step.text)
            continue
        prefix = step.speaker if named else ""
        out.append(f"{prefix}> {step.text}".rstrip() if step.text else f"{prefix}>")
        out.extend(ln.rstrip() for ln in got)
    return _trim(out)


def main(argv: list[str]) -> int:
    import tempfile

    write = "--write" in argv
    failed = 0
    work = Path(tempfile.mkdtemp(prefix="crm-docs-"))
    make_demo(work / "template.db")
    for path in DOCS:
        blocks = parse(path)
        if not blocks:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for n, t in reversed(list(enumerate(blocks))):  # from the end: earlier line numbers stay valid
            replay = Replay(work / "template.db", work / f"{path.stem}-{n}.db")
            try:
                if write:
                    lines[t.line:t.end] = render(replay, t)
                else:
                    for p in check(replay, t):
                        failed += 1
                        print(p)
            finally:
                replay.close()
        if write:
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
