"""Permission-matrix rows of the subscription form and archive (#18), collected by
tests/test_permissions.py: IT admins add, edit every field and archive; department A's head and
software admin edit its subscription's own fields; head B gets 404 (it does not exist for them);
finance, auditors and employees 403."""

from __future__ import annotations

from tests.conftest import Cast
from tests.factories import SubscriptionFactory
from tests.matrix_common import LOGIN, ROLES, Row

IT_ONLY = {r: 403 for r in ROLES} | {"anonymous": LOGIN, "it_admin": 200}
EDIT = {r: 403 for r in ROLES} | {
    "anonymous": LOGIN, "it_admin": 200, "head_a": 200, "software_admin": 200, "head_b": 404,
}  # fmt: skip


def _fresh_subscription(c: Cast) -> dict[str, object]:
    """A new subscription of department A for each role's try (an archived one stays so)."""
    return {"pk": SubscriptionFactory.create(department=c.dept_a).pk}


ROWS: dict[str, Row] = {
    "renewals:subscription-add": Row(IT_ONLY),
    "renewals:subscription-edit": Row(EDIT, kwargs=lambda c: {"pk": c.subscription_a.pk}),
    "renewals:subscription-archive": Row(
        IT_ONLY | {"it_admin": 302}, method="post", kwargs=_fresh_subscription
    ),
}
