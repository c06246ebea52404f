"""Permission-matrix rows of the savings suggestions (#8)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from renewals.suggestions.models import Suggestion
from renewals.suggestions.services import suggestion_decide, suggestion_submit
from tests.conftest import Cast
from tests.matrix_common import LOGIN, ROLES, SIGNED_IN, Row


def _suggestion(c: Cast) -> Suggestion:
    """A suggestion of department A by its software admin (once per test)."""
    existing = getattr(c, "_suggestion", None)
    if existing is None:
        existing = suggestion_submit(
            user=c.software_admin, subscription=c.subscription_a, title="少买席位",
            estimated_saving=Decimal("100"),
        )  # fmt: skip
        c._suggestion = existing  # type: ignore[attr-defined]
    return existing


def _fresh(c: Cast) -> dict[str, object]:
    """A new submitted suggestion per role: the previous role's decision does not change the
    next one's answer."""
    s = suggestion_submit(user=c.software_admin, subscription=c.subscription_a, title="x")
    return {"pk": s.pk}


def _fresh_accepted(c: Cast) -> dict[str, object]:
    s = suggestion_submit(user=c.software_admin, subscription=c.subscription_a, title="x")
    suggestion_decide(suggestion=s, user=c.it_admin, accept=True)
    return {"pk": s.pk}


IT_ONLY_POST = {r: 403 for r in ROLES} | {"anonymous": LOGIN, "it_admin": 302}

ROWS: dict[str, Row] = {
    # Everyone signed in: employees see their own suggestions only.
    "renewals:suggestion-list": Row({"anonymous": LOGIN, **SIGNED_IN}),
    "renewals:suggestion-add": Row({"anonymous": LOGIN, **SIGNED_IN}),
    # Department A's suggestion: head B and the employee (not the author) get 404.
    "renewals:suggestion-detail": Row(
        {"anonymous": LOGIN, **SIGNED_IN, "head_b": 404, "employee": 404},
        kwargs=lambda c: {"pk": _suggestion(c).pk},
    ),
    # Decisions are IT's only; the role check comes first (403 for everyone else).
    "renewals:suggestion-decide": Row(
        IT_ONLY_POST, method="post", kwargs=_fresh, data=lambda c: {"decision": "accept"}
    ),
    "renewals:suggestion-realise": Row(
        IT_ONLY_POST,
        method="post",
        kwargs=_fresh_accepted,
        data=lambda c: {
            "realised_saving": "100",
            "realised_on": timezone.localdate().isoformat(),
        },
    ),
}
