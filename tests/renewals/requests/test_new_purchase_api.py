"""POST /api/v1/requests/new-purchase/: the same service, scoping and refusals as the page."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from renewals.inventory.models import Subscription
from renewals.requests.models.requests import RenewalRequest
from tests.conftest import Cast
from tests.renewals.requests.intake_helpers import START, Intake, build

pytestmark = pytest.mark.django_db
URL = "/api/v1/requests/new-purchase/"


@pytest.fixture
def intake(cast: Cast) -> Intake:
    return build(cast)


def body(intake: Intake, **over: Any) -> dict[str, Any]:
    return {
        "department": intake.cast.dept_a.pk,
        "vendor": intake.jira_b.vendor_id,
        "product": "Jira Software",
        "category": "project",
        "seats": 5,
        "modules": ["Advanced Roadmaps"],
        "term_start": START.isoformat(),
        "term_months": 12,
        "unit_price": "600.00",
        "currency": "CNY",
        "justification": "测试团队需要缺陷跟踪",
        "people": ["E100"],
    } | over


def api(user: object) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_an_employee_asks_through_the_api(intake: Intake) -> None:
    response = api(intake.cast.employee).post(URL, body(intake), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["purpose"] == "new" and data["status"] == "draft"
    request = RenewalRequest.objects.get(pk=data["id"])
    assert request.subscription.status == "proposed"
    assert list(request.proposed_people.all()) == [intake.alice]
    # The same product again: refused (the department already asks for it).
    again = api(intake.cast.employee).post(URL, body(intake), format="json")
    assert again.status_code == 400 and RenewalRequest.objects.count() == 1


def test_anonymous_is_401(intake: Intake) -> None:
    assert api(None).post(URL, body(intake), format="json").status_code == 401


@pytest.mark.parametrize(
    "over",
    [
        {"unit_price": "-1"},
        {"unit_price": "1" * 25},
        {"seats": 10**24},
        {"seats": -1},
        {"term_months": 0},
        {"currency": "XYZ"},
        {"currency": "<b>"},
        {"people": ["E100", "gone@example.test"]},
        {"department": 10**24},
        {"vendor": "1; DROP TABLE"},
        {"justification": "x" * 5001},
        {"modules": ["m"] * 51},
        {"category": "<script>"},
        {"product": ""},
    ],
)
def test_bad_input_is_a_400_and_nothing_is_written(intake: Intake, over: dict[str, Any]) -> None:
    before = Subscription.objects.count()
    response = api(intake.cast.employee).post(URL, body(intake, **over), format="json")
    assert response.status_code == 400, response.content
    assert Subscription.objects.count() == before


def test_another_department_is_refused_like_a_missing_one(intake: Intake) -> None:
    response = api(intake.cast.employee).post(
        URL, body(intake, department=intake.cast.dept_b.pk), format="json"
    )
    assert response.status_code == 400 and "department" in response.json()


def test_html_is_kept_as_text(intake: Intake) -> None:
    script = "<script>alert(1)</script>"
    response = api(intake.cast.employee).post(
        URL, body(intake, vendor=None, vendor_name=script, justification=script), format="json"
    )
    assert response.status_code == 201
    assert response.json()["justification"] == script
    assert response["Content-Type"].startswith("application/json")
