"""Permission-matrix rows of the seats pages (#18): the person picker, assign, bulk-assign,
revoke and reassign. Department A's subscription and seats: its managers (IT admins, A's head
and software admin) open them; head B gets 404 (they do not exist for them); finance, auditors
and employees 403 (no managing role)."""

from __future__ import annotations

from datetime import date

from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.matrix_common import LOGIN, ROLES, Row

MANAGERS_OF_A = {r: 403 for r in ROLES} | {
    "anonymous": LOGIN,
    "it_admin": 200,
    "head_a": 200,
    "software_admin": 200,
    "head_b": 404,
}


def _seat(c: Cast) -> dict[str, object]:
    seat = Seat.objects.get_or_create(
        subscription=c.subscription_a, person=c.person_a, assigned_on=date(2026, 1, 1)
    )[0]
    return {"pk": seat.pk}


ROWS: dict[str, Row] = {
    # Whoever manages some department searches the people they may see (head B: B's people).
    "renewals:people-search": Row(MANAGERS_OF_A | {"head_b": 200}),
    "renewals:seat-assign": Row(MANAGERS_OF_A, kwargs=lambda c: {"pk": c.subscription_a.pk}),
    "renewals:seats-bulk-assign": Row(MANAGERS_OF_A, kwargs=lambda c: {"pk": c.subscription_a.pk}),
    "renewals:seat-revoke": Row(MANAGERS_OF_A, kwargs=_seat),
    "renewals:seat-reassign": Row(MANAGERS_OF_A, kwargs=_seat),
}
