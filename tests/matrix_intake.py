"""Permission-matrix rows of the new-purchase intake (#18 part 5). The cast's employee is made a
person of department A first: any person of the directory may ask for a tool for their own
department; IT admins, heads and software admins for the departments they manage; finance and
auditors (no person, no department to manage) may not."""

from __future__ import annotations

import itertools
from decimal import Decimal

from renewals.requests.models.requests import RenewalRequest
from renewals.requests.services.intake import new_purchase_create
from tests.conftest import Cast
from tests.matrix_common import API, LOGIN, ROLES, Row

_numbers = itertools.count(1)


def _employee_is_a_person(c: Cast) -> dict[str, object]:
    if c.person_a.user_id != c.employee.pk:
        c.person_a.user = c.employee
        c.person_a.save()
    return {}


def _fresh_new_purchase(c: Cast) -> dict[str, object]:
    """A new purchase of department A asked for by the employee, per role (joining cancels
    it), and the live subscription A to join instead."""
    _employee_is_a_person(c)
    request: RenewalRequest = new_purchase_create(
        user=c.employee, department=c.dept_a, vendor_name="Atlassian",
        product=f"Tool {next(_numbers)}", seats=2, unit_price=Decimal("10"), currency="CNY",
        term_start=c.subscription_a.term_end, term_months=12, justification="需要",
    )  # fmt: skip
    return {"pk": request.pk, "subscription_pk": c.subscription_a.pk}


def _body(c: Cast) -> dict[str, object]:
    return {
        "department": c.dept_a.pk, "vendor_name": "Atlassian",
        "product": f"Tool {next(_numbers)}", "seats": 2, "unit_price": "10.00",
        "currency": "CNY", "term_start": "2027-01-01", "justification": "需要",
    }  # fmt: skip


# People of the directory and whoever manages a department; head B's own department is B.
MAY_ASK = {r: 200 for r in ROLES} | {
    "anonymous": LOGIN, "finance": 403, "auditor": 403, "legal": 403,
}  # fmt: skip

ROWS: dict[str, Row] = {
    "renewals:new-purchase": Row(MAY_ASK, kwargs=_employee_is_a_person),
    "renewals:new-purchase-overlap": Row(MAY_ASK, kwargs=_employee_is_a_person),
    # Only who may change the request (its requester, IT admins) turns it into seat requests;
    # department A's head, software admin, finance and auditors see it and are refused; head B
    # does not see it (404).
    "renewals:new-purchase-join": Row(
        {r: 403 for r in ROLES}
        | {"anonymous": LOGIN, "employee": 302, "it_admin": 302, "head_b": 404},
        method="post",
        kwargs=_fresh_new_purchase,
    ),
    # The API: department A is refused to who may not ask for it like a missing id (400).
    "api:request-new-purchase": Row(
        {r: 400 for r in ROLES}
        | {
            "anonymous": API,
            "employee": 201,
            "it_admin": 201,
            "head_a": 201,
            "software_admin": 201,
        },
        method="post",
        kwargs=_employee_is_a_person,
        data=_body,
        json=True,
    ),  # fmt: skip
}
