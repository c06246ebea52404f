"""Role × URL matrix: every named URL of the project has a row, and every row is checked for
every role. A new URL without a row fails ``test_every_url_has_a_row``."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from importlib import import_module
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from contracts.models import ContractDocument
from renewals.requests.models.approvals import ApprovalTier
from renewals.requests.models.quotes import Quote
from renewals.requests.models.requests import RenewalRequest
from renewals.requests.services import request_create
from tests.conftest import Cast
from tests.helpers import contract_with_document
from tests.matrix_common import (
    BUDGETS,
    DIRECTORY,
    FINANCE_ONLY,
    IMPORTERS,
    LOGIN,
    REQUEST_CHANGE,
    REQUEST_CHANGE_POST,
    REQUEST_READ,
    ROLES,
    SIGNED_IN,
    Row,
)


def _request(c: Cast) -> RenewalRequest:
    """A draft renewal request of department A, opened by its software admin (once per test)."""
    existing = getattr(c, "_request", None)
    if existing is None:
        existing = request_create(subscription=c.subscription_a, user=c.software_admin)
        c._request = existing  # type: ignore[attr-defined]
    return existing


def _fresh_quote(c: Cast) -> dict[str, object]:
    """A new, unchosen quote each time: deleting or choosing it does not change the next role's
    answer."""
    request = _request(c)
    quote = Quote.objects.create(
        request=request, vendor_name="ClickUp", product="ClickUp", seats=1, unit_price=1
    )
    return {"pk": request.pk, "quote_pk": quote.pk}


def _document(c: Cast) -> ContractDocument:
    """A contract of department A with one stored PDF (once per test)."""
    existing = getattr(c, "_document", None)
    if existing is None:
        existing = contract_with_document(c.it_admin, c.subscription_a, number="M-1")
        c._document = existing  # type: ignore[attr-defined]
    return existing


def _fresh_tier(c: Cast) -> dict[str, object]:
    ApprovalTier.objects.filter(max_amount__isnull=True).update(max_amount=10**9)
    low = Decimal(10**9 + ApprovalTier.objects.count() * 10)
    tier = ApprovalTier.objects.create(
        name="x", min_amount=low, max_amount=low + 1, roles=["finance"]
    )
    return {"pk": tier.pk}


MATRIX: dict[str, Row] = {
    "home": Row({"anonymous": LOGIN, **SIGNED_IN}),
    "healthz": Row({r: 200 for r in ROLES}),
    "system-status": Row(
        {r: 403 for r in ROLES} | {"anonymous": LOGIN, "it_admin": 200, "auditor": 200}
    ),
    "login": Row({"anonymous": 200} | {r: 302 for r in ROLES if r != "anonymous"}),
    "logout": Row({r: 302 for r in ROLES}, method="post"),
    "password_change": Row({"anonymous": LOGIN, **SIGNED_IN}),
    "password_change_done": Row({"anonymous": LOGIN, **SIGNED_IN}),
    "set-language": Row(
        {r: 302 for r in ROLES}, method="post", data=lambda c: {"language": "en", "next": "/"}
    ),
    "org:department-list": Row({"anonymous": LOGIN, **DIRECTORY}),
    "org:person-list": Row({"anonymous": LOGIN, **DIRECTORY}),
    # Department A: its head and software admin see it, the head of B gets 404 (not 403: the
    # page does not even reveal that the department exists).
    "org:department-detail": Row(
        {"anonymous": LOGIN, **DIRECTORY, "head_b": 404}, kwargs=lambda c: {"pk": c.dept_a.pk}
    ),
    "budgets:overview": Row({"anonymous": LOGIN, **BUDGETS}),
    "budgets:budget-detail": Row(
        {"anonymous": LOGIN, **BUDGETS, "head_b": 404}, kwargs=lambda c: {"pk": c.budget_a.pk}
    ),
    "budgets:budget-action": Row(
        # The superuser IT admin holds every role, finance's included.
        {r: 403 for r in ROLES} | {"anonymous": LOGIN, "finance": 302, "it_admin": 302},
        method="post",
        kwargs=lambda c: {"pk": c.budget_a.pk},
        data=lambda c: {"action": "allocate", "amount": "1000", "memo": "追加"},
    ),
    "budgets:budget-reforecast": Row(
        {r: 403 for r in ROLES} | {"anonymous": LOGIN, "finance": 302, "it_admin": 302},
        method="post",
        kwargs=lambda c: {"pk": c.budget_a.pk},
        data=lambda c: {
            "basis": "full_year",
            "amount": "2000",
            "memo": "重新预测",
            "reference": "reforecast:" + "0" * 32,
        },
    ),
    "budgets:entry-reverse": Row(
        {r: 403 for r in ROLES} | {"anonymous": LOGIN, "finance": 302, "it_admin": 302},
        method="post",
        kwargs=lambda c: {"pk": c.ledger_entry.pk},
        data=lambda c: {"memo": "录错"},
    ),
    "budgets:budget-open": Row(
        {r: 403 for r in ROLES} | {"anonymous": LOGIN, "finance": 302, "it_admin": 302},
        method="post",
        data=lambda c: {"department": str(c.dept_b.pk), "year": "2027"},
    ),
    "renewals:subscription-list": Row({"anonymous": LOGIN, **DIRECTORY}),
    "renewals:subscription-detail": Row(
        {"anonymous": LOGIN, **DIRECTORY, "head_b": 404},
        kwargs=lambda c: {"pk": c.subscription_a.pk},
    ),
    "renewals:vendor-list": Row({"anonymous": LOGIN, **DIRECTORY}),
    # Head B sees no subscription of the vendor, so the vendor is not there for them.
    "renewals:vendor-detail": Row(
        {"anonymous": LOGIN, **DIRECTORY, "head_b": 404},
        kwargs=lambda c: {"pk": c.subscription_a.vendor_id},
    ),
    "renewals:person-detail": Row(
        {"anonymous": LOGIN, **DIRECTORY, "head_b": 404}, kwargs=lambda c: {"pk": c.person_a.pk}
    ),
    "renewals:findings": Row({"anonymous": LOGIN, **DIRECTORY}),
    "renewals:calendar": Row({"anonymous": LOGIN, **DIRECTORY}),
    "renewals:calendar-feed-reset": Row(
        {"anonymous": LOGIN, **DIRECTORY, **{r: 302 for r in DIRECTORY if DIRECTORY[r] == 200}},
        method="post",
    ),
    "renewals:calendar-feed-revoke": Row(
        {"anonymous": LOGIN, **DIRECTORY, **{r: 302 for r in DIRECTORY if DIRECTORY[r] == 200}},
        method="post",
    ),
    # The feed takes no session: the secret token is the credential; an unknown one is 404.
    "renewals:calendar-feed": Row(
        {r: 404 for r in ROLES}, kwargs=lambda c: {"token": "not-a-real-token"}
    ),
    "renewals:notification-list": Row({"anonymous": LOGIN, **SIGNED_IN}),
    "renewals:notification-read-all": Row({r: 302 for r in ROLES}, method="post"),
    # Only the owner (head A) may open a notification; anyone else gets 404.
    "renewals:notification-read": Row(
        {r: 404 for r in ROLES} | {"anonymous": LOGIN, "head_a": 302},
        method="post",
        kwargs=lambda c: {"pk": c.notification.pk},
    ),
    "renewals:channel-list": Row({r: 403 for r in ROLES} | {"anonymous": LOGIN, "it_admin": 200}),
    "renewals:channel-add": Row({r: 403 for r in ROLES} | {"anonymous": LOGIN, "it_admin": 200}),
    "renewals:channel-edit": Row(
        {r: 403 for r in ROLES} | {"anonymous": LOGIN, "it_admin": 200},
        kwargs=lambda c: {"pk": c.chat_channel.pk},
    ),
    "renewals:channel-delete": Row(
        {r: 403 for r in ROLES} | {"anonymous": LOGIN, "it_admin": 302},
        method="post",
        kwargs=lambda c: {"pk": c.chat_channel.pk},
    ),
    "renewals:import-list": Row({"anonymous": LOGIN, **IMPORTERS}),
    "renewals:import-template": Row(
        {"anonymous": LOGIN, **IMPORTERS}, kwargs=lambda c: {"kind": "usage"}
    ),
    # Only the uploader (here the software admin) and IT admins see an import.
    "renewals:import-detail": Row(
        {"anonymous": LOGIN, **IMPORTERS}, kwargs=lambda c: {"pk": c.import_job.pk}
    ),
    "renewals:import-commit": Row(
        {"anonymous": LOGIN, **IMPORTERS, "software_admin": 302, "it_admin": 302},
        method="post",
        kwargs=lambda c: {"pk": c.import_job.pk},
    ),
    "renewals:import-cancel": Row(
        {"anonymous": LOGIN, **IMPORTERS, "software_admin": 302, "it_admin": 302},
        method="post",
        kwargs=lambda c: {"pk": c.import_job.pk},
    ),
    "renewals:request-list": Row({"anonymous": LOGIN, **DIRECTORY}),
    "renewals:request-detail": Row(REQUEST_READ, kwargs=lambda c: {"pk": _request(c).pk}),
    "renewals:request-pdf": Row(REQUEST_READ, kwargs=lambda c: {"pk": _request(c).pk}),
    # With a request under way, "start renewal request" opens it.
    "renewals:request-create": Row(
        {r: (302 if v == 200 else v) for r, v in REQUEST_READ.items()},
        kwargs=lambda c: {"pk": _request(c).subscription_id},
    ),
    "renewals:request-edit": Row(REQUEST_CHANGE, kwargs=lambda c: {"pk": _request(c).pk}),
    "renewals:quote-add": Row(REQUEST_CHANGE, kwargs=lambda c: {"pk": _request(c).pk}),
    "renewals:quote-edit": Row(REQUEST_CHANGE, kwargs=_fresh_quote),
    "renewals:quote-delete": Row(REQUEST_CHANGE_POST, method="post", kwargs=_fresh_quote),
    "renewals:quote-choose": Row(REQUEST_CHANGE_POST, method="post", kwargs=_fresh_quote),
    "renewals:request-submit": Row(
        REQUEST_CHANGE_POST, method="post", kwargs=lambda c: {"pk": _request(c).pk}
    ),
    "renewals:request-cancel": Row(
        REQUEST_CHANGE_POST,
        method="post",
        kwargs=lambda c: {"pk": _request(c).pk},
        data=lambda c: {"reason": "重复申请"},
    ),
    # Everyone who may assess from some side (IT, finance, the department) may post one.
    "renewals:request-assess": Row(
        REQUEST_READ
        | {r: 302 for r in ("it_admin", "finance", "head_a", "software_admin")}
        | {"auditor": 403, "legal": 403},
        method="post",
        kwargs=lambda c: {"pk": _request(c).pk},
        data=lambda c: {"perspective": "project", "recommendation": "renew", "comment": "好"},
    ),
    # Deciding needs an approver role; a draft has nothing to decide (the refusal is shown on
    # the request page, hence 302).
    "renewals:request-decide": Row(
        {r: 403 for r in ROLES}
        | {"anonymous": LOGIN, "it_admin": 302, "finance": 302, "head_a": 302, "head_b": 404},
        method="post",
        kwargs=lambda c: {"pk": _request(c).pk},
        data=lambda c: {"decision": "approve", "step": "1"},
    ),
    "renewals:request-execute": Row(FINANCE_ONLY, kwargs=lambda c: {"pk": _request(c).pk}),
    "renewals:approval-inbox": Row(
        {r: 403 for r in ROLES}
        | {"anonymous": LOGIN, "it_admin": 200, "finance": 200, "head_a": 200, "head_b": 200}
        | {"legal": 200}
    ),
    "contracts:contract-list": Row({"anonymous": LOGIN, **DIRECTORY}),
    "contracts:contract-detail": Row(
        REQUEST_READ, kwargs=lambda c: {"pk": _document(c).contract_id}
    ),
    # The download is checked like the contract page: head B gets 404, employees 403.
    "contracts:document-download": Row(REQUEST_READ, kwargs=lambda c: {"pk": _document(c).pk}),
    # Without a subscription to add it for, the form sends the editor back to the list.
    "contracts:contract-add": Row(
        {r: 403 for r in ROLES} | {"anonymous": LOGIN, "finance": 302, "it_admin": 302}
    ),
    "contracts:contract-edit": Row(FINANCE_ONLY, kwargs=lambda c: {"pk": _document(c).contract_id}),
    "contracts:document-upload": Row(
        {r: 403 for r in ROLES} | {"anonymous": LOGIN, "finance": 302, "it_admin": 302},
        method="post",
        kwargs=lambda c: {"pk": _document(c).contract_id},
    ),
    "contracts:contract-apply-terms": Row(
        {r: 403 for r in ROLES} | {"anonymous": LOGIN, "finance": 302, "it_admin": 302},
        method="post",
        kwargs=lambda c: {"pk": _document(c).contract_id},
    ),
    # Deciding a suggested term: the archive's editors; a suggestion of another contract is 404.
    "contracts:term-decide": Row(
        {r: 403 for r in ROLES} | {"anonymous": LOGIN, "finance": 404, "it_admin": 404},
        method="post",
        kwargs=lambda c: {"pk": _document(c).contract_id, "suggestion": 0},
        data=lambda c: {"action": "dismiss"},
    ),
    # Legal's clause checklist of a request: read like the request (deciding: tests/contracts).
    "contracts:legal-review": Row(REQUEST_READ, kwargs=lambda c: {"pk": _request(c).pk}),
    "contracts:integrity-run": Row(
        {r: 403 for r in ROLES} | {"anonymous": LOGIN, "it_admin": 302}, method="post"
    ),
    "renewals:kpi-rows": Row(
        {"anonymous": LOGIN, **DIRECTORY}, kwargs=lambda c: {"figure": "idle"}
    ),
    "renewals:tier-list": Row({"anonymous": LOGIN, **DIRECTORY}),
    "renewals:tier-add": Row(FINANCE_ONLY),
    "renewals:tier-edit": Row(FINANCE_ONLY, kwargs=_fresh_tier),
    "renewals:tier-delete": Row(
        {r: 403 for r in ROLES} | {"anonymous": LOGIN, "finance": 302, "it_admin": 302},
        method="post",
        kwargs=_fresh_tier,
    ),
}

# Rows kept next to their part of the product (tests/matrix_<part>.py, each with ``ROWS``).
for _module in sorted(Path(__file__).parent.glob("matrix_*.py")):
    if _module.stem != "matrix_common":
        _rows = import_module(f"tests.{_module.stem}").ROWS
        assert not set(_rows) & set(MATRIX), f"{_module.name} repeats rows"
        MATRIX.update(_rows)

# The Django admin checks is_staff on every one of its URLs itself; each of its list pages is
# checked below for a staff and a non-staff user rather than listed one by one here.
COVERED_NAMESPACES = {"admin"}


def _names(resolver: URLResolver, prefix: str = "") -> Iterator[str]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            yield from _names(pattern, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + pattern.name


def test_every_url_has_a_row() -> None:
    missing = sorted(
        name
        for name in set(_names(get_resolver()))
        if name not in MATRIX and name.split(":")[0] not in COVERED_NAMESPACES
    )
    assert not missing, f"URLs without a row in the permission matrix: {missing}"


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_matrix(name: str, cast: Cast) -> None:
    row = MATRIX[name]
    assert set(row.expect) == set(ROLES), f"{name}: the row must name every role"
    failures = []
    for role, user in cast.users().items():
        # Built per role: a row may create a fresh object for each (see _fresh_quote).
        url = reverse(name, kwargs=row.kwargs(cast))
        client = Client()
        if user is not None:
            client.force_login(user)
        if row.json:
            response = getattr(client, row.method)(
                url, row.data(cast), content_type="application/json"
            )
        else:
            response = getattr(client, row.method)(url, row.data(cast))
        if response.status_code != row.expect[role]:
            failures.append(f"{role}: {response.status_code} (expected {row.expect[role]})")
        if (
            response.status_code == LOGIN
            and role == "anonymous"
            and name not in ("logout", "set-language")
        ):
            assert response["Location"].startswith(reverse("login")), name
    assert not failures, f"{name} {url}: " + "; ".join(failures)


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_pages_refuse_other_methods(method: str, cast: Cast) -> None:
    client = Client()
    client.force_login(cast.it_admin)
    for name in ("home", "org:department-list", "org:person-list", "system-status", "healthz"):
        assert getattr(client, method)(reverse(name)).status_code == 405, name


def test_admin_is_staff_only(cast: Cast) -> None:
    admin_lists = [
        "admin:org_user_changelist",
        "admin:org_department_changelist",
        "admin:org_person_changelist",
        "admin:django_q_schedule_changelist",
        "admin:renewals_briefing_changelist",
        "admin:renewals_risk_changelist",
        "admin:renewals_cleanupcampaign_changelist",
        "admin:renewals_suggestion_changelist",
        "admin:renewals_requestnotice_changelist",
    ]
    for role, user in cast.users().items():
        client = Client()
        if user is not None:
            client.force_login(user)
        for name in ["admin:index", *admin_lists]:
            response = client.get(reverse(name))
            if role == "it_admin":
                assert response.status_code == 200, (role, name)
            else:
                assert response.status_code == 302, (role, name)
                assert "/admin/login/" in response["Location"]
