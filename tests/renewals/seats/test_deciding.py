"""Deciding seat requests: grant from a free seat (each role that manages the department), a
full subscription offers more seats, escalating joins or drafts a renewal request, declining
needs an answer, replays and races, and the requester is told in their language."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import translation

from org.models import Person
from org.roles import Role
from renewals.inventory.models import Subscription
from renewals.notify.models import Notification
from renewals.requests import services as request_services
from renewals.requests.models.requests import RenewalRequest
from renewals.seats import services
from renewals.seats.models import SeatRequest
from renewals.usage.models import Seat
from renewals.usage.services import SeatLimitReached
from tests.conftest import Cast, make_user
from tests.factories import PersonFactory
from tests.renewals.seats.conftest import ask, subscription_with

INBOX = reverse("renewals:seat-request-inbox")


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(action: str, request: SeatRequest) -> str:
    return reverse(f"renewals:seat-request-{action}", args=[request.pk])


@pytest.mark.parametrize("role", ["software_admin", "head_a", "it_admin"])
def test_those_who_manage_the_department_grant_in_one_click(
    cast: Cast, me: Person, free_sub: Subscription, role: str
) -> None:
    dev_mode = free_sub.modules.get(name="Dev Mode")
    request = ask(cast, me, free_sub, modules=[dev_mode])
    client = _client(getattr(cast, role))
    page = client.get(INBOX).content.decode()
    assert 'data-testid="seat-request"' in page and 'data-testid="grant"' in page
    assert client.post(_url("grant", request)).status_code == 302
    request.refresh_from_db()
    assert request.status == "granted" and request.decided_by == getattr(cast, role)
    assert request.seat is not None and request.seat.person == me
    assert list(request.seat.modules.all()) == [dev_mode]
    assert 'data-testid="seat-request"' not in client.get(INBOX).content.decode()


def test_others_cannot_decide(cast: Cast, me: Person, free_sub: Subscription) -> None:
    request = ask(cast, me, free_sub)
    for user, status in [(cast.head_b, 404), (cast.employee, 403), (cast.finance, 403)]:
        for action in ("grant", "decline", "escalate"):
            assert _client(user).post(_url(action, request)).status_code == status
    assert _client(cast.head_b).get(INBOX).content.decode().count('data-testid="seat-request"') == 0
    request.refresh_from_db()
    assert request.status == "open" and not Seat.objects.filter(person=me).exists()


def test_nobody_decides_their_own_request(cast: Cast, free_sub: Subscription) -> None:
    Person.objects.create(
        employee_no="S-A", name="管理员", department=cast.dept_a, user=cast.software_admin
    )
    request = services.seat_request_ask(user=cast.software_admin, subscription=free_sub)
    with pytest.raises(PermissionDenied):
        services.seat_request_grant(user=cast.software_admin, seat_request=request)
    # Another manager of the department does.
    services.seat_request_grant(user=cast.head_a, seat_request=request)


def test_a_full_subscription_offers_more_seats(
    cast: Cast, me: Person, full_sub: Subscription
) -> None:
    request = ask(cast, me, full_sub)
    client = _client(cast.software_admin)
    page = client.get(INBOX).content.decode()
    # No seat is free: "ask for more seats" is offered instead of granting.
    assert 'data-testid="grant"' not in page and 'data-testid="escalate"' in page
    with translation.override("en"), pytest.raises(SeatLimitReached, match="is full"):
        services.seat_request_grant(user=cast.software_admin, seat_request=request)
    # A grant posted anyway (a stale page) is answered with the offer.
    response = client.post(_url("grant", request))
    assert response.status_code == 302 and f"full={request.pk}" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="full-offer"' in page and 'data-testid="escalate"' in page
    request.refresh_from_db()
    assert request.status == "open" and request.seat is None


def test_escalating_drafts_a_more_seats_request(
    cast: Cast, me: Person, full_sub: Subscription, django_capture_on_commit_callbacks: Any
) -> None:
    first = ask(cast, me, full_sub)
    other = PersonFactory.create(department=cast.dept_a, user=make_user("bing"))
    second = services.seat_request_ask(user=other.user, subscription=full_sub)  # type: ignore[arg-type]
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(cast.software_admin).post(_url("escalate", first))
    first.refresh_from_db()
    renewal = first.renewal_request
    assert first.status == "escalated" and renewal is not None
    assert response["Location"] == renewal.get_absolute_url()
    assert (renewal.purpose, renewal.status, renewal.requested_by) == (
        "seats",
        "draft",
        cast.software_admin,
    )
    assert renewal.proposed_seats == 3  # 2 purchased + 1 waiting
    assert list(renewal.proposed_people.all()) == [me]
    assert Notification.objects.filter(
        user=cast.employee, url=reverse("renewals:my-software")
    ).exists()
    # The second joins the same request (no second draft); its seats are left to its author.
    services.seat_request_escalate(user=cast.head_a, seat_request=second)
    second.refresh_from_db()
    assert second.renewal_request == renewal
    assert set(renewal.proposed_people.all()) == {me, other}
    assert RenewalRequest.objects.filter(subscription=full_sub).count() == 1
    # Escalating again is refused while the renewal request is under way.
    with pytest.raises(ValidationError):
        services.seat_request_escalate(user=cast.head_a, seat_request=second)
    # Withdrawing leaves the renewal request's people.
    services.seat_request_withdraw(user=other.user, seat_request=second)  # type: ignore[arg-type]
    assert list(renewal.proposed_people.all()) == [me]


def test_escalating_joins_an_open_renewal_request(
    cast: Cast, me: Person, full_sub: Subscription
) -> None:
    renewal = request_services.request_create(subscription=full_sub, user=cast.software_admin)
    request = ask(cast, me, full_sub)
    services.seat_request_escalate(user=cast.it_admin, seat_request=request)
    request.refresh_from_db()
    assert request.renewal_request == renewal and request.status == "escalated"
    assert list(renewal.proposed_people.all()) == [me]
    assert renewal.events.filter(kind="edited").exists()


def test_execution_grants_the_waiting_seats(
    cast: Cast, me: Person, full_sub: Subscription, django_capture_on_commit_callbacks: Any
) -> None:
    import datetime as dt
    from decimal import Decimal

    from budgets import services as budget_services
    from renewals.execution.services import request_execute

    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("1000000"), user=cast.finance, memo="预算"
    )
    request = ask(cast, me, full_sub)
    others = [PersonFactory.create(department=cast.dept_a) for _ in range(2)]
    waiting = [
        services.seat_request_create(user=cast.software_admin, subscription=full_sub, person=p)
        for p in others
    ]
    services.seat_request_escalate(user=cast.software_admin, seat_request=request)
    for seat_request in waiting:
        services.seat_request_escalate(user=cast.it_admin, seat_request=seat_request)
    request.refresh_from_db()
    renewal = request.renewal_request
    assert renewal is not None and renewal.requested_by == cast.software_admin
    request_services.request_submit(request=renewal, user=cast.software_admin)
    approvers = {Role.DEPARTMENT_HEAD: cast.head_a, Role.FINANCE: cast.finance}
    while (step := renewal.steps.filter(status="pending").first()) is not None:
        approver = approvers.get(step.role, cast.it_admin)  # type: ignore[call-overload]
        request_services.step_decide(request=renewal, user=approver, decision="approve")
    renewal.refresh_from_db()
    assert renewal.status == "approved", renewal.status
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        # Only one more seat was bought in the end: the first waiting gets it.
        request_execute(
            request=renewal, user=cast.finance, order_ref="PO-1", fapiao_no="FP-1",
            actual_amount=Decimal("3000"), actual_currency="CNY", term_start=dt.date(2027, 1, 1),
            term_end=dt.date(2027, 12, 31), seats=3, edition="", modules=[],
        )  # fmt: skip
    statuses = dict(SeatRequest.objects.values_list("person_id", "status"))
    assert statuses[me.pk] == "granted"
    assert [statuses[p.pk] for p in others] == ["escalated", "escalated"]
    assert Seat.objects.filter(person=me, subscription=full_sub, revoked_on__isnull=True).exists()
    assert Notification.objects.filter(
        user=cast.employee, title__contains=full_sub.display_name
    ).exists()


def test_declining_needs_an_answer_and_tells_why(
    cast: Cast, me: Person, free_sub: Subscription, django_capture_on_commit_callbacks: Any
) -> None:
    cast.employee.language = "en"
    cast.employee.save()
    request = ask(cast, me, free_sub)
    client = _client(cast.software_admin)
    client.post(_url("decline", request), {"answer": "   "})
    request.refresh_from_db()
    assert request.status == "open"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url("decline", request), {"answer": "<b>Use FigJam</b> instead"})
    request.refresh_from_db()
    assert request.status == "declined" and request.answer == "<b>Use FigJam</b> instead"
    # Told in English, their language: in the bell and by e-mail.
    told = Notification.objects.get(user=cast.employee)
    assert "was declined" in told.title and "Use FigJam" in told.body
    (message,) = [
        m for m in mail.outbox if m.to == ["yi@example.test"] or cast.employee.email in m.to
    ]
    html = message.alternatives[0][0]  # type: ignore[attr-defined]
    assert "&lt;b&gt;Use FigJam" in html and "<b>Use FigJam" not in html
    # Oversized answers are refused.
    with pytest.raises(ValidationError):
        services.seat_request_decline(user=cast.head_a, seat_request=request, answer="x" * 3000)


def test_granting_tells_the_requester_in_chinese(
    cast: Cast, me: Person, free_sub: Subscription, django_capture_on_commit_callbacks: Any
) -> None:
    request = ask(cast, me, free_sub)
    with django_capture_on_commit_callbacks(execute=True):
        services.seat_request_grant(user=cast.software_admin, seat_request=request)
    told = Notification.objects.get(user=cast.employee)
    assert "Figma" in told.title and any("\u4e00" <= ch <= "\u9fff" for ch in told.title)


def test_a_replayed_grant_is_told_already_granted(
    cast: Cast, me: Person, free_sub: Subscription
) -> None:
    request = ask(cast, me, free_sub)
    client = _client(cast.software_admin)
    assert client.post(_url("grant", request)).status_code == 302
    client.post(_url("grant", request))  # the double click
    with translation.override("en"), pytest.raises(ValidationError, match="already granted") as exc:
        services.seat_request_grant(user=cast.head_a, seat_request=request)
    assert exc.value.code == "already_decided"
    assert Seat.objects.filter(person=me, subscription=free_sub).count() == 1


def test_script_in_the_answer_is_text_on_my_software(
    cast: Cast, me: Person, free_sub: Subscription
) -> None:
    request = ask(cast, me, free_sub)
    services.seat_request_decline(
        user=cast.software_admin, seat_request=request, answer="<script>alert(1)</script>"
    )
    html = _client(cast.employee).get(reverse("renewals:my-software")).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


@pytest.mark.parametrize("pk", ["0", "9" * 25, "-1", "abc"])
def test_hostile_ids_are_not_found(cast: Cast, pk: str) -> None:
    client = _client(cast.it_admin)
    url = f"/seat-requests/{pk}/grant/"
    assert client.post(url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_admins_granting_the_last_free_seat_to_two_requests(cast: Cast) -> None:
    """Each in its own thread and connection, both past every check before either inserts:
    one person gets the seat, the other request stays open and its admin is told it is full."""
    sub = subscription_with(cast, seats=2, taken=1)
    people = [PersonFactory.create(department=cast.dept_a) for _ in range(2)]
    requests = [
        services.seat_request_create(user=cast.it_admin, subscription=sub, person=p) for p in people
    ]
    admins = [cast.software_admin, cast.head_a]
    barrier = threading.Barrier(2)
    original = Seat.save

    def save_after_both(self: Seat, *args: Any, **kwargs: Any) -> None:
        barrier.wait(timeout=10)
        original(self, *args, **kwargs)

    def run(i: int) -> str:
        try:
            services.seat_request_grant(user=admins[i], seat_request=requests[i])
            return "granted"
        except SeatLimitReached:
            return "full"
        finally:
            connection.close()

    Seat.save = save_after_both  # type: ignore[method-assign,assignment]
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = sorted(pool.map(run, range(2)))
    finally:
        Seat.save = original  # type: ignore[method-assign]
    assert outcomes == ["full", "granted"]
    assert sorted(SeatRequest.objects.values_list("status", flat=True)) == ["granted", "open"]
    assert Seat.objects.filter(subscription=sub, revoked_on__isnull=True).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_double_click_from_two_tabs_grants_once(cast: Cast) -> None:
    sub = subscription_with(cast, seats=5, taken=0)
    person = PersonFactory.create(department=cast.dept_a)
    request = services.seat_request_create(user=cast.it_admin, subscription=sub, person=person)

    def run(user: Any) -> str:
        try:
            services.seat_request_grant(user=user, seat_request=request)
            return "granted"
        except ValidationError as exc:
            return str(exc.code)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(run, [cast.software_admin, cast.head_a]))
    assert outcomes == ["already_decided", "granted"]
    assert Seat.objects.filter(subscription=sub).count() == 1


def test_home_counts_the_open_requests_for_those_who_decide(
    cast: Cast, me: Person, free_sub: Subscription
) -> None:
    ask(cast, me, free_sub)
    home = reverse("home")
    page = _client(cast.software_admin).get(home).content.decode()
    assert 'data-testid="todo-seat-requests"' in page and INBOX in page
    for user in (cast.head_b, cast.finance, cast.employee):
        assert 'data-testid="todo-seat-requests"' not in _client(user).get(home).content.decode()


def test_the_inbox_reads_a_fixed_number_of_queries(
    cast: Cast, free_sub: Subscription, django_assert_max_num_queries: Any
) -> None:
    for _ in range(6):
        services.seat_request_create(
            user=cast.software_admin, subscription=free_sub,
            person=PersonFactory.create(department=cast.dept_a),
        )  # fmt: skip
    client = _client(cast.software_admin)
    client.get(INBOX)
    with django_assert_max_num_queries(14):
        assert client.get(INBOX).content.decode().count('data-testid="seat-request"') == 6
