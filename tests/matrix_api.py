"""Role × URL rows of the REST API (/api/v1/), the API-token page and the password reset.

Anonymous callers get 401; employees (no role) 403; head B gets 404 for department A's objects
(they do not exist for them), like on the pages."""

from __future__ import annotations

from datetime import date

from contracts.models import ContractDocument
from renewals.alerts.models import AlertDelivery
from renewals.inventory.models import Module, Vendor
from renewals.requests.models.requests import RenewalRequest
from renewals.requests.services import request_create
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.factories import PersonFactory, SubscriptionFactory
from tests.helpers import contract_with_document
from tests.matrix_common import API, API_READ, API_SIGNED_IN, BUDGETS, LOGIN, ROLES, SIGNED_IN, Row
from tests.matrix_seat_requests import employee_request

EVERYONE = {r: 200 for r in ROLES}
A_ONLY = API_READ | {"head_b": 404}
BUDGET_READ = {"anonymous": API, **BUDGETS}
SEAT_WRITE = {r: 403 for r in ROLES} | {
    "anonymous": API, "it_admin": 200, "head_a": 200, "software_admin": 200, "head_b": 404,
}  # fmt: skip


def _fresh_request(c: Cast) -> dict[str, object]:
    """A new draft of department A (on a subscription of its own), for each role's try."""
    subscription = SubscriptionFactory.create(department=c.dept_a)
    request = request_create(subscription=subscription, user=c.software_admin)
    return {"pk": request.pk}


def _request(c: Cast) -> RenewalRequest:
    existing = getattr(c, "_api_request", None)
    if existing is None:
        existing = request_create(subscription=c.subscription_a, user=c.software_admin)
        c._api_request = existing  # type: ignore[attr-defined]
    return existing


def _seat(c: Cast) -> Seat:
    return Seat.objects.get_or_create(
        subscription=c.subscription_a, person=c.person_a, assigned_on=date(2026, 1, 1)
    )[0]


def _fresh_seat(c: Cast) -> dict[str, object]:
    """An active seat of a new subscription of department A, for each role's try."""
    subscription = SubscriptionFactory.create(department=c.dept_a, seats_purchased=2)
    seat = Seat.objects.create(
        subscription=subscription,
        person=PersonFactory.create(department=c.dept_a),
        assigned_on=date(2026, 1, 1),
    )
    return {"pk": seat.pk}


def _newcomer(c: Cast) -> dict[str, object]:
    return {"person": PersonFactory.create(department=c.dept_a).pk, "reason": "离职"}


def _delivery(c: Cast) -> AlertDelivery:
    return AlertDelivery.objects.get_or_create(
        subscription=c.subscription_a, term_end=c.subscription_a.term_end, kind="term_end",
        threshold=30, due_on=date(2026, 12, 1), channel="in_app", recipient=c.head_a,
    )[0]  # fmt: skip


def _document(c: Cast) -> ContractDocument:
    existing = getattr(c, "_api_document", None)
    if existing is None:
        existing = contract_with_document(c.it_admin, c.subscription_a, number="API-1")
        c._api_document = existing  # type: ignore[attr-defined]
    return existing


def _usage_rows(c: Cast) -> dict[str, object]:
    return {
        "rows": [{"subscription": c.subscription_a.pk, "month": "2026-10-01", "active_users": 3}]
    }


def _fresh_vendor(c: Cast) -> dict[str, object]:
    """A vendor no subscription names (it may be archived), one per role."""
    return {"pk": Vendor.objects.create(name=f"API vendor {Vendor.objects.count()}").pk}


def _module(c: Cast) -> Module:
    return Module.objects.get_or_create(subscription=c.subscription_a, name="API module")[0]


MODULE_WRITE = {r: 403 for r in ROLES} | {
    "anonymous": API, "it_admin": 200, "head_a": 200, "software_admin": 200, "head_b": 404,
}  # fmt: skip


