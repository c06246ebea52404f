"""The shape of the code, enforced (docs/architecture.md draws it).

- Apps import only leftwards: core < org < budgets < renewals < contracts < config, and the
  launcher scripts (dev.py, manage.py) above them all. core/ imports no app of ours; nothing but
  config/ (and the launchers) imports config.
- Inside renewals/, the feature packages import only from a lower level or from themselves; two
  packages on one level do not import each other.
- No selector imports a service; no service imports views, forms, urls or tables.
- No app writes another app's tables in raw SQL.
- No import circle between modules.
- Every production module lives in a known place; a new one fails until someone places it in
  tests/layer_rules.py (which holds the levels, places and exceptions) and docs/architecture.md.
- No production file over 500 lines, no function over 100 lines.

Production code is every .py file outside tests/ and bench/. Imports are read from the source
(ast), so the whole file runs in well under a second; every test lists every offender.
"""

from __future__ import annotations

import ast
import re

from tests.layer_rules import (
    APPS,
    LAUNCHERS,
    LAYER_WORDS,
    MAX_FILE_LINES,
    MAX_FUNCTION_LINES,
    PLACES,
    RENEWALS_LEVELS,
    RENEWALS_TOP,
    TABLE_PREFIX,
    TOOLS,
    UI_WORDS,
    UPWARD,
    app_of,
    app_rank,
    feature_level,
    feature_of,
    imports,
    is_package,
    kind_of,
    modules,
    offenders,
    path_of,
    tree,
)

# --- the order of the apps --------------------------------------------------------------------


def test_apps_import_only_leftwards() -> None:
    """core and config have their own tests below; here the apps between them."""
    wrong = []
    for imp in imports():
        source, target = app_of(imp.source), app_of(imp.target)
        if source == target or "core" in (source, target) or "config" in (source, target):
            continue
        if app_rank(imp.target) >= app_rank(imp.source) or app_rank(imp.target) < 0:
            wrong.append(f"{imp.where()} imports {imp.target}")
    order = " < ".join([*APPS, "launchers (dev.py, manage.py, devtools/)"])
    assert not wrong, f"apps import only leftwards ({order}):" + offenders(wrong)


def test_nothing_but_config_imports_config() -> None:
    """config/ is the roof: what an app needs from it moves down to core/ (or org/roles.py)."""
    wrong = [
        f"{imp.where()} imports {imp.target}"
        for imp in imports()
        if app_of(imp.target) == "config" and app_rank(imp.source) < APPS.index("config")
    ]
    assert not wrong, "nothing but config/ (and the launchers) imports config:" + offenders(wrong)


def test_core_imports_no_app_of_ours() -> None:
    """core/ is the ground every app stands on: it knows none of them."""
    wrong = [
        f"{imp.where()} imports {imp.target}"
        for imp in imports()
        if app_of(imp.source) == "core" and app_of(imp.target) != "core"
    ]
    assert not wrong, offenders(wrong)


# --- the order of renewals' feature packages ----------------------------------------------------


def test_renewals_features_import_only_lower_levels() -> None:
    wrong = []
    for imp in imports():
        if app_of(imp.source) != "renewals" or app_of(imp.target) != "renewals":
            continue
        source, target = feature_of(imp.source), feature_of(imp.target)
        if source == target or target == "__init__" or (imp.source, imp.target) in UPWARD:
            continue
        if feature_level(target) >= feature_level(source):
            same = (
                " (same level: siblings do not import each other)"
                if (feature_level(target) == feature_level(source))
                else ""
            )
            wrong.append(
                f"{imp.where()} imports {imp.target}: renewals.{source} (level "
                f"{feature_level(source)}) may import only lower levels, renewals.{target} is "
                f"level {feature_level(target)}{same}"
            )
    assert not wrong, offenders(wrong)


# --- inside a package ---------------------------------------------------------------------------


def test_selectors_import_no_services() -> None:
    wrong = [
        f"{imp.where()} imports {imp.target}: a selector reads, it never calls a service"
        for imp in imports()
        if "selectors" in kind_of(imp.source) and "services" in kind_of(imp.target)
    ]
    assert not wrong, offenders(wrong)


def test_services_import_no_views_forms_urls_or_tables() -> None:
    wrong = [
        f"{imp.where()} imports {imp.target}: a service does not know the pages"
        for imp in imports()
        if "services" in kind_of(imp.source) and kind_of(imp.target) & UI_WORDS
    ]
    assert not wrong, offenders(wrong)


# --- SQL ----------------------------------------------------------------------------------------

_TABLE = r"""(?:ONLY\s+)?(?:"?public"?\.)?"?(?P<table>[a-z][a-z0-9]*_\w+)"""
SQL_WRITES = [
    re.compile(rf"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|MERGE\s+INTO)\s+{_TABLE}", re.I),
    re.compile(rf"\bTRUNCATE(?:\s+TABLE)?(?:\s+\w+\s*,)*\s+{_TABLE}", re.I),
    re.compile(rf"\bCOPY\s+{_TABLE}[^;]*?\bFROM\b", re.I),
]


