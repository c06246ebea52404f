"""Permission-matrix rows of the bulk actions (#15.13). Every one is a POST; a row the user may
not touch is refused inside a 200 answer (tests/renewals/requests/test_bulk.py), so here the answer says
only who may post at all."""

from __future__ import annotations

from django.utils import timezone

from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.factories import PersonFactory, SeatFactory
from tests.matrix_common import DIRECTORY, LOGIN, ROLES, Row


def _departed_seat(c: Cast) -> Seat:
    """A seat of department A held by someone who left (once per test)."""
    existing = getattr(c, "_departed_seat", None)
    if existing is None:
        left = PersonFactory.create(
            department=c.dept_a, status="left", left_on=timezone.localdate()
        )
        existing = SeatFactory.create(subscription=c.subscription_a, person=left)
        c._departed_seat = existing  # type: ignore[attr-defined]
    return existing


NOBODY = {r: 403 for r in ROLES} | {"anonymous": LOGIN}

ROWS: dict[str, Row] = {
    # Export of the selection: whoever reads the list (rows they cannot see are left out).
    "renewals:subscriptions-bulk": Row(
        {"anonymous": LOGIN, **DIRECTORY},
        method="post",
        data=lambda c: {"ids": [c.subscription_a.pk], "action": "export-csv"},
    ),
    # Seats are cleaned up by IT admins and software admins (per row: their departments).
    "renewals:seats-bulk": Row(
        NOBODY | {"it_admin": 200, "software_admin": 200},
        method="post",
        data=lambda c: {"ids": [_departed_seat(c).pk], "decision": "revoke"},
    ),
    # Approvers post; a step not theirs is listed as refused.
    "renewals:approvals-bulk": Row(
        NOBODY | {"it_admin": 200, "finance": 200, "head_a": 200, "head_b": 200, "legal": 200},
        method="post",
        data=lambda c: {"ids": ["999999"]},
    ),
}
