"""What tests/test_layers.py checks the code against: the order of the apps and of renewals' feature
packages, the known places of production modules, and the reading of every import (ast)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_PRODUCTION = {"tests", "bench", "node_modules", "static", "templates", "var", "docs", "deploy"}

# Left to right: an app imports only apps to its left. The launchers start the private
# PostgreSQL cluster (config.embedded_pg) before Django exists, so they sit above the roof.
APPS = ["core", "org", "budgets", "renewals", "contracts", "integrations", "config"]
LAUNCHERS = {"dev", "manage", "devtools"}  # devtools/: dev.py's steps
# Tools run by hand that are not part of the running site (they import no app of ours).
TOOLS = {"locale.fill_translations"}
TABLE_PREFIX = {
    "org": "org_",
    "budgets": "budgets_",
    "renewals": "renewals_",
    "contracts": "contracts_",
    "integrations": "integrations_",
}

# renewals/: each set is one level; a package imports only packages on a lower level (or itself).
# The top modules of the app and management/, migrations/ sit above every feature package.
RENEWALS_LEVELS: list[set[str]] = [
    {"inventory"},
    {"usage"},  # seats and costs of a subscription; inventory's selectors read its models
    {"imports", "notify"},  # notify's calendar shows seats (usage selectors)
    {"requests"},
    # seats: seat requests become "more seats" renewal requests
    {"alerts", "risks", "suggestions", "seats"},
    # cleanup acts on risks; reports count suggestions; execution rolls the subscription over
    # and stops the old term's alerts (requests < alerts < execution: called, not signalled)
    {"cleanup", "reports", "rates", "execution"},
    {"bulk"},  # bulk actions run cleanup's and requests' services
    {"pages"},  # the subscription page and "my software" compose every feature
    {"__init__", "models", "admin", "apps", "urls", "api", "tasks", "demo", "migrations"},
    {"management"},  # seed_demo / demo_csvs run demo/
]
# The known exceptions, module to module, each with its reason (docs/architecture.md). Anything
# else that imports upwards fails.
UPWARD = {
    # The subscription figures (seats used / idle / departed, latest usage) are columns of the
    # inventory list and of every page that shows a subscription: they are subqueries over
    # usage's rows. usage's models name Subscription by string, so there is no circle; usage's
    # selectors and services sit above inventory's.
    ("renewals.inventory.selectors", "renewals.usage.models"),
}
# The only modules directly in renewals/ (everything else goes into a feature package).
RENEWALS_TOP = {"renewals", "renewals.models", "renewals.admin", "renewals.apps", "renewals.urls"}
RENEWALS_TOP |= {"renewals.api", "renewals.tasks"}

# Every package production code may live in. A module in a package not listed here fails:
# place it (and draw it in docs/architecture.md). Sub-packages of a renewals feature package
# (e.g. renewals/requests/services/) belong to their feature.
PLACES = {
    "core": "the ground: plain package every app uses; imports no app of ours",
    "core.templatetags": "template tags every app's templates load",
    "org": "users, departments, people, roles and scoping",
    "org.templatetags": "org's template tags",
    "org.management.commands": "org's manage.py commands",
    "budgets": "budgets and the append-only ledger",
    "contracts": "contracts, documents, key terms, search",
    "contracts.management.commands": "contracts' manage.py commands",
    "contracts.terms": "key terms read from the contracts' text, contract traps (findings)",
    "renewals": "the app's top modules (RENEWALS_TOP)",
    "integrations": "connections to outside systems: models, admin, urls, tasks, services",
    "integrations.directory": "directory sources: the sync engine, leavers, the readers",
    "integrations.scim": "the SCIM 2.0 service provider an identity provider pushes to",
    "integrations.callbacks": "the endpoints Feishu, DingTalk and WeCom send their events to",
    "integrations.connectors": "usage connectors: accounts read from the tools, their seats",
    "integrations.connectors.vendors": "usage connectors of named vendors (Atlassian, GitHub, Feishu) and the file drop",
    "integrations.chat": "chat apps: personal approval and notice cards, their clicks and to-dos",
    "integrations.chat.platforms": "the Feishu, DingTalk and WeCom APIs the chat apps speak",
    "integrations.management.commands": "directory_source / scim_token / connector / chat_app commands",
    "config": "the roof: settings, urls, home and audit pages, middleware, navigation",
    "config.test_database": "the test database backend",
    "devtools": "dev.py's steps (standard library only; may start config.embedded_pg)",
}
# Each renewals package or top module of RENEWALS_LEVELS is a place (with its sub-packages).
PLACES |= {f"renewals.{name}": "a level of renewals" for level in RENEWALS_LEVELS for name in level}
PLACES |= {f"{app}.migrations": "migrations" for app in TABLE_PREFIX}

LAYER_WORDS = {"models", "services", "selectors", "policy", "views", "forms", "tables", "filters"}
LAYER_WORDS |= {"urls", "tasks", "api", "admin"}
UI_WORDS = {"views", "forms", "urls", "tables"}

MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 100


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    target: str  # imported module (the most specific of ours that exists), dotted
    line: int
    local: bool  # inside a function (runs when called, not on import)
    typing_only: bool  # under `if TYPE_CHECKING:`

    def where(self) -> str:
        return f"{path_of(self.source)}:{self.line}"


@cache
def modules() -> dict[str, Path]:
    """Dotted name -> file, for every production module."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in NOT_PRODUCTION or rel.parts[0].startswith("."):
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts.pop()
        found[".".join(parts)] = path
    return found


