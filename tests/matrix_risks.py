"""Permission-matrix rows of the risk register (collected by tests/test_permissions.py)."""

from __future__ import annotations

from renewals.risks.models import Risk
from tests.conftest import Cast
from tests.matrix_common import DIRECTORY, LOGIN, REQUEST_READ, ROLES, Row

# Department A's risk: read like A's data (head B: 404); changed by IT admins, finance and A's
# head; reviewed by those and by its owner (A's software admin); auditors only read.
RISK_CHANGE = REQUEST_READ | {"software_admin": 403, "auditor": 403, "legal": 403}
RISK_ADD = {r: 403 for r in ROLES} | {
    "anonymous": LOGIN, "it_admin": 200, "finance": 200, "head_a": 200, "head_b": 200,
}  # fmt: skip
RISK_REVIEW_POST = REQUEST_READ | {
    "it_admin": 302, "finance": 302, "head_a": 302, "software_admin": 302, "auditor": 403,
    "legal": 403,
}  # fmt: skip


def _risk(c: Cast) -> dict[str, object]:
    """A manual risk of department A owned by its software admin (once per test)."""
    existing = getattr(c, "_risk", None)
    if existing is None:
        existing = Risk.objects.create(
            category="other", title="测试风险", department=c.dept_a, owner=c.software_admin,
            created_by=c.it_admin,
        )  # fmt: skip
        c._risk = existing  # type: ignore[attr-defined]
    return {"pk": existing.pk}


ROWS: dict[str, Row] = {
    "renewals:risk-list": Row({"anonymous": LOGIN, **DIRECTORY}),
    "renewals:risk-pdf": Row({"anonymous": LOGIN, **DIRECTORY}),
    "renewals:risk-review-list": Row({"anonymous": LOGIN, **DIRECTORY}),
    "renewals:risk-add": Row(RISK_ADD),
    "renewals:risk-detail": Row(REQUEST_READ, kwargs=_risk),
    "renewals:risk-edit": Row(RISK_CHANGE, kwargs=_risk),
    "renewals:risk-review": Row(
        RISK_REVIEW_POST,
        method="post",
        kwargs=_risk,
        data=lambda c: {f"r{_risk(c)['pk']}-action": "confirm"},
    ),  # fmt: skip
}
