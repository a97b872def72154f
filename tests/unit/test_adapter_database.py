"""Adapters go through the core for every database touch: the chat adapters import no SQL, no table and no
session; who is writing, dialog starts and stored payloads are the core's (`Core.actor`, `Core.start_dialog`,
`Core.keep`)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = ("bot/slack", "bot/telegram", "bot/console")
BANNED = ("sqlalchemy", "sqlmodel", "storage.models", "storage.repos", "storage.db.session_scope",
          "handlers.router.first_delivery", "handlers.router.find_staff")


def _imported(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def test_chat_adapters_never_read_the_database_themselves():
    offenders = []
    for folder in ADAPTERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            bad = {name for name in _imported(path) for b in BANNED if name == b or name.startswith(b + ".")}
            if bad:
                offenders.append((str(path.relative_to(ROOT)), sorted(bad)))
    assert offenders == []