def path_of(module: str) -> str:
    return str(modules()[module].relative_to(ROOT))


@cache
def tree(module: str) -> ast.Module:
    return ast.parse(modules()[module].read_text(encoding="utf-8"))


def is_package(module: str) -> bool:
    return modules()[module].name == "__init__.py"


def ours(name: str) -> bool:
    return app_of(name) in APPS or app_of(name) == "launchers"


def _walk(node: ast.AST, local: bool, typing_only: bool) -> Iterator[tuple[ast.AST, bool, bool]]:
    """Every node below `node`, with whether it runs inside a function / only for type checkers."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield from _walk(child, True, typing_only)
        elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            for stmt in child.body:
                yield stmt, local, True
                yield from _walk(stmt, local, True)
            for stmt in child.orelse:
                yield stmt, local, typing_only
                yield from _walk(stmt, local, typing_only)
        else:
            yield child, local, typing_only
            yield from _walk(child, local, typing_only)


@cache
def imports() -> list[Import]:
    """Every import of one of our modules, from every production module."""
    known = modules()
    found = []
    for module in known:
        package = module if is_package(module) else module.rpartition(".")[0]
        for node, local, typing_only in _walk(tree(module), False, False):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(up + ([base] if base else []))
                subs = [f"{base}.{alias.name}" for alias in node.names]
                targets = [sub for sub in subs if sub in known]
                if len(targets) < len(subs):
                    targets.append(base)
            else:
                continue
            for target in targets:
                if not ours(target):
                    continue
                while target not in known and "." in target:
                    target = target.rpartition(".")[0]
                found.append(Import(module, target, node.lineno, local, typing_only))
    return found


def app_of(module: str) -> str:
    """The app (or launcher, or tool) a module belongs to; the launchers count as one."""
    top = module.split(".")[0]
    return "launchers" if top in LAUNCHERS else top


def app_rank(module: str) -> int:
    app = app_of(module)
    if app in APPS:
        return APPS.index(app)
    if app == "launchers":
        return len(APPS)
    return -1  # a tool: may import nothing of ours


def feature_of(module: str) -> str:
    """renewals.requests.services.requests -> requests; renewals.urls -> urls; renewals -> __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def feature_level(feature: str) -> int:
    return next(i for i, level in enumerate(RENEWALS_LEVELS) if feature in level)


def kind_of(module: str) -> set[str]:
    return set(module.split(".")[1:]) & (UI_WORDS | {"services", "selectors"})


def offenders(items: list[str]) -> str:
    return "\n" + "\n".join(sorted(set(items)))