def test_no_app_writes_another_apps_tables_in_sql() -> None:
    wrong = []
    for module in modules():
        if ".migrations." in module:
            continue
        own = TABLE_PREFIX.get(app_of(module))  # core, config and the launchers own no table
        for node in ast.walk(tree(module)):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            matches = [m for sql in SQL_WRITES for m in sql.finditer(node.value)]
            for match in matches:
                table = match.group("table").lower()
                prefix = next((p for p in TABLE_PREFIX.values() if table.startswith(p)), None)
                if prefix and prefix != own:
                    wrong.append(
                        f"{path_of(module)}:{node.lineno} writes {table} (another app's table: "
                        f"call that app's service or SQL function instead)"
                    )
    assert not wrong, offenders(wrong)


# --- circles ------------------------------------------------------------------------------------


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _graph(*, with_local: bool) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {module: set() for module in modules()}
    for imp in imports():
        if imp.typing_only or (imp.local and not with_local) or imp.source == imp.target:
            continue
        edges[imp.source].add(imp.target)
    return edges


def _describe(circle: list[str]) -> str:
    members = set(circle)
    links = [
        f"    {imp.where()} imports {imp.target}" + (" (inside a function)" if imp.local else "")
        for imp in imports()
        if imp.source in members and imp.target in members and not imp.typing_only
    ]
    return "circle " + " <-> ".join(circle) + ":\n" + "\n".join(sorted(set(links)))


def test_no_import_circle() -> None:
    """Module-level imports form no circle (imports under TYPE_CHECKING never run)."""
    wrong = [_describe(circle) for circle in _circles(_graph(with_local=False))]
    assert not wrong, offenders(wrong)


def test_no_import_circle_closed_inside_a_function() -> None:
    """An import inside a function that closes a circle only hides it: move the shared code down
    to the lower module instead."""
    wrong = [_describe(circle) for circle in _circles(_graph(with_local=True))]
    assert not wrong, offenders(wrong)


# --- places -------------------------------------------------------------------------------------


def _place(module: str) -> str | None:
    """The registered place a module belongs to, or None."""
    if module in LAUNCHERS or module in TOOLS or module in APPS:
        return module
    if app_of(module) == "renewals":
        if module.count(".") == 1 and not is_package(module):
            return "renewals" if module in RENEWALS_TOP else None
        place = f"renewals.{feature_of(module)}"  # a feature package, or renewals/api/ grown
        return place if place in PLACES else None
    package = module if is_package(module) else module.rpartition(".")[0]
    if package.endswith(".management"):  # the empty package above commands/
        package += ".commands"
    return package if package in PLACES else None


def test_every_module_has_a_known_place() -> None:
    wrong = [
        f"{path_of(module)} lives outside the known places: put it in a feature package, or add "
        f"its place to PLACES in tests/test_layers.py and to docs/architecture.md"
        for module in modules()
        if _place(module) is None
    ]
    assert not wrong, offenders(wrong)


def test_feature_modules_are_named_by_what_they_are_not_by_suffix() -> None:
    """renewals/risks/forms.py, not renewals/forms_risks.py or renewals/risks/risk_forms.py."""
    wrong = []
    for module in modules():
        name = module.rpartition(".")[2]
        words = set(name.split("_"))
        if app_of(module) == "renewals" and "_" in name and words & LAYER_WORDS:
            if ".migrations." not in module and ".management." not in module:
                wrong.append(f"{path_of(module)}: name it after its layer inside its feature")
    assert not wrong, offenders(wrong)


def test_all_renewals_levels_are_places() -> None:
    packages = {
        module
        for module in modules()
        if app_of(module) == "renewals" and module.count(".") == 1 and is_package(module)
    }
    levels = {name for level in RENEWALS_LEVELS for name in level}
    unknown = {module.split(".")[1] for module in packages} - levels
    assert not unknown, f"renewals packages missing from RENEWALS_LEVELS: {sorted(unknown)}"


# --- sizes --------------------------------------------------------------------------------------


def test_no_production_file_over_500_lines() -> None:
    wrong = []
    for module, path in modules().items():
        if ".migrations." in module:
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_FILE_LINES:
            wrong.append(f"{path_of(module)}: {lines} lines (at most {MAX_FILE_LINES})")
    assert not wrong, offenders(wrong)


def test_no_production_function_over_100_lines() -> None:
    wrong = []
    for module in modules():
        if ".migrations." in module:
            continue
        for node in ast.walk(tree(module)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    wrong.append(
                        f"{path_of(module)}:{node.lineno} {node.name}() has {lines} lines "
                        f"(at most {MAX_FUNCTION_LINES})"
                    )
    assert not wrong, offenders(wrong)
