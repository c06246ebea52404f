"""New-purchase intake (#18 part 5): an employee asks for a tool, sees what the company already
has, submits; the same tiers, segregation of duties and budget as a renewal; rejection and
cancellation archive the proposed subscription; every bad input is refused with nothing written."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from budgets.models import LedgerEntry
from renewals.inventory.models import LIVE_STATUSES, Subscription, Vendor
from renewals.requests import services
from renewals.requests.models.requests import Purpose, RenewalRequest
from renewals.requests.selectors.overlap import already_has
from renewals.requests.services.intake import AlreadyHas
from renewals.seats.models import SeatRequest
from renewals.seats.services import seat_request_instead_of_purchase
from tests.conftest import Cast
from tests.factories import SubscriptionFactory, VendorFactory
from tests.renewals.requests.intake_helpers import (
    Intake,
    build,
    client_for,
    create,
    form_data,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _chinese() -> None:
    translation.activate("zh-hans")


@pytest.fixture
def intake(cast: Cast) -> Intake:
    return build(cast)


def counts() -> tuple[int, int, int]:
    return (Subscription.objects.count(), RenewalRequest.objects.count(), Vendor.objects.count())


def test_the_service_opens_a_proposed_subscription_the_request_and_its_first_quote(
    intake: Intake,
) -> None:
    request = create(intake)
    sub = request.subscription
    assert request.purpose == Purpose.NEW and request.status == "draft"
    assert sub.status == "proposed" and sub.status not in LIVE_STATUSES
    assert sub.ref == f"NEW-{sub.pk:05d}"
    # An existing vendor is reused whatever the case typed; the product keeps what was typed.
    assert sub.vendor == intake.jira_b.vendor and sub.product == "jira software"
    assert sub.department == intake.cast.dept_a and sub.category == "project"
    assert (sub.term_start.isoformat(), sub.term_end.isoformat()) == ("2027-01-01", "2027-12-31")
    quote = request.chosen_quote
    assert quote is not None and quote.unit_price == Decimal("600.00") and quote.seats == 5
    assert set(request.proposed_people.all()) == {intake.alice, intake.bob}
    assert request.proposed_modules == ["Advanced Roadmaps"]


def test_a_new_vendor_is_created_with_the_request(intake: Intake) -> None:
    request = create(intake, vendor_name="  Linear   Orbit ", product="Linear")
    assert request.subscription.vendor.name == "Linear Orbit"


def test_employee_asks_sees_what_the_company_has_and_submits(intake: Intake) -> None:
    cast = intake.cast
    employee = client_for(cast.employee)
    page = employee.get(reverse("renewals:new-purchase"))
    assert page.status_code == 200
    # The panel as the product is typed (HTMX): the same product with its free seats, and the
    # same category.
    panel = employee.get(
        reverse("renewals:new-purchase-overlap"),
        {"vendor_name": "atlassian", "product": "JIRA software", "category": "project"},
    )
    text = panel.content.decode()
    assert 'data-testid="same-product"' in text and "市场部 B" in text
    assert "15" in text  # 15 of 20 seats free
    assert 'data-testid="same-category"' in text and "Asana" in text
    response = employee.post(reverse("renewals:new-purchase"), form_data(intake))
    request = RenewalRequest.objects.get(purpose=Purpose.NEW)
    assert response.status_code == 302 and response["Location"] == request.get_absolute_url()
    detail = employee.get(request.get_absolute_url())
    body = detail.content.decode()
    assert detail.status_code == 200
    assert 'data-testid="already-has"' in body and 'data-testid="join"' in body
    # No links the employee may not open (the subscription page, the audit trail).
    assert reverse("renewals:subscription-detail", args=[request.subscription_id]) not in body
    assert "/audit/" not in body
    submitted = employee.post(reverse("renewals:request-submit", args=[request.pk]))
    assert submitted.status_code == 302
    request.refresh_from_db()
    assert request.status == "submitted" and request.amount_base == Decimal("3000.00")
    # A replayed submit changes nothing.
    employee.post(reverse("renewals:request-submit", args=[request.pk]))
    request.refresh_from_db()
    assert request.round == 1 and request.steps.count() == 1
    # The approver sees the same panel, without the "join" button.
    head_page = client_for(cast.head_a).get(request.get_absolute_url()).content.decode()
    assert 'data-testid="already-has"' in head_page and 'data-testid="join"' not in head_page
    # "My software" lists it.
    mine = employee.get(reverse("renewals:my-software")).content.decode()
    assert request.get_absolute_url() in mine and 'data-testid="ask-new-tool"' in mine


def test_head_approves_below_the_finance_tier_and_the_budget_is_committed(intake: Intake) -> None:
    cast = intake.cast
    request = create(intake)
    services.request_submit(request=request, user=cast.employee)
    step = request.steps.get()
    assert step.role == "department_head"
    services.step_decide(request=request, user=cast.head_a, decision="approve")
    request.refresh_from_db()
    assert request.status == "approved"
    entry = LedgerEntry.objects.get(reference=request.budget_reference, kind="commitment")
    assert entry.amount == Decimal("3000.00")


def test_head_then_finance_from_the_finance_tier(intake: Intake) -> None:
    cast = intake.cast
    request = create(intake, unit_price=Decimal("20000.00"))  # 100,000 CNY
    services.request_submit(request=request, user=cast.employee)
    assert list(request.steps.order_by("position").values_list("role", flat=True)) == [
        "department_head",
        "finance",
    ]
    services.step_decide(request=request, user=cast.head_a, decision="approve")
    services.step_decide(request=request, user=cast.finance, decision="approve")
    request.refresh_from_db()
    assert request.status == "approved"
    assert LedgerEntry.objects.filter(reference=request.budget_reference).exists()


def test_nobody_approves_their_own_new_purchase(intake: Intake) -> None:
    cast = intake.cast
    request = create(intake, user=cast.head_a)
    services.request_submit(request=request, user=cast.head_a)
    with pytest.raises(services.DecisionRefused):
        services.step_decide(request=request, user=cast.head_a, decision="approve")


def test_rejection_archives_the_proposed_subscription_and_the_product_may_be_asked_again(
    intake: Intake,
) -> None:
    cast = intake.cast
    request = create(intake)
    services.request_submit(request=request, user=cast.employee)
    services.step_decide(request=request, user=cast.head_a, decision="reject", comment="不需要")
    sub = Subscription.objects.get(pk=request.subscription_id)
    assert sub.status == "cancelled" and sub.archived_at is not None
    again = create(intake)
    assert again.subscription_id != sub.pk


def test_cancellation_archives_the_proposed_subscription(intake: Intake) -> None:
    request = create(intake)
    services.request_cancel(request=request, user=intake.cast.employee, reason="改用别的")
    sub = Subscription.objects.get(pk=request.subscription_id)
    assert sub.status == "cancelled" and sub.archived_at is not None


def test_a_product_the_department_has_is_refused_with_a_link(intake: Intake) -> None:
    cast = intake.cast
    SubscriptionFactory.create(
        department=cast.dept_a, vendor=intake.jira_b.vendor, product="Jira Software"
    )
    before = counts()
    with pytest.raises(AlreadyHas):
        create(intake)
    assert counts() == before
    page = client_for(cast.software_admin).post(reverse("renewals:new-purchase"), form_data(intake))
    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="clash"' in text
    # A second intake of a product under approval is refused too (its requester is linked).
    first = create(intake, product="Confluence")
    with pytest.raises(AlreadyHas):
        create(intake, product="CONFLUENCE")
    again = client_for(cast.employee).post(
        reverse("renewals:new-purchase"), form_data(intake, product="Confluence")
    )
    assert first.get_absolute_url() in again.content.decode()


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"unit_price": Decimal("-1")}, "unit price"),
        ({"unit_price": Decimal("1" * 25)}, "unit price"),
        ({"seats": -3}, "seats"),
        ({"seats": 10**24}, "seats"),
        ({"term_months": 0}, "term"),
        ({"currency": "XYZ"}, ""),
        ({"people": ["E100", "nobody@example.test"]}, "nobody@example.test"),
        ({"people": ["E100", "EX-404"]}, "EX-404"),
        ({"seats": 1}, "2"),  # two people named for one seat
        ({"product": "   "}, ""),
        ({"justification": ""}, ""),
        ({"justification": "x" * 5001}, ""),
        ({"category": "<script>"}, ""),
        ({"modules": ["m" * 81]}, ""),
        ({"vendor_name": ""}, ""),
        ({"vendor_name": "v" * 200}, ""),  # the vendor list's rules (at most 120 characters)
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    intake: Intake, over: dict[str, Any], message: str
) -> None:
    before = counts()
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        create(intake, **over)
    assert counts() == before
    assert message.casefold() in " ".join(refused.value.messages).casefold()


def test_a_person_who_left_is_refused(intake: Intake) -> None:
    before = counts()
    with pytest.raises(ValidationError, match="Lee"):
        create(intake, people=["E100", intake.leaver.employee_no])
    assert counts() == before


def test_another_department_is_refused_by_the_service_and_the_form(intake: Intake) -> None:
    cast = intake.cast
    with pytest.raises(PermissionDenied):
        create(intake, department=cast.dept_b)
    before = counts()
    page = client_for(cast.employee).post(
        reverse("renewals:new-purchase"), form_data(intake, department=cast.dept_b.pk)
    )
    assert page.status_code == 200 and counts() == before
    # A user who is no person of the directory and manages nothing may not ask (403).
    cast.person_a.user = None
    cast.person_a.save()
    assert client_for(cast.employee).get(reverse("renewals:new-purchase")).status_code == 403


@pytest.mark.parametrize(
    "over",
    [
        {"unit_price": "-5"},
        {"unit_price": "1" * 25},
        {"seats": "1" * 25},
        {"seats": "-1"},
        {"term_months": "999"},
        {"term_start": "2027-02-30"},
        {"vendor": "99999999999999999999999"},
        {"department": "1" * 25},
        {"justification": "x" * 6000},
        {"people": "E100\nleft@nowhere.test"},
    ],
)
def test_the_form_refuses_bad_input_without_a_500(intake: Intake, over: dict[str, str]) -> None:
    before = counts()
    page = client_for(intake.cast.employee).post(
        reverse("renewals:new-purchase"), form_data(intake, **over)
    )
    assert page.status_code == 200 and counts() == before


def test_html_in_text_fields_is_kept_as_text_and_shown_escaped(intake: Intake) -> None:
    script = '<script>alert("x")</script>'
    request = create(
        intake, product=f"Tool {script}", edition=script, justification=script,
        vendor_name=f"Evil {script}", modules=[script],
    )  # fmt: skip
    assert request.justification == script
    page = client_for(intake.cast.employee).get(request.get_absolute_url()).content.decode()
    assert script not in page and "&lt;script&gt;" in page


def test_the_purpose_of_a_new_purchase_cannot_be_switched(intake: Intake) -> None:
    request = create(intake)
    with pytest.raises(ValidationError):
        services.request_update(
            request=request, user=intake.cast.employee, data={"purpose": "keep"}
        )
    renewal = services.request_create(
        subscription=intake.cast.subscription_a, user=intake.cast.software_admin
    )
    with pytest.raises(ValidationError):
        services.request_update(
            request=renewal, user=intake.cast.software_admin, data={"purpose": "new"}
        )


def test_end_before_start_is_refused_when_the_proposal_is_changed(intake: Intake) -> None:
    request = create(intake)
    page = client_for(intake.cast.employee).post(
        reverse("renewals:request-edit", args=[request.pk]),
        {
            "purpose": "new", "justification": "x", "proposed_seats": "5",
            "proposed_modules": "", "proposed_edition": "",
            "proposed_term_start": "2027-06-01", "proposed_term_end": "2027-01-01",
        },
    )  # fmt: skip
    assert page.status_code == 200
    request.refresh_from_db()
    assert request.proposed_term_end.isoformat() == "2027-12-31"


def test_an_employee_opens_only_their_own_new_purchase(intake: Intake) -> None:
    cast = intake.cast
    theirs = create(intake, user=cast.software_admin, people=[])
    employee = client_for(cast.employee)
    assert employee.get(theirs.get_absolute_url()).status_code == 403
    renewal = services.request_create(subscription=cast.subscription_a, user=cast.software_admin)
    assert employee.get(renewal.get_absolute_url()).status_code == 403
    assert employee.post(reverse("renewals:request-submit", args=[theirs.pk])).status_code == 403
    assert employee.get(reverse("renewals:request-list")).status_code == 403


def test_join_that_subscription_instead(intake: Intake) -> None:
    cast = intake.cast
    request = create(intake)
    response = client_for(cast.employee).post(
        reverse("renewals:new-purchase-join", args=[request.pk, intake.jira_b.pk])
    )
    assert response.status_code == 302
    asked = SeatRequest.objects.filter(subscription=intake.jira_b)
    assert {r.person for r in asked} == {intake.alice, intake.bob}
    request.refresh_from_db()
    assert request.status == "cancelled"
    assert Subscription.objects.get(pk=request.subscription_id).archived_at is not None


def test_join_is_refused_for_someone_else_and_after_submission(intake: Intake) -> None:
    cast = intake.cast
    request = create(intake)
    with pytest.raises(PermissionDenied):
        seat_request_instead_of_purchase(
            user=cast.head_a, request=request, subscription=intake.jira_b
        )
    assert not SeatRequest.objects.exists()
    renewal = services.request_create(subscription=cast.subscription_a, user=cast.software_admin)
    with pytest.raises(ValidationError):
        seat_request_instead_of_purchase(
            user=cast.software_admin, request=renewal, subscription=intake.jira_b
        )


def test_the_panel_reads_in_one_query_whatever_the_inventory(intake: Intake) -> None:
    vendor = VendorFactory.create(name="Monday")
    for dept in (intake.cast.dept_a, intake.cast.dept_b, intake.cast.dept_a_child):
        SubscriptionFactory.create(
            department=dept, vendor=vendor, product="Monday", category="project"
        )
    with CaptureQueriesContext(connection) as small:
        found = already_has(vendor_name="Atlassian", product="Jira Software", category="project")
    assert [s.pk for s in found.same_product] == [intake.jira_b.pk]
    assert len(found.same_category) == 4
    SubscriptionFactory.create_batch(25, category="project")
    with CaptureQueriesContext(connection) as large:
        bigger = already_has(vendor_name="Atlassian", product="Jira Software", category="project")
    assert len(small) == len(large) == 1
    assert bigger.same_product[0].free_seats == 15
    assert len(bigger.same_product) + len(bigger.same_category) == 30


def _edit(intake: Intake, request: RenewalRequest, people: str, seats: str = "5") -> int:
    page = client_for(intake.cast.employee).post(
        reverse("renewals:request-edit", args=[request.pk]),
        {
            "purpose": "new", "justification": "需要", "proposed_seats": seats,
            "proposed_modules": "", "proposed_edition": "",
            "proposed_term_start": "2027-01-01", "proposed_term_end": "2027-12-31",
            "people": people,
        },
    )  # fmt: skip
    return page.status_code


def test_the_requester_changes_who_gets_a_seat(intake: Intake) -> None:
    request = create(intake)
    form = client_for(intake.cast.employee).get(reverse("renewals:request-edit", args=[request.pk]))
    assert "E100" in form.content.decode()
    assert _edit(intake, request, "E100") == 302
    assert list(request.proposed_people.all()) == [intake.alice]
    # A leaver, an unknown person, more people than seats: refused, nothing changed.
    assert _edit(intake, request, f"E100\n{intake.leaver.employee_no}") == 200
    assert _edit(intake, request, "E100, who@nowhere.test") == 200
    assert _edit(intake, request, "E100, bob@example.test", seats="1") == 200
    request.refresh_from_db()
    assert list(request.proposed_people.all()) == [intake.alice]
    assert request.proposed_seats == 5
