"""The renewal loop: requests, quotes, tiered approval, budget commitment, execution."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from budgets import services as budget_services
from budgets.models import LedgerEntry
from budgets.selectors import balance
from org.models import User
from org.roles import Role
from org.services import user_set_roles
from renewals.alerts.models import AlertDelivery
from renewals.inventory.models import CurrencyRate, Subscription, SubscriptionTerm
from renewals.notify.models import Notification
from renewals.requests import services
from renewals.requests.models.approvals import ApprovalStep, ApprovalTier
from renewals.requests.models.quotes import Quote
from renewals.requests.models.requests import Purpose, RenewalRequest
from tests.conftest import Cast, make_user
from tests.factories import PersonFactory, SeatFactory

YEAR = 2027  # the factory's subscriptions end on 2026-12-31: the new term starts in 2027


@pytest.fixture
def funded(cast: Cast) -> Cast:
    """Department A has 1,000,000 CNY for 2027 (15% reserve)."""
    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("1000000"), user=cast.finance, memo="年度预算"
    )
    return cast


def open_request(cast: Cast, amount: Decimal | str, *, user: User | None = None) -> RenewalRequest:
    """A draft for subscription A whose chosen quote costs exactly ``amount`` CNY for the term."""
    request = services.request_create(
        subscription=cast.subscription_a, user=user or cast.software_admin
    )
    assert request.chosen_quote is not None
    services.quote_save(
        request=request,
        user=user or cast.software_admin,
        quote=request.chosen_quote,
        data={"seats": 1, "unit_price": Decimal(amount), "term_months": 12},
    )
    request.refresh_from_db()
    return request


def submitted(cast: Cast, amount: Decimal | str) -> RenewalRequest:
    request = open_request(cast, amount)
    services.request_submit(request=request, user=cast.software_admin)
    request.refresh_from_db()
    return request


def roles_of(request: RenewalRequest) -> list[str]:
    return list(
        request.steps.filter(round=request.round)
        .order_by("position")
        .values_list("role", flat=True)
    )


# --- tiers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "roles"),
    [
        ("49999.99", ["department_head"]),
        ("50000.00", ["department_head", "finance"]),
        ("50000.01", ["department_head", "finance"]),
    ],
)
def test_the_amount_picks_the_tier_at_its_edges(
    funded: Cast, amount: str, roles: list[str]
) -> None:
    request = submitted(funded, amount)
    assert request.amount_base == Decimal(amount)
    assert roles_of(request) == roles
    assert request.status == RenewalRequest.Status.SUBMITTED
    first = request.steps.get(position=1)
    assert first.status == ApprovalStep.Status.PENDING


def test_submitting_freezes_the_amount_in_cny_at_the_quotes_rate(funded: Cast) -> None:
    CurrencyRate.objects.create(
        currency="USD", rate_to_base=Decimal("7.1"), valid_from=dt.date(2026, 1, 1)
    )
    request = open_request(funded, "100")
    services.quote_save(
        request=request,
        user=funded.software_admin,
        quote=request.chosen_quote,
        data={"currency": "USD", "seats": 10},
    )
    services.request_submit(request=request, user=funded.software_admin)
    request.refresh_from_db()
    assert (request.amount, request.currency, request.amount_base) == (
        Decimal("1000.00"),
        "USD",
        Decimal("7100.00"),
    )
    # A later rate change does not move the frozen amount.
    CurrencyRate.objects.create(
        currency="USD", rate_to_base=Decimal("9"), valid_from=dt.date(2026, 2, 1)
    )
    request.refresh_from_db()
    assert request.amount_base == Decimal("7100.00")


def test_over_budget_adds_a_finance_step_below_the_tier(cast: Cast) -> None:
    # Budget A holds 100 CNY: 20,000 does not fit.
    request = submitted(cast, "20000")
    assert roles_of(request) == ["department_head", "finance"]
    assert request.steps.get(role="finance").over_budget
    assert request.budget_fit == "does_not_fit"


def test_over_budget_can_be_refused_by_setting(cast: Cast, settings: object) -> None:
    settings.APPROVAL_OVER_BUDGET = "refuse"  # type: ignore[attr-defined]
    request = open_request(cast, "20000")
    with pytest.raises(ValidationError, match="预算"):
        services.request_submit(request=request, user=cast.software_admin)
    request.refresh_from_db()
    assert request.status == RenewalRequest.Status.DRAFT and not request.steps.exists()


def test_tiers_may_not_overlap(cast: Cast) -> None:
    from renewals.requests.services.tiers import tier_save

    with pytest.raises(ValidationError):
        tier_save(
            tier=ApprovalTier(
                name="x",
                min_amount=Decimal("40000"),
                max_amount=Decimal("60000"),
                roles=["finance"],
            )
        )


# --- decisions --------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["100", "49999.99", "50000.00", "900000"])
def test_nobody_approves_their_own_request(funded: Cast, amount: str) -> None:
    # The head of A opens the request themselves: they may not sign its head step.
    request = open_request(funded, amount, user=funded.head_a)
    services.request_submit(request=request, user=funded.head_a)
    with pytest.raises(services.DecisionRefused) as refused:
        services.step_decide(request=request, user=funded.head_a, decision="approve")
    assert refused.value.code == "own_request"
    assert request.steps.get(position=1).status == ApprovalStep.Status.PENDING


def test_one_person_holding_head_and_finance_cannot_sign_both_steps(funded: Cast) -> None:
    user_set_roles(user=funded.head_a, roles=[Role.DEPARTMENT_HEAD, Role.FINANCE])
    request = submitted(funded, "60000")
    services.step_decide(request=request, user=funded.head_a, decision="approve")
    with pytest.raises(services.DecisionRefused) as refused:
        services.step_decide(request=request, user=funded.head_a, decision="approve")
    assert refused.value.code == "signed_earlier"
    services.step_decide(request=request, user=funded.finance, decision="approve")
    request.refresh_from_db()
    assert request.status == RenewalRequest.Status.APPROVED


def test_finance_cannot_sign_before_the_head(funded: Cast) -> None:
    request = submitted(funded, "60000")
    with pytest.raises(services.DecisionRefused) as refused:
        services.step_decide(request=request, user=funded.finance, decision="approve")
    assert refused.value.code == "not_your_step"


def test_the_head_of_another_department_cannot_sign(funded: Cast) -> None:
    request = submitted(funded, "100")
    with pytest.raises(services.DecisionRefused):
        services.step_decide(request=request, user=funded.head_b, decision="approve")


def test_final_approval_commits_the_budget_once(funded: Cast) -> None:
    request = submitted(funded, "60000")
    services.step_decide(request=request, user=funded.head_a, decision="approve")
    request.refresh_from_db()
    assert request.status == RenewalRequest.Status.IN_APPROVAL
    assert not LedgerEntry.objects.filter(reference=request.budget_reference).exists()
    services.step_decide(request=request, user=funded.finance, decision="approve", comment="ok")
    request.refresh_from_db()
    assert request.status == RenewalRequest.Status.APPROVED
    entry = LedgerEntry.objects.get(reference=request.budget_reference, kind="commitment")
    assert entry.amount == Decimal("60000.00") and entry.budget.year == YEAR
    with pytest.raises(services.DecisionRefused) as refused:
        services.step_decide(request=request, user=funded.finance, decision="approve")
    assert refused.value.code == "already_decided"


def test_reject_and_return_need_a_comment(funded: Cast) -> None:
    request = submitted(funded, "100")
    with pytest.raises(services.DecisionRefused) as refused:
        services.step_decide(request=request, user=funded.head_a, decision="reject")
    assert refused.value.code == "comment_required"


def test_returned_request_is_changed_and_resubmitted_in_a_new_round(funded: Cast) -> None:
    request = submitted(funded, "60000")
    services.step_decide(request=request, user=funded.head_a, decision="return", comment="少买点")
    request.refresh_from_db()
    assert request.status == RenewalRequest.Status.RETURNED
    services.request_update(request=request, user=funded.software_admin, data={"proposed_seats": 8})
    services.request_submit(request=request, user=funded.software_admin)
    request.refresh_from_db()
    assert request.round == 2 and request.status == RenewalRequest.Status.SUBMITTED
    assert request.steps.filter(round=1, status="returned").count() == 1
    assert request.steps.get(round=2, position=1).status == ApprovalStep.Status.PENDING


def test_changing_the_quote_after_an_approval_invalidates_it(funded: Cast) -> None:
    request = submitted(funded, "60000")
    services.step_decide(request=request, user=funded.head_a, decision="approve")
    services.quote_save(
        request=request,
        user=funded.software_admin,
        quote=request.chosen_quote,
        data={"unit_price": Decimal("40000")},
    )
    request.refresh_from_db()
    assert request.round == 2 and request.amount_base == Decimal("40000.00")
    assert request.steps.get(round=1, position=1).status == ApprovalStep.Status.SUPERSEDED
    # Re-routed by the new amount: the head alone now, and they must sign again.
    assert roles_of(request) == ["department_head"]
    services.step_decide(request=request, user=funded.head_a, decision="approve")
    request.refresh_from_db()
    assert request.status == RenewalRequest.Status.APPROVED


def test_choosing_another_quote_during_approval_reroutes(funded: Cast) -> None:
    request = submitted(funded, "100")
    other = services.quote_save(
        request=request,
        user=funded.software_admin,
        data={
            "vendor_name": "ClickUp",
            "product": "ClickUp",
            "seats": 10,
            "unit_price": Decimal("500"),
        },
    )
    assert request.steps.filter(round=1, status="pending").exists()  # adding a quote is harmless
    services.quote_choose(request=request, user=funded.software_admin, quote=other)
    request.refresh_from_db()
    assert request.round == 2 and request.amount_base == Decimal("5000.00")


def test_reject_releases_nothing_and_cancel_releases_the_commitment(funded: Cast) -> None:
    request = submitted(funded, "1000")
    services.step_decide(request=request, user=funded.head_a, decision="approve")
    before = balance(funded.budget_a)
    assert before.committed == Decimal("1000.00")
    services.request_cancel(request=request, user=funded.software_admin, reason="换供应商")
    after = balance(funded.budget_a)
    assert after.committed == 0 and after.available == before.available + Decimal("1000.00")


def test_a_second_open_request_for_the_same_subscription_is_refused(funded: Cast) -> None:
    open_request(funded, "100")
    with pytest.raises(ValidationError, match="进行中"):
        services.request_create(subscription=funded.subscription_a, user=funded.it_admin)


def test_people_outside_the_department_cannot_open_a_request(cast: Cast) -> None:
    for user in (cast.head_b, cast.auditor, cast.finance):
        with pytest.raises(PermissionDenied):
            services.request_create(subscription=cast.subscription_a, user=user)


# --- quotes -----------------------------------------------------------------------------------


def test_quotes_are_compared_per_seat_per_year_and_over_three_years(cast: Cast) -> None:
    request = open_request(cast, "100")
    monthly = Quote(
        request=request, vendor_name="Asana", product="Asana", seats=10,
        unit_price=Decimal("100"), billing_cycle="monthly", term_months=12,
        discount_percent=Decimal("10"), one_off_fees=Decimal("500"),
        price_increase_cap_percent=Decimal("5"),
    )  # fmt: skip
    assert monthly.seat_year_base == Decimal("1080.00")  # 100 × 12 × 0.9
    assert monthly.term_amount == Decimal("11300.00")  # 10 × 1080 + 500
    assert monthly.total_1y_base == Decimal("11300.00")
    # Renewed yearly with the 5% cap: 10800 + 11340 + 11907 + 500.
    assert monthly.total_3y_base == Decimal("34547.00")
    three_year = Quote(
        request=request, vendor_name="Monday", product="Monday", seats=10,
        unit_price=Decimal("3000"), billing_cycle="multi_year", term_months=36,
        price_increase_cap_percent=Decimal("20"), currency="USD", rate_to_base=Decimal("7"),
    )  # fmt: skip
    # One price for 36 months: 3000 / 36 × 12 = 1000 USD a seat a year, no increase inside the term.
    assert three_year.seat_year_base == Decimal("7000.00")
    assert three_year.total_3y_base == Decimal("210000.00")
    assert three_year.term_amount_base == Decimal("210000.00")


def test_the_cheapest_and_best_value_quotes_are_marked(cast: Cast) -> None:
    from renewals.requests.selectors.requests import quote_comparison

    request = open_request(cast, "1000")  # incumbent: 1 seat × 1000
    request.evidence = {"active_users": 8}
    cheap = Quote.objects.create(
        request=request, vendor_name="A", product="A", seats=1, unit_price=Decimal("900")
    )
    value = Quote.objects.create(
        request=request, vendor_name="B", product="B", seats=8, unit_price=Decimal("200")
    )
    rows = {row.quote.pk: row for row in quote_comparison(request, list(request.quotes.all()))}
    assert rows[cheap.pk].cheapest and not rows[value.pk].cheapest
    assert rows[value.pk].best_value and not rows[cheap.pk].best_value  # 200/user vs 900/user


# --- concurrency ------------------------------------------------------------------------------


def _in_threads(count: int, work: object) -> list[object]:
    barrier = threading.Barrier(count)

    def run(i: int) -> object:
        try:
            barrier.wait()
            return work(i)  # type: ignore[operator]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.django_db(transaction=True)
def test_50_parallel_approve_clicks_make_one_decision(funded: Cast) -> None:
    request = submitted(funded, "1000")
    step = request.steps.get()
    clients = []
    for _ in range(50):
        client = Client()
        client.force_login(funded.head_a)
        clients.append(client)
    url = reverse("renewals:request-decide", args=[request.pk])
    mail.outbox.clear()
    Notification.objects.all().delete()

    def click(i: int) -> int:
        response = clients[i].post(url, {"decision": "approve", "step": step.pk})
        return response.status_code

    statuses = _in_threads(50, click)
    assert statuses.count(302) == 50  # every click lands back on the page …
    step.refresh_from_db()
    assert step.status == "approved"
    assert LedgerEntry.objects.filter(reference=request.budget_reference).count() == 1
    # … one decision: one notice to the requester (in-app), one e-mail.
    assert Notification.objects.filter(user=funded.software_admin).count() == 1
    assert len([m for m in mail.outbox if funded.software_admin.email in m.to]) == 1
    assert request.events.filter(kind="approved").count() == 1


@pytest.mark.django_db(transaction=True)
def test_approve_racing_reject_exactly_one_wins(funded: Cast) -> None:
    second_head = make_user("head_a2", Role.DEPARTMENT_HEAD)
    funded.dept_a.heads.add(second_head)
    deciders = [(funded.head_a, "approve"), (second_head, "reject")]
    for attempt in range(5):
        request = submitted(funded, "1000")

        def decide(i: int, request: RenewalRequest = request) -> str:
            user, decision = deciders[i]
            try:
                services.step_decide(request=request, user=user, decision=decision, comment="c")
            except services.DecisionRefused as exc:
                return str(exc.code)
            return decision

        results = sorted(_in_threads(2, decide))  # type: ignore[type-var]
        assert results in (["already_decided", "approve"], ["already_decided", "reject"])
        request.refresh_from_db()
        winner = "approve" if "approve" in results else "reject"
        assert request.status == ("approved" if winner == "approve" else "rejected")
        committed = LedgerEntry.objects.filter(reference=request.budget_reference).count()
        assert committed == (1 if winner == "approve" else 0)
        if request.status == "approved":
            services.request_cancel(
                request=request, user=funded.software_admin, reason=f"{attempt}"
            )


@pytest.mark.django_db(transaction=True)
def test_two_requests_that_fit_alone_but_not_together_are_never_both_committed(cast: Cast) -> None:
    # 10,000 allocated, 0% reserve: 6,000 fits, two of them do not.
    budget = cast.budget_a
    budget.reserve_percent = Decimal("0")
    budget.save()
    budget_services.budget_allocate(
        budget=budget, amount=Decimal("9900"), user=cast.finance, memo="m"
    )  # 100 + 9,900
    second = make_user("swadmin_a2", Role.SOFTWARE_ADMIN)
    cast.dept_a.software_admins.add(second)
    other = Subscription.objects.create(
        ref="A-2", vendor=cast.subscription_a.vendor, product="Other", department=cast.dept_a,
        seats_purchased=1, unit_price=Decimal("1"), term_start=dt.date(2026, 1, 1),
        term_end=dt.date(2026, 12, 31),
    )  # fmt: skip
    first = submitted(cast, "6000")
    other_request = services.request_create(subscription=other, user=second)
    services.quote_save(
        request=other_request, user=second, quote=other_request.chosen_quote,
        data={"unit_price": Decimal("6000")},
    )  # fmt: skip
    services.request_submit(request=other_request, user=second)
    requests = [first, other_request]

    def approve(i: int) -> str:
        try:
            services.step_decide(request=requests[i], user=cast.head_a, decision="approve")
        except services.DecisionRefused as exc:
            return str(exc.code)
        return "approved"

    results = sorted(_in_threads(2, approve))  # type: ignore[type-var]
    assert results == ["approved", "budget"]
    assert balance(budget).committed == Decimal("6000.00")
    assert balance(budget).available >= 0
    statuses = sorted(RenewalRequest.objects.values_list("status", flat=True))
    assert statuses == ["approved", "submitted"]  # the refused one still waits for budget


# --- execution --------------------------------------------------------------------------------


def test_execution_moves_the_subscription_to_its_new_term(
    funded: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    holder = PersonFactory.create(department=funded.dept_a, email="holder@example.test")
    SeatFactory.create(subscription=funded.subscription_a, person=holder)
    user_holder = PersonFactory.create(department=funded.dept_a, user=funded.employee)
    SeatFactory.create(subscription=funded.subscription_a, person=user_holder)
    pending_alert = AlertDelivery.objects.create(
        subscription=funded.subscription_a, term_end=dt.date(2026, 12, 31), kind="term_end",
        threshold=7, due_on=dt.date(2026, 12, 24), channel="in_app", recipient=funded.it_admin,
    )  # fmt: skip
    request = submitted(funded, "9000")
    services.step_decide(request=request, user=funded.head_a, decision="approve")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_execute(
            request=request, user=funded.finance, order_ref="PO-2027-001", fapiao_no="FP-88",
            actual_amount=Decimal("8800.00"), actual_currency="CNY",
            term_start=dt.date(2027, 1, 1), term_end=dt.date(2027, 12, 31), seats=12,
            edition="Enterprise", modules=["Gantt"],
        )  # fmt: skip
    subscription = Subscription.objects.get(pk=funded.subscription_a.pk)
    assert (subscription.term_start, subscription.term_end) == (
        dt.date(2027, 1, 1),
        dt.date(2027, 12, 31),
    )
    assert subscription.seats_purchased == 12 and subscription.edition == "Enterprise"
    assert list(subscription.modules.values_list("name", flat=True)) == ["Gantt"]
    old = SubscriptionTerm.objects.get(subscription=subscription)
    assert (old.term_start, old.term_end, old.seats) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
        10,
    )
    # The on-time renewal rate reads when the renewal was recorded.
    assert old.renewed_at is not None and old.renewed_at <= timezone.now()
    entries = LedgerEntry.objects.filter(reference=request.budget_reference)
    assert sorted(entries.values_list("kind", flat=True)) == [
        "actual",
        "commitment",
        "commitment_release",
    ]
    # The commitment is released in its budget (the new term's year); the actual is booked in
    # the budget of the year it is paid in (BUDGET_ACTUALS_YEAR=payment; tests/budgets/
    # test_actuals_year.py covers both settings).
    assert balance(funded.budget_a).committed == 0
    paid_in = budget_services.budget_for(
        department=funded.dept_a, year=budget_services.local_today().year
    )
    assert balance(paid_in).actual == Decimal("8800.00")
    pending_alert.refresh_from_db()
    assert pending_alert.status == AlertDelivery.Status.STOPPED
    request.refresh_from_db()
    assert request.status == "executed" and request.holders_notified_at is not None
    # Every holder told: the one with an account in-app and by e-mail, the other by e-mail.
    assert Notification.objects.filter(
        user=funded.employee, title__contains=funded.subscription_a.product
    ).exists()
    told = {address for m in mail.outbox for address in m.to}
    assert {"holder@example.test", funded.employee.email} <= told
    # Telling them again (a retried task) sends nothing more.
    count = len(mail.outbox)
    assert services.seat_holders_notify(request_id=request.pk) == 0
    assert len(mail.outbox) == count


def test_only_it_or_finance_execute_and_only_approved_requests(funded: Cast) -> None:
    request = submitted(funded, "100")
    kwargs = dict(
        order_ref="PO", fapiao_no="", actual_amount=Decimal("100"), actual_currency="CNY",
        term_start=dt.date(2027, 1, 1), term_end=dt.date(2027, 12, 31),
        seats=1, edition="", modules=[],
    )  # fmt: skip
    with pytest.raises(ValidationError, match="已批准"):
        services.request_execute(request=request, user=funded.finance, **kwargs)  # type: ignore[arg-type]
    services.step_decide(request=request, user=funded.head_a, decision="approve")
    with pytest.raises(PermissionDenied):
        services.request_execute(request=request, user=funded.head_a, **kwargs)  # type: ignore[arg-type]


def test_a_decision_not_to_renew_ends_the_subscription_at_its_term_end(
    funded: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    funded.subscription_a.auto_renew = True
    funded.subscription_a.owner = funded.software_admin
    funded.subscription_a.save()
    request = services.request_create(
        subscription=funded.subscription_a, user=funded.it_admin, purpose=Purpose.CANCEL,
        justification="没人用",
    )  # fmt: skip
    services.request_submit(request=request, user=funded.it_admin)
    request.refresh_from_db()
    assert request.amount_base == 0 and roles_of(request) == ["department_head"]
    with django_capture_on_commit_callbacks(execute=True):
        services.step_decide(request=request, user=funded.head_a, decision="approve")
    subscription = Subscription.objects.get(pk=funded.subscription_a.pk)
    assert subscription.ends_at_term_end
    assert not LedgerEntry.objects.filter(reference=request.budget_reference).exists()
    # The owner is reminded of the cancellation deadline.
    reminder = Notification.objects.get(user=funded.software_admin)
    assert str(subscription.cancellation_deadline) in reminder.body
    # After the term end, the daily task expires it; no "expired without renewal" alert.
    from renewals.alerts.services import alerts_sweep

    assert services.subscriptions_expire_ended(today=dt.date(2027, 1, 1)) == 1
    alerts_sweep(today=dt.date(2027, 1, 1))
    assert not AlertDelivery.objects.filter(kind="expired").exists()
    assert Subscription.objects.get(pk=subscription.pk).status == "expired"


# --- alerts and the request -------------------------------------------------------------------


def test_the_head_is_not_escalated_to_while_a_request_is_under_way(cast: Cast) -> None:
    from renewals.alerts.services import alerts_sweep

    day = dt.date(2026, 12, 24)  # 7 days before subscription A ends
    open_request(cast, "100")
    alerts_sweep(today=day)
    assert not AlertDelivery.objects.filter(recipient=cast.head_a).exists()
    RenewalRequest.objects.update(status="cancelled")
    AlertDelivery.objects.all().delete()
    alerts_sweep(today=day)
    assert AlertDelivery.objects.filter(recipient=cast.head_a).exists()


def test_the_alert_links_straight_to_start_a_renewal_request(cast: Cast) -> None:
    from renewals.alerts.services import alerts_deliver, alerts_sweep

    cast.subscription_a.owner = cast.software_admin
    cast.subscription_a.save()
    alerts_sweep(today=dt.date(2026, 12, 1))
    alerts_deliver()
    note = Notification.objects.filter(user=cast.software_admin).latest("pk")
    path = reverse("renewals:request-create", args=[cast.subscription_a.pk])
    assert (
        note.url == path
    )  # the bell's entry is the link (tests/renewals/notify/test_mail_links.py)
    client = Client()
    client.force_login(cast.software_admin)
    page = client.get(path)
    assert page.status_code == 200 and 'data-testid="start-request"' in page.content.decode()
    created = client.post(path, {"purpose": "keep", "justification": "继续用"})
    request = RenewalRequest.objects.get()
    assert created.status_code == 302 and created["Location"] == request.get_absolute_url()
    # Following the alert again opens the request under way instead of a second one.
    assert client.get(path)["Location"] == request.get_absolute_url()
    assert client.post(path, {"purpose": "keep"})["Location"] == request.get_absolute_url()
    assert RenewalRequest.objects.count() == 1


def test_each_decision_reaches_the_next_approver_and_the_department_chat(
    funded: Cast, receiver: str, django_capture_on_commit_callbacks: Any
) -> None:
    from renewals.notify.models import ChatChannel
    from tests.renewals.notify.test_webhooks import Receiver

    ChatChannel.objects.create(
        department=funded.dept_a, name="研发群", kind="dingtalk", url=receiver, secret="SECx"
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request = submitted(funded, "60000")
    # Submitted: the head of A is asked (in-app and e-mail), the chat hears of it.
    assert Notification.objects.filter(user=funded.head_a, url=request.get_absolute_url()).exists()
    assert any(funded.head_a.email in m.to for m in mail.outbox)
    assert len(Receiver.received) == 1
    path, body = Receiver.received[0]
    assert "sign=" in path and f"#{request.pk}" in str(body)
    with django_capture_on_commit_callbacks(execute=True):
        services.step_decide(request=request, user=funded.head_a, decision="approve", comment="好")
    # Approved a step: the requester is told, finance is asked, the chat hears again.
    assert Notification.objects.filter(user=funded.software_admin).count() == 1
    assert Notification.objects.filter(user=funded.finance).count() == 1
    assert len(Receiver.received) == 2
