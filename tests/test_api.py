"""The REST API (/api/v1/): tokens, scoping, mass-assignment safety, the renewal workflow through
the same services as the pages, bulk usage with broken and hostile input, fixed query counts."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from budgets import services as budget_services
from org import services as org_services
from org.models import Person, User
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.requests import RenewalRequest
from renewals.requests.services import requests as request_services
from renewals.usage.models import MonthlyUsage
from tests.conftest import Cast
from tests.factories import ModuleFactory, SubscriptionFactory
from tests.helpers import TINY_PDF, contract_with_document


def token_for(user: User) -> str:
    return org_services.api_token_create(user=user)


def api(
    user: User | None = None, *, token: str | None = None, language: str = "", accept: str = ""
) -> Client:
    """A client that sends the user's token (a fresh one unless given), no session."""
    headers = {}
    if language:
        headers["Accept-Language"] = language
    if accept:
        headers["Accept"] = accept
    if user is not None and token is None:
        token = token_for(user)
    if token is not None:
        headers["Authorization"] = f"Token {token}"
    return Client(headers=headers)


def post(client: Client, url: str, data: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json")


def patch(client: Client, url: str, data: Any) -> Any:
    return client.patch(url, json.dumps(data), content_type="application/json")


# --- tokens ----------------------------------------------------------------------------------


def test_a_token_made_on_the_page_works_until_revoked(cast: Cast) -> None:
    page = Client()
    page.force_login(cast.head_a)
    response = page.post(reverse("org:api-tokens"), {"action": "create"})
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret and secret.encode() in response.content
    stored = AuthToken.objects.get(user=cast.head_a)
    assert secret not in (stored.digest, stored.token_key)  # kept as a hash only
    # Shown once: the list afterwards has only the first characters.
    assert secret.encode() not in page.get(reverse("org:api-tokens")).content

    client = api(token=secret)
    listing = client.get(reverse("api:subscription-list"))
    assert listing.status_code == 200
    assert [s["ref"] for s in listing.json()["results"]] == ["A-1"]

    page.post(reverse("org:api-tokens"), {"action": "revoke", "key": stored.token_key})
    assert not AuthToken.objects.filter(user=cast.head_a).exists()
    assert client.get(reverse("api:subscription-list")).status_code == 401


def test_someone_elses_token_cannot_be_revoked_from_the_page(cast: Cast) -> None:
    token_for(cast.head_b)
    key = AuthToken.objects.get(user=cast.head_b).token_key
    page = Client()
    page.force_login(cast.head_a)
    page.post(reverse("org:api-tokens"), {"action": "revoke", "key": key})
    assert AuthToken.objects.filter(user=cast.head_b).exists()


def test_expired_unknown_and_malformed_tokens_are_401(cast: Cast) -> None:
    secret = token_for(cast.it_admin)
    url = reverse("api:subscription-list")
    with time_machine.travel(timezone.now() + timedelta(days=400)):
        assert api(token=secret).get(url).status_code == 401
    # A WSGI server hands headers over as latin-1 text: UTF-8 bytes arrive as mojibake.
    mojibake = ("测试" * 40).encode().decode("latin-1")
    for bad in ("x" * 64, "", "' OR 1=1 --", "Token", "\x00" * 10, mojibake, "a" * 5000):
        assert api(token=bad).get(url).status_code == 401, bad
    assert Client(headers={"Authorization": "Basic YWRtaW46YWRtaW4="}).get(url).status_code == 401


def test_a_deactivated_users_token_stops_working(cast: Cast) -> None:
    secret = token_for(cast.finance)
    cast.finance.is_active = False
    cast.finance.save()
    assert api(token=secret).get(reverse("api:budget-list")).status_code == 401


# --- scoping and query counts ----------------------------------------------------------------


def test_each_head_sees_only_their_departments_everywhere(cast: Cast) -> None:
    SubscriptionFactory.create(department=cast.dept_b, ref="B-1")
    child = SubscriptionFactory.create(department=cast.dept_a_child, ref="A-QA-1")
    head_a, head_b = api(cast.head_a), api(cast.head_b)

    def refs(client: Client) -> set[str]:
        return {s["ref"] for s in client.get(reverse("api:subscription-list")).json()["results"]}

    assert refs(head_a) == {"A-1", child.ref}  # sub-departments included
    assert refs(head_b) == {"B-1"}
    assert refs(api(cast.auditor)) == {"A-1", "A-QA-1", "B-1"}
    people_b = head_b.get(reverse("api:person-list")).json()["results"]
    assert cast.person_a.employee_no not in {p["employee_no"] for p in people_b}
    assert head_b.get(reverse("api:budget-list")).json()["results"] == []
    # Filters are the list pages' FilterSets: another department is not a choice (400), the
    # scope cannot be widened.
    forced = head_b.get(reverse("api:subscription-list"), {"department": cast.dept_a.pk})
    assert forced.status_code == 400 and "department" in forced.json()
    own = head_a.get(reverse("api:subscription-list"), {"department": cast.dept_a_child.pk})
    assert [s["ref"] for s in own.json()["results"]] == [child.ref]
    found = head_a.get(reverse("api:subscription-list"), {"q": "A-QA", "renews_within": "30"})
    assert found.status_code == 200


def test_ordering_takes_only_allowlisted_fields(cast: Cast) -> None:
    client = api(cast.it_admin)
    url = reverse("api:subscription-list")
    assert client.get(url, {"ordering": "-term_end"}).status_code == 200
    # A field outside the list (or a relation walk into users' passwords) is ignored.
    for hostile in ("owner__password", "department__heads__password", "notes", "'; DROP"):
        response = client.get(url, {"ordering": hostile})
        assert response.status_code == 200, hostile


def test_list_endpoints_use_a_fixed_number_of_queries(
    cast: Cast, django_assert_max_num_queries: Any
) -> None:
    client = api(cast.it_admin)
    names = [
        "api:subscription-list", "api:request-list", "api:person-list", "api:budget-list",
        "api:contract-list", "api:usage-list", "api:seat-list", "api:delivery-list",
        "api:vendor-list", "api:ledger-entry-list",
    ]  # fmt: skip

    def counts() -> dict[str, int]:
        from django.test.utils import CaptureQueriesContext

        found = {}
        for name in names:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(reverse(name)).status_code == 200, name
            found[name] = len(queries)
        return found

    def add(i: int) -> None:
        subscription = SubscriptionFactory.create(department=cast.dept_a)
        ModuleFactory.create(subscription=subscription)
        request_services.request_create(subscription=subscription, user=cast.software_admin)
        MonthlyUsage.objects.create(
            subscription=subscription, month=date(2026, 10, 1), active_users=i
        )

    add(0)
    small = counts()
    for i in range(1, 31):
        add(i)
    for name, count in counts().items():
        assert count == small[name], (name, small[name], count)
    with django_assert_max_num_queries(8):
        client.get(reverse("api:subscription-list"))


# --- mass assignment and the request workflow ------------------------------------------------


def test_a_request_opened_through_the_api_ignores_workflow_fields(cast: Cast) -> None:
    client = api(cast.software_admin)
    response = post(
        client,
        reverse("api:request-list"),
        {
            "subscription": cast.subscription_a.pk,
            "purpose": "seats",
            "justification": "<script>alert(1)</script> 增加 2 个席位",
            "proposed_seats": 12,
            # Everything below belongs to the workflow and must be ignored.
            "status": "approved",
            "amount": "1.00",
            "amount_base": "1.00",
            "department": cast.dept_b.pk,
            "requested_by": cast.head_a.pk,
            "round": 9,
            "submitted_at": "2020-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    request = RenewalRequest.objects.get(pk=body["id"])
    assert request.status == "draft" and body["status"] == "draft"
    assert request.amount is None and request.round == 0
    assert request.department_id == cast.dept_a.pk
    assert request.requested_by_id == cast.software_admin.pk
    assert request.proposed_seats == 12 and request.purpose == "seats"
    assert request.justification.startswith("<script>")  # stored as text, escaped on pages
    # The department of an existing request cannot be changed either; its subscription neither.
    other = SubscriptionFactory.create(department=cast.dept_a)
    changed = patch(
        client,
        reverse("api:request-detail", args=[request.pk]),
        {"department": cast.dept_b.pk, "subscription": other.pk, "proposed_seats": 11},
    )
    assert changed.status_code == 400
    request.refresh_from_db()
    assert request.proposed_seats == 12 and request.subscription_id == cast.subscription_a.pk
    changed = patch(
        client,
        reverse("api:request-detail", args=[request.pk]),
        {"department": cast.dept_b.pk, "status": "approved", "proposed_seats": 11},
    )
    assert changed.status_code == 200
    request.refresh_from_db()
    assert (request.proposed_seats, request.department_id, request.status) == (
        11,
        cast.dept_a.pk,
        "draft",
    )


def test_a_request_for_another_departments_subscription_is_refused(cast: Cast) -> None:
    subscription_b = SubscriptionFactory.create(department=cast.dept_b)
    response = post(
        api(cast.head_a), reverse("api:request-list"), {"subscription": subscription_b.pk}
    )
    assert response.status_code == 400
    assert not RenewalRequest.objects.filter(subscription=subscription_b).exists()
    # Finance sees it but may not open requests (IT and the department do).
    response = post(
        api(cast.finance), reverse("api:request-list"), {"subscription": cast.subscription_a.pk}
    )
    assert response.status_code == 403
    assert not RenewalRequest.objects.exists()


def _funded(cast: Cast) -> None:
    budget = budget_services.budget_for(department=cast.dept_a, year=2027)
    budget_services.budget_allocate(
        budget=budget, amount=Decimal("1000000"), user=cast.finance, memo="年度预算"
    )


def test_open_submit_and_decide_through_the_api(cast: Cast) -> None:
    _funded(cast)
    requester = api(cast.software_admin)
    opened = post(requester, reverse("api:request-list"), {"subscription": cast.subscription_a.pk})
    assert opened.status_code == 201, opened.content
    pk = opened.json()["id"]
    submitted = post(requester, reverse("api:request-submit", args=[pk]), {})
    assert submitted.status_code == 200, submitted.content
    body = submitted.json()
    assert body["status"] in ("submitted", "in_approval")
    assert Decimal(body["amount_base"]) == Decimal("10000.00")  # 10 seats × 1,000 CNY a year
    step = body["pending_steps"][0]
    assert step["role"] == "department_head"
    # Submitting again is refused with the service's message, translated.
    again = post(
        api(cast.software_admin, language="en"),
        reverse("api:request-submit", args=[pk]),
        {},
    )
    assert again.status_code == 400
    assert "Only a draft or a returned request can be submitted." in again.json()["detail"]
    zh = post(
        api(cast.software_admin, language="zh-hans"),
        reverse("api:request-submit", args=[pk]),
        {},
    )
    assert zh.status_code == 400 and "Only a draft" not in zh.content.decode()
    # Head B cannot even see it; head A approves.
    decide = reverse("api:request-decide", args=[pk])
    assert post(api(cast.head_b), decide, {"decision": "approve"}).status_code == 404
    approved = post(api(cast.head_a), decide, {"decision": "approve", "step": step["id"]})
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    # A second click is told it was already decided.
    late = post(api(cast.head_a), decide, {"decision": "approve", "step": step["id"]})
    assert late.status_code == 409
    assert late.json()["code"] == "already_decided"


def test_nobody_approves_their_own_request_through_the_api(cast: Cast) -> None:
    _funded(cast)
    client = api(cast.head_a)
    pk = post(client, reverse("api:request-list"), {"subscription": cast.subscription_a.pk}).json()[
        "id"
    ]
    assert post(client, reverse("api:request-submit", args=[pk]), {}).status_code == 200
    refused = post(client, reverse("api:request-decide", args=[pk]), {"decision": "approve"})
    assert refused.status_code == 400
    assert refused.json()["code"] == "own_request"
    assert ApprovalStep.objects.get(request_id=pk).status == "pending"


def test_broken_decisions_are_refused(cast: Cast) -> None:
    _funded(cast)
    request = request_services.request_create(
        subscription=cast.subscription_a, user=cast.software_admin
    )
    request_services.request_submit(request=request, user=cast.software_admin)
    url = reverse("api:request-decide", args=[request.pk])
    client = api(cast.head_a)
    for data in (
        {"decision": "approve!!"},
        {},
        {"decision": "approve", "step": "1e400"},
        {"decision": "approve", "step": 10**30},
        {"decision": "approve", "comment": "x" * 5001},
    ):
        assert post(client, url, data).status_code == 400, data
    assert client.post(url, "{not json", content_type="application/json").status_code == 400
    assert client.post(url, {"decision": "approve"}).status_code == 415  # forms are not read
    assert client.get(url).status_code == 405
    assert ApprovalStep.objects.get(request=request).status == "pending"


@pytest.mark.django_db(transaction=True)
def test_parallel_api_approvals_make_one_decision(cast: Cast) -> None:
    _funded(cast)
    request = request_services.request_create(
        subscription=cast.subscription_a, user=cast.software_admin
    )
    request_services.request_submit(request=request, user=cast.software_admin)
    step = request.steps.get(status="pending")
    secret = token_for(cast.head_a)
    url = reverse("api:request-decide", args=[request.pk])
    count = 12
    barrier = threading.Barrier(count)

    def click(i: int) -> int:
        try:
            barrier.wait()
            client = api(token=secret)
            decision = "approve" if i % 2 else "reject"
            data = {"decision": decision, "step": step.pk, "comment": "并发"}
            return int(post(client, url, data).status_code)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        codes = list(pool.map(click, range(count)))
    assert codes.count(200) == 1, codes
    assert set(codes) <= {200, 409}, codes
    step.refresh_from_db()
    assert step.status in ("approved", "rejected")
    assert ApprovalStep.objects.filter(request=request).exclude(status="pending").count() == 1


# --- usage in bulk ---------------------------------------------------------------------------


def test_usage_is_written_in_bulk_and_a_resend_changes_nothing(cast: Cast) -> None:
    module = ModuleFactory.create(subscription=cast.subscription_a, name="甘特图")
    rows = [
        {"subscription": cast.subscription_a.pk, "month": "2026-10-01", "active_users": 7},
        {
            "subscription": cast.subscription_a.pk,
            "module": "甘特图",
            "month": "2026-10-01",
            "active_users": 2,
            "tasks_completed": 40,
        },
    ]
    client = api(cast.software_admin)
    url = reverse("api:usage-bulk")
    response = post(client, url, {"rows": rows})
    assert response.status_code == 201 and response.json() == {"written": 2}
    assert post(client, url, {"rows": rows}).status_code == 201
    assert MonthlyUsage.objects.count() == 2
    assert MonthlyUsage.objects.get(module=module).tasks_completed == 40
    rows[0]["active_users"] = 8
    post(client, url, {"rows": rows[:1]})
    assert MonthlyUsage.objects.get(module=None).active_users == 8
    listed = client.get(reverse("api:usage-list"), {"subscription": cast.subscription_a.pk})
    assert {r["module"] for r in listed.json()["results"]} == {None, "甘特图"}


@pytest.mark.parametrize(
    "row",
    [
        {"month": "2026-10-15", "active_users": 1},  # not a month's first day
        {"month": "2099-01-01", "active_users": 1},  # the future
        {"month": "2026-13-01", "active_users": 1},
        {"month": "10/2026", "active_users": 1},
        {"month": "2026-10-01", "active_users": -1},
        {"month": "2026-10-01", "active_users": "1e5"},
        {"month": "2026-10-01", "active_users": "NaN"},
        {"month": "2026-10-01", "active_users": 10**25},
        {"month": "2026-10-01", "active_users": 1, "module": "没有这个模块"},
        {"month": "2026-10-01", "active_users": 1, "module": "x" * 81},
        {"month": "2026-10-01", "active_users": 1, "subscription": 10**25},
        {"month": "2026-10-01", "active_users": 1, "subscription": "<script>"},
        {"month": "2026-10-01", "active_users": 1, "tasks_completed": -5},
    ],
)
def test_a_broken_usage_row_refuses_the_whole_call(cast: Cast, row: dict[str, Any]) -> None:
    good = {"subscription": cast.subscription_a.pk, "month": "2026-09-01", "active_users": 1}
    bad = {"subscription": cast.subscription_a.pk, **row}
    response = post(api(cast.it_admin), reverse("api:usage-bulk"), {"rows": [good, bad]})
    assert response.status_code == 400, response.content
    assert MonthlyUsage.objects.count() == 0


def test_usage_refusals_name_every_row_and_write_nothing(cast: Cast) -> None:
    subscription_b = SubscriptionFactory.create(department=cast.dept_b)
    rows = [
        {"subscription": cast.subscription_a.pk, "month": "2026-10-01", "active_users": 1},
        {"subscription": subscription_b.pk, "month": "2026-10-01", "active_users": 1},
        {"subscription": cast.subscription_a.pk, "month": "2026-10-01", "active_users": 2},
    ]
    response = post(
        api(cast.software_admin, language="en"),
        reverse("api:usage-bulk"),
        {"rows": rows},
    )
    assert response.status_code == 400
    messages = response.json()["rows"]
    assert any(m.startswith("#1: No subscription") for m in messages)
    assert any(m.startswith("#2:") and "twice" in m for m in messages)
    assert MonthlyUsage.objects.count() == 0


def test_oversized_and_malformed_usage_calls_are_refused(cast: Cast) -> None:
    client = api(cast.it_admin)
    url = reverse("api:usage-bulk")
    row = {"subscription": cast.subscription_a.pk, "month": "2026-10-01", "active_users": 1}
    assert post(client, url, {"rows": [row] * 5001}).status_code == 400
    assert post(client, url, {"rows": []}).status_code == 400
    assert post(client, url, {"rows": "many"}).status_code == 400
    assert post(client, url, [row]).status_code == 400
    assert client.post(url, b"\xff\xfe garbage", content_type="application/json").status_code == 400
    assert MonthlyUsage.objects.count() == 0


# --- people ----------------------------------------------------------------------------------


def test_people_are_added_changed_and_leave_in_managed_departments_only(cast: Cast) -> None:
    client = api(cast.software_admin)
    created = post(
        client,
        reverse("api:person-list"),
        {
            "employee_no": "E-900",
            "name": "新同事",
            "email": "x@example.cn",
            "department": cast.dept_a.pk,
            "status": "left",
        },
    )
    assert created.status_code == 201, created.content
    person = Person.objects.get(employee_no="E-900")
    assert person.status == "active"  # leaving goes through leave/
    refused = post(
        client,
        reverse("api:person-list"),
        {"employee_no": "E-901", "name": "别部门", "department": cast.dept_b.pk},
    )
    assert refused.status_code == 400
    assert not Person.objects.filter(employee_no="E-901").exists()
    duplicate = post(
        client,
        reverse("api:person-list"),
        {"employee_no": "E-900", "name": "重复", "department": cast.dept_a.pk},
    )
    assert duplicate.status_code == 400
    renamed = patch(client, reverse("api:person-detail", args=[person.pk]), {"employee_no": "E-1"})
    assert renamed.status_code == 400
    moved = patch(
        client, reverse("api:person-detail", args=[person.pk]), {"department": cast.dept_b.pk}
    )
    assert moved.status_code == 400
    person.refresh_from_db()
    assert person.department_id == cast.dept_a.pk and person.employee_no == "E-900"
    left = post(client, reverse("api:person-leave", args=[person.pk]), {"left_on": "2026-11-30"})
    assert left.status_code == 200 and left.json()["status"] == "left"
    assert (
        post(client, reverse("api:person-leave", args=[person.pk]), {"left_on": "soon"}).status_code
        == 400
    )
    person.refresh_from_db()
    assert (person.status, person.left_on) == ("left", date(2026, 11, 30))


# --- contracts, schema and docs --------------------------------------------------------------


def test_a_contract_file_downloads_through_the_api_with_the_pages_checks(cast: Cast) -> None:
    document = contract_with_document(
        cast.it_admin, cast.subscription_a, number="C-1", name="合同.pdf"
    )
    contract = document.contract
    pdf = TINY_PDF
    url = reverse("api:document-download", args=[document.pk])
    response = api(cast.head_a).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf  # type: ignore[attr-defined]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment")
    assert api(cast.head_b).get(url).status_code == 404
    assert api(cast.employee).get(url).status_code == 403
    assert Client().get(url).status_code == 401
    detail = api(cast.auditor).get(reverse("api:contract-detail", args=[contract.pk])).json()
    assert detail["documents"][0]["sha256"] == document.sha256
    assert "stored_name" not in detail["documents"][0] and "text" not in detail["documents"][0]


def test_the_schema_is_openapi_3_and_the_docs_load_no_inline_script(cast: Cast) -> None:
    client = api(cast.auditor, accept="application/vnd.oai.openapi+json")
    schema = client.get(reverse("api:schema"), {"format": "json"})
    assert schema.status_code == 200
    spec = json.loads(schema.content)
    assert spec["openapi"].startswith("3.")
    assert (
        "/api/v1/usage/bulk/" in spec["paths"] and "/api/v1/requests/{id}/decide/" in spec["paths"]
    )
    page = Client()
    page.force_login(cast.auditor)
    docs = page.get(reverse("api:docs"))
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html and "cdn" not in html.lower()
    assert "<script>" not in html.replace(" ", "")  # every script has a src
    assert "script-src 'self'" in docs["Content-Security-Policy"]


def test_department_filters_keep_each_users_choices_after_the_schema_was_built(
    cast: Cast,
) -> None:
    """Building the OpenAPI schema makes django-filter build the class's fields; the pages'
    and the API's department filters must still offer each user their own departments."""
    auditor = api(cast.auditor)
    assert auditor.get(reverse("api:schema")).status_code == 200
    client = api(cast.head_a)
    for name in ("api:subscription-list", "api:request-list", "api:contract-list"):
        response = client.get(reverse(name), {"department": cast.dept_a.pk})
        assert response.status_code == 200, (name, response.content)
    page = Client()
    page.force_login(cast.head_a)
    response = page.get(reverse("renewals:subscription-list"), {"department": cast.dept_a.pk})
    assert response.status_code == 200 and "A-1" in response.content.decode()
