"""The service desk's modules keep the one direction commands → dialogs → services → cards → repos → models:
no import inside a function, cards never reach services or commands, services never reach dialogs or commands,
repos never reach handlers, and no service returns a `Reply` (issue 11)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["handlers/services/" + m for m in (
    "tickets.py", "ticket_assign.py", "ticket_notify.py", "sla.py", "sla_clocks.py", "ratings.py", "reviews.py",
    "invites.py")]
CARDS = ["handlers/cards/tickets.py", "handlers/cards/service.py", "handlers/cards/reminders.py"]
DIALOGS = ["handlers/dialogs/ticket_new.py", "handlers/dialogs/rating.py"]
COMMANDS = ["handlers/commands/tickets.py", "handlers/commands/customer_chat.py"]
REPOS = ["storage/repos/tickets.py", "storage/repos/service.py", "storage/repos/reminders.py"]
JOBS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "scheduler").rglob("*.py"))
ALL = SERVICES + CARDS + DIALOGS + COMMANDS + REPOS + JOBS
BANNED = {
    "handlers/cards/": ("handlers.services", "handlers.commands", "handlers.dialogs", "scheduler"),
    "handlers/services/": ("handlers.commands", "handlers.dialogs", "scheduler"),
    "handlers/dialogs/": ("handlers.commands", "scheduler"),
    "storage/repos/": ("handlers", "scheduler", "bot"),
    "scheduler/": ("bot",),
}


def _tree(path: str) -> ast.Module:
    return ast.parse((ROOT / path).read_text(encoding="utf-8"), path)


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]


def _names(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    return [f"{node.module}.{a.name}" for a in node.names]


@pytest.mark.parametrize("path", ALL)
def test_service_layers_no_import_inside_a_function(path):
    tree = _tree(path)
    inner = [n.lineno for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
             for n in _imports(f)]
    assert inner == [], f"{path}: imports inside functions at lines {inner}"
    assert "importlib" not in (ROOT / path).read_text(encoding="utf-8")


@pytest.mark.parametrize("path", ALL)
def test_service_layers_imports_point_one_way(path):
    banned = next((b for prefix, b in BANNED.items() if path.startswith(prefix)), ())
    wrong = [name for n in _imports(_tree(path)) for name in _names(n) if name.startswith(banned)] if banned else []
    assert wrong == [], f"{path} imports against the direction: {wrong}"


@pytest.mark.parametrize("path", SERVICES)
def test_service_layers_services_return_no_reply(path):
    tree = _tree(path)
    returning = [f.name for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and f.returns is not None and "Reply" in ast.unparse(f.returns)]
    assert returning == [], f"{path}: {returning} return a Reply"
    assert not any("handlers.views" in name for n in _imports(tree) for name in _names(n)), path
