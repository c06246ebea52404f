"""Permission-matrix rows of the seat requests (#18): anyone signed in asks; the departments'
software admins, heads and IT admins decide (head B: department A's requests do not exist for
them); only the requester withdraws. The API's rows are in tests/matrix_api.py."""

from __future__ import annotations

from org.models import Person
from renewals.seats.models import SeatRequest
from renewals.seats.services import seat_request_create
from tests.conftest import Cast
from tests.factories import SubscriptionFactory
from tests.matrix_common import LOGIN, ROLES, SIGNED_IN, Row


def employee_request(c: Cast) -> SeatRequest:
    """A new open request of the employee (in department A) on a new subscription of A, so
    each role's try finds it open."""
    person = Person.objects.get_or_create(
        user=c.employee,
        defaults={"employee_no": "MATRIX-EMP", "name": "矩阵员工", "department": c.dept_a},
    )[0]
    subscription = SubscriptionFactory.create(department=c.dept_a)
    return seat_request_create(user=c.employee, subscription=subscription, person=person)


def _fresh(c: Cast) -> dict[str, object]:
    return {"pk": employee_request(c).pk}


DECIDE = {r: 403 for r in ROLES} | {
    "anonymous": LOGIN,
    "it_admin": 302,
    "head_a": 302,
    "software_admin": 302,
    "head_b": 404,
}
OWN = {r: 404 for r in ROLES} | {"anonymous": LOGIN, "employee": 302}

ROWS: dict[str, Row] = {
    "renewals:seat-request-inbox": Row(
        {r: 403 for r in ROLES}
        | {"anonymous": LOGIN, "it_admin": 200, "head_a": 200, "head_b": 200, "software_admin": 200}
    ),
    # Everyone signed in: without a directory entry the page says why no seat can be asked.
    "renewals:seat-request-add": Row({"anonymous": LOGIN, **SIGNED_IN}),
    "renewals:seat-request-grant": Row(DECIDE, method="post", kwargs=_fresh),
    "renewals:seat-request-decline": Row(
        DECIDE, method="post", kwargs=_fresh, data=lambda c: {"answer": "不需要"}
    ),
    "renewals:seat-request-escalate": Row(DECIDE, method="post", kwargs=_fresh),
    "renewals:seat-request-withdraw": Row(OWN, method="post", kwargs=_fresh),
}
