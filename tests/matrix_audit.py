"""Role × URL rows of the audit pages."""

from __future__ import annotations

from tests.matrix_common import DIRECTORY, LOGIN, ROLES, Row

ROWS: dict[str, Row] = {
    # The whole trail: auditors and IT admins.
    "audit-list": Row(
        {r: 403 for r in ROLES} | {"anonymous": LOGIN, "it_admin": 200, "auditor": 200}
    ),
    # One object's history: whoever may see the object (head B: it does not exist for them).
    "audit-object": Row(
        {"anonymous": LOGIN, **DIRECTORY, "head_b": 404},
        kwargs=lambda c: {"kind": "subscription", "pk": c.subscription_a.pk},
    ),
}
