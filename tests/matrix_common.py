"""What the role × URL matrix (tests/test_permissions.py) is built from. Rows for a part of the
product may live in their own ``tests/matrix_<part>.py`` module as ``ROWS``; the matrix collects
every such module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tests.conftest import Cast

ROLES = [
    "anonymous",
    "employee",
    "it_admin",
    "finance",
    "head_a",
    "head_b",
    "software_admin",
    "auditor",
    "legal",
]
LOGIN = 302  # anonymous users are sent to the login page
SIGNED_IN = {r: 200 for r in ROLES if r != "anonymous"}
DIRECTORY = {"employee": 403, **{r: 200 for r in ROLES if r not in ("anonymous", "employee")}}
BUDGETS = {r: 403 for r in ROLES if r != "anonymous"} | {
    r: 200 for r in ("finance", "auditor", "it_admin", "head_a", "head_b")
}
IMPORTERS = {r: 403 for r in ROLES if r != "anonymous"} | {"it_admin": 200, "software_admin": 200}
# Department A's request: readable like its subscription; changed (edited, quoted, submitted,
# cancelled) only by its requester (the software admin) and IT admins - A's head approves it and
# may not change it (#15.15); head B gets 404 (it does not exist for them).
REQUEST_READ = {"anonymous": LOGIN, **DIRECTORY, "head_b": 404}
# Legal reads every request (it reviews their contracts) and changes none.
REQUEST_CHANGE = REQUEST_READ | {"finance": 403, "auditor": 403, "head_a": 403, "legal": 403}
REQUEST_CHANGE_POST = REQUEST_CHANGE | {"it_admin": 302, "software_admin": 302}
# The REST API answers anonymous callers 401 (they have no session and no token) instead of
# sending them to the login page.
API = 401
API_READ = {"anonymous": API, **DIRECTORY}
API_SIGNED_IN = {"anonymous": API, **SIGNED_IN}
FINANCE_ONLY = {r: 403 for r in ROLES} | {"anonymous": LOGIN, "finance": 200, "it_admin": 200}


@dataclass
class Row:
    """Expected status per role for one URL; ``kwargs`` builds the URL from the cast."""

    expect: dict[str, int]
    method: str = "get"
    kwargs: Callable[[Cast], dict[str, object]] = field(default=lambda c: {})
    data: Callable[[Cast], dict[str, object]] = field(default=lambda c: {})
    # The REST API reads JSON only: its rows send their data as JSON.
    json: bool = False
