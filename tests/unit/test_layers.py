"""One direction inside handlers/: commands → dialogs → services → cards → repos → models.

Read from the source (AST), as `../shared/tools/imports.py` does: cards never reach up to services, dialogs or
commands; dialogs never import commands; repositories never import handlers; services build no `Reply`;
the sales modules hide no import inside a function; the verb table is imported by name (no importlib).
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SALES_SERVICES = ("customers", "customer_changes", "approvals", "customer_fields", "followups", "followup_owed",
                  "followup_report", "opportunities", "pool", "purchases", "staff", "audit", "service_history",
                  "sales_report", "customer_report")
SALES_MODULES = ([f"handlers/services/{m}.py" for m in SALES_SERVICES]
                 + [f"handlers/commands/{m}.py" for m in ("customers", "customers_approvals", "followups",
                                                          "followups_list", "opps", "ownership", "purchases",
                                                          "report", "staff", "export", "core", "registry",
                                                          "__init__")]
                 + [f"handlers/dialogs/{m}.py" for m in ("log_call", "opp_add", "customer_add", "customer_edit",
                                                         "engine", "buttons")]
                 + [f"handlers/{m}.py" for m in ("lookup", "reports", "exporting", "permissions", "words", "dates",
                                                 "dates_past")])


def _imports(path: Path, *, inner_only: bool = False) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = ast.walk(tree)
    if inner_only:
        funcs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        nodes = (x for f in funcs for x in ast.walk(f))
    out = []
    for node in nodes:
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return out


def test_layers_cards_import_only_downwards():
    up = ("handlers.services", "handlers.commands", "handlers.dialogs", "handlers.router")
    offenders = [(p.name, m) for p in (ROOT / "handlers" / "cards").glob("*.py") for m in _imports(p)
                 if m.startswith(up) and "tickets" not in m]  # the ticket repo: see storage/repos (service)
    assert offenders == []


SALES_DIALOGS = ("log_call", "opp_add", "customer_add", "customer_edit", "engine", "buttons")


def test_layers_dialogs_never_import_commands():
    offenders = [(d, m) for d in SALES_DIALOGS for m in _imports(ROOT / f"handlers/dialogs/{d}.py")
                 if m.startswith(("handlers.commands", "handlers.router"))]
    assert offenders == []


def test_layers_repos_never_import_handlers():
    offenders = [(p.name, m) for p in (ROOT / "storage" / "repos").glob("*.py") for m in _imports(p)
                 if m.startswith(("handlers", "bot", "scheduler"))]
    assert offenders == []


def test_layers_sales_services_build_no_reply():
    offenders = [(m, name) for m in SALES_SERVICES if (ROOT / f"handlers/services/{m}.py").exists()
                 for name in _imports(ROOT / f"handlers/services/{m}.py")
                 if name.startswith("handlers.views") or name.startswith("handlers.reports")]
    assert offenders == []


def test_layers_sales_modules_hide_no_import_in_a_function():
    offenders = [(m, name) for m in SALES_MODULES if (ROOT / m).exists() for name in _imports(ROOT / m, inner_only=True)
                 if name.split(".")[0] in ("handlers", "storage", "scheduler", "bot")]
    assert offenders == []


def test_layers_no_importlib_in_handlers_commands():
    offenders = [p.name for p in (ROOT / "handlers" / "commands").glob("*.py") if "importlib" in _imports(p)]
    assert offenders == []
