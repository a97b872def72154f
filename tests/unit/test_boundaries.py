"""One core, thin adapters: nothing outside bot/ imports Slack or Telegram code."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BANNED = ("slack_bolt", "slack_sdk", "telegram")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_boundaries_core_packages_never_import_platform_code():
    offenders = []
    for pkg in ("handlers", "storage", "scheduler"):
        for path in (ROOT / pkg).rglob("*.py"):
            bad = _imports(path) & set(BANNED)
            if bad:
                offenders.append((str(path.relative_to(ROOT)), sorted(bad)))
    assert offenders == []


def test_boundaries_core_packages_never_import_bot():
    offenders = [str(p.relative_to(ROOT)) for pkg in ("handlers", "storage", "scheduler")
                 for p in (ROOT / pkg).rglob("*.py") if "bot" in _imports(p)]
    assert offenders == []