ROWS: dict[str, Row] = {
    "org:api-tokens": Row({"anonymous": LOGIN, **SIGNED_IN}),
    "password_reset": Row(EVERYONE),
    "password_reset_done": Row(EVERYONE),
    # A made-up link shows "invalid or already used", to everyone.
    "password_reset_confirm": Row(EVERYONE, kwargs=lambda c: {"uidb64": "MQ", "token": "x-y"}),
    "password_reset_complete": Row(EVERYONE),
    "api:api-root": Row(API_SIGNED_IN),
    "api:schema": Row(API_SIGNED_IN),
    "api:docs": Row(API_SIGNED_IN),
    "api:department-list": Row(API_READ),
    "api:department-detail": Row(A_ONLY, kwargs=lambda c: {"pk": c.dept_a.pk}),
    "api:person-list": Row(API_READ),
    "api:person-detail": Row(A_ONLY, kwargs=lambda c: {"pk": c.person_a.pk}),
    # Leaving is recorded by those who manage the department: finance and auditors read only.
    "api:person-leave": Row(
        A_ONLY | {"finance": 403, "auditor": 403, "legal": 403},
        method="post",
        kwargs=lambda c: {"pk": c.person_a.pk},
        data=lambda c: {"left_on": "2026-11-30"},
        json=True,
    ),
    "api:budget-list": Row(BUDGET_READ),
    "api:budget-detail": Row(BUDGET_READ | {"head_b": 404}, kwargs=lambda c: {"pk": c.budget_a.pk}),
    "api:ledger-entry-list": Row(BUDGET_READ),
    "api:ledger-entry-detail": Row(
        BUDGET_READ | {"head_b": 404}, kwargs=lambda c: {"pk": c.ledger_entry.pk}
    ),
    "api:vendor-list": Row(API_READ),
    "api:vendor-detail": Row(A_ONLY, kwargs=lambda c: {"pk": c.subscription_a.vendor_id}),
    "api:subscription-list": Row(API_READ),
    "api:subscription-detail": Row(A_ONLY, kwargs=lambda c: {"pk": c.subscription_a.pk}),
    # Archiving: IT admins only (the role is checked before the object is looked up).
    "api:subscription-archive": Row(
        {r: 403 for r in ROLES} | {"anonymous": API, "it_admin": 200},
        method="post",
        kwargs=lambda c: {"pk": SubscriptionFactory.create(department=c.dept_a).pk},
        json=True,
    ),
    "api:seat-list": Row(API_READ),
    "api:seat-detail": Row(A_ONLY, kwargs=lambda c: {"pk": _seat(c).pk}),
    # Seat changes: IT admins, A's head and software admin; head B does not see A's seat.
    "api:seat-revoke": Row(
        SEAT_WRITE, method="post", kwargs=_fresh_seat, data=lambda c: {"reason": "离职"}, json=True
    ),
    "api:seat-reassign": Row(
        SEAT_WRITE, method="post", kwargs=_fresh_seat, data=_newcomer, json=True
    ),
    "api:usage-list": Row(API_READ),
    # Writers of usage: IT admins, heads and software admins (head B may not write A's: the
    # row is refused, 400, and nothing is written).
    "api:usage-bulk": Row(
        {r: 403 for r in ROLES}
        | {"anonymous": API, "it_admin": 201, "head_a": 201, "software_admin": 201, "head_b": 400},
        method="post",
        data=_usage_rows,
        json=True,
    ),
    "api:request-list": Row(API_READ),
    "api:request-detail": Row(A_ONLY, kwargs=lambda c: {"pk": _request(c).pk}),
    # Submitting: the requester and IT admins; finance, auditors and the approving head read.
    "api:request-submit": Row(
        A_ONLY | {"finance": 403, "auditor": 403, "head_a": 403, "legal": 403},
        method="post",
        kwargs=_fresh_request,
        json=True,
    ),
    # Deciding needs an approver role; a draft has nothing to decide (409: no pending step).
    "api:request-decide": Row(
        {r: 403 for r in ROLES}
        | {"anonymous": API, "it_admin": 409, "finance": 409, "head_a": 409, "head_b": 404},
        method="post",
        kwargs=lambda c: {"pk": _request(c).pk},
        data=lambda c: {"decision": "approve"},
        json=True,
    ),
    "api:delivery-list": Row(API_READ),
    "api:delivery-detail": Row(A_ONLY, kwargs=lambda c: {"pk": _delivery(c).pk}),
    "api:contract-list": Row(API_READ),
    "api:contract-detail": Row(A_ONLY, kwargs=lambda c: {"pk": _document(c).contract_id}),
    "api:document-list": Row(API_READ),
    "api:document-detail": Row(A_ONLY, kwargs=lambda c: {"pk": _document(c).pk}),
    "api:document-download": Row(A_ONLY, kwargs=lambda c: {"pk": _document(c).pk}),
    # Vendors and modules kept through the API (#18; creating and changing them: the same roles,
    # tests/api/test_inventory_writes_vendors.py). Archiving a vendor: IT admins only.
    "api:vendor-archive": Row(
        {r: 403 for r in ROLES} | {"anonymous": API, "it_admin": 200},
        method="post",
        kwargs=_fresh_vendor,
        json=True,
    ),
    "api:vendor-restore": Row(
        {r: 403 for r in ROLES} | {"anonymous": API, "it_admin": 200},
        method="post",
        kwargs=_fresh_vendor,
        json=True,
    ),
    "api:module-list": Row(API_READ),
    "api:module-detail": Row(A_ONLY, kwargs=lambda c: {"pk": _module(c).pk}),
    # A module of department A: its head and software admin and IT admins; head B 404.
    "api:module-archive": Row(
        MODULE_WRITE, method="post", kwargs=lambda c: {"pk": _module(c).pk}, json=True
    ),
    "api:module-restore": Row(
        MODULE_WRITE, method="post", kwargs=lambda c: {"pk": _module(c).pk}, json=True
    ),
    # Seat requests (#18): everyone signed in asks and reads their own; department A's managers
    # and IT admins decide; only the requester withdraws.
    "api:seat-request-list": Row(API_SIGNED_IN),
    "api:seat-request-detail": Row(
        A_ONLY | {"employee": 200}, kwargs=lambda c: {"pk": employee_request(c).pk}
    ),
    **{
        f"api:seat-request-{action}": Row(
            {r: 403 for r in ROLES}
            | {"anonymous": API, "it_admin": 200, "head_a": 200, "software_admin": 200}
            | {"head_b": 404},
            method="post",
            kwargs=lambda c: {"pk": employee_request(c).pk},
            data=lambda c: {"answer": "不需要"},
            json=True,
        )
        for action in ("grant", "decline", "escalate")
    },
    "api:seat-request-withdraw": Row(
        {r: 404 for r in ROLES} | {"anonymous": API, "employee": 200},
        method="post",
        kwargs=lambda c: {"pk": employee_request(c).pk},
        json=True,
    ),
}
