"""The import direction is org <- budgets <- renewals <- contracts: an app never imports one to
its right (config/ is the shared ground every app may use)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["org", "budgets", "renewals", "contracts"]


def test_apps_import_only_leftwards() -> None:
    wrong = []
    for position, app in enumerate(ORDER):
        forbidden = set(ORDER[position + 1 :])
        for path in (ROOT / app).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names = [node.module]
                for name in names:
                    if name.split(".")[0] in forbidden:
                        line = getattr(node, "lineno", 0)
                        wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not wrong, wrong
