"""Every role's home says what to do (#15 point 11): the approvals waiting, the user's renewals
due, their drafts, and for someone without a role their own tools (My software)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from org.models import Person, User
from renewals.inventory.models import Subscription
from renewals.requests import services
from renewals.requests.models.requests import RenewalRequest
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.factories import ModuleFactory, PersonFactory, SubscriptionFactory, VendorFactory

pytestmark = pytest.mark.django_db


def client_for(user: User, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def home(user: User) -> str:
    response = client_for(user).get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def due_in(days: int, **extra: object) -> Subscription:
    today = timezone.localdate()
    return SubscriptionFactory.create(
        term_start=today - dt.timedelta(days=300), term_end=today + dt.timedelta(days=days), **extra
    )


def person_of(user: User, cast: Cast) -> Person:
    return PersonFactory.create(department=cast.dept_a, user=user, name="王小明")


def test_an_approver_is_told_how_many_requests_wait_for_them(cast: Cast) -> None:
    for _ in range(2):
        request = services.request_create(
            subscription=SubscriptionFactory.create(department=cast.dept_a),
            user=cast.software_admin,
        )
        services.request_submit(request=request, user=cast.software_admin)
    page = home(cast.head_a)
    assert 'data-testid="todo-awaiting"' in page
    assert "2 requests waiting for your approval" in page
    assert reverse("renewals:approval-inbox") in page
    # Head B approves for department B only: nothing waits for them, and they are told so.
    assert "0 requests waiting for your approval" in home(cast.head_b)


def test_who_may_not_approve_gets_no_approvals_line_nor_a_link_to_the_inbox(cast: Cast) -> None:
    for user in (cast.software_admin, cast.auditor, cast.employee):
        page = home(user)
        assert 'data-testid="todo-awaiting"' not in page, user
        assert reverse("renewals:approval-inbox") not in page, user


def test_the_renewals_due_are_those_the_user_owns_or_administers(cast: Cast) -> None:
    owned = due_in(30, department=cast.dept_b, owner=cast.employee, product="飞书项目")
    administered = due_in(45, department=cast.dept_a_child, product="Jira Software")
    # The cancellation deadline of an auto-renewing subscription comes first: 90 - 75 = 15 days.
    deadline = due_in(
        90, department=cast.dept_a, product="Asana", auto_renew=True, notice_period_days=75
    )
    due_in(90, department=cast.dept_a, product="Later Than Sixty")  # not due yet
    due_in(20, department=cast.dept_b, product="Not Theirs")  # another department
    due_in(10, department=cast.dept_a, product="Cancelled One", status="cancelled")

    page = home(cast.software_admin)
    assert 'data-testid="todo-due"' in page
    # cast.subscription_a (department A) ends on 2026-12-31: due too when the test runs before.
    expected = [administered, deadline]
    today = timezone.localdate()
    if today <= cast.subscription_a.term_end <= today + dt.timedelta(days=60):
        expected.append(cast.subscription_a)
    for sub in expected:
        assert sub.product in page and sub.get_absolute_url() in page
    for product in ("飞书项目", "Later Than Sixty", "Not Theirs", "Cancelled One"):
        assert product not in page, product
    assert f"Your renewals due ({len(expected)})" in page

    # The employee owns one; they may not open subscription pages: the row is named, not linked.
    page = home(cast.employee)
    assert owned.product in page and "Jira Software" not in page
    assert owned.get_absolute_url() not in page
    # Head A owns one of department B: told, but not sent to a page they may not open.
    other = due_in(25, department=cast.dept_b, owner=cast.head_a, product="Tower B")
    page = home(cast.head_a)
    assert "Tower B" in page and other.get_absolute_url() not in page
    assert client_for(cast.head_a).get(other.get_absolute_url()).status_code == 404


def test_a_renewal_under_way_is_marked(cast: Cast) -> None:
    sub = due_in(30, department=cast.dept_a, product="Jira")
    assert "renewal under way" not in home(cast.software_admin)
    services.request_create(subscription=sub, user=cast.head_a)
    assert "renewal under way" in home(cast.software_admin)


def test_the_users_drafts_are_listed_until_submitted(cast: Cast) -> None:
    draft = services.request_create(subscription=cast.subscription_a, user=cast.software_admin)
    url = reverse("renewals:request-detail", args=[draft.pk])
    page = home(cast.software_admin)
    assert 'data-testid="todo-drafts"' in page and url in page
    assert url not in home(cast.head_a)  # not theirs
    services.request_submit(request=draft, user=cast.software_admin)
    assert url not in home(cast.software_admin)
    draft.refresh_from_db()
    assert draft.status != RenewalRequest.Status.DRAFT


def test_nothing_to_do_is_said(cast: Cast) -> None:
    assert 'data-testid="todo-nothing"' in home(cast.auditor)


def _seats_for(user: User, cast: Cast, count: int) -> list[Seat]:
    person = Person.objects.filter(user=user).first() or person_of(user, cast)
    seats = []
    for n in range(count):
        sub = SubscriptionFactory.create(
            department=cast.dept_a, vendor=VendorFactory.create(name=f"厂商{n}"), edition="Premium",
            owner=cast.head_a,
        )  # fmt: skip
        seat = Seat.objects.create(
            subscription=sub, person=person, assigned_on=dt.date(2025, 3, n + 1),
            last_active_on=timezone.localdate() - dt.timedelta(days=3), account=f"wxm{n}",
        )  # fmt: skip
        seat.modules.add(ModuleFactory.create(subscription=sub, name=f"甘特图{n}"))
        seats.append(seat)
    return seats


def test_an_employees_home_shows_their_software_instead_of_zero_cards(cast: Cast) -> None:
    assert 'data-testid="count-departments"' in home(cast.head_a)
    seat = _seats_for(cast.employee, cast, 1)[0]
    # A seat given back is not theirs any more.
    gone = _seats_for(cast.employee, cast, 1)[0]
    gone.subscription.product = "Returned Tool"
    gone.subscription.save()
    Seat.objects.filter(pk=gone.pk).update(revoked_on=timezone.localdate())

    page = home(cast.employee)
    assert 'data-testid="count-departments"' not in page
    assert 'data-testid="count-people-active"' not in page
    assert 'data-testid="home-my-software"' in page
    assert seat.subscription.product in page and "Returned Tool" not in page
    assert "Premium" in page and "2025-03-01" in page and "甘特图0" in page
    assert "wxm0" in page
    # Whom to ask: the owner and department A's software admin, as mail links.
    assert f"mailto:{cast.head_a.email}" in page and f"mailto:{cast.software_admin.email}" in page
    suggest = reverse("renewals:suggestion-add") + f"?subscription={seat.subscription.pk}"
    assert suggest in page and f"{suggest}&amp;reason=return" in page


def test_an_idle_seat_is_flagged(cast: Cast) -> None:
    seat = _seats_for(cast.employee, cast, 1)[0]
    assert 'data-testid="seat-idle"' not in home(cast.employee)
    Seat.objects.filter(pk=seat.pk).update(
        last_active_on=timezone.localdate() - dt.timedelta(days=200)
    )
    assert 'data-testid="seat-idle"' in home(cast.employee)


def test_return_my_seat_opens_a_suggestion_with_its_title_filled_in(cast: Cast) -> None:
    seat = _seats_for(cast.employee, cast, 1)[0]
    url = reverse("renewals:suggestion-add") + f"?subscription={seat.subscription.pk}&reason=return"
    page = client_for(cast.employee).get(url).content.decode()
    assert "Return my seat: I no longer need it" in page
    assert f'value="{seat.subscription.pk}" selected' in page


def test_my_software_is_in_the_user_menu_of_everyone_who_holds_seats(cast: Cast) -> None:
    link = 'data-testid="my-software-link"'
    assert link not in home(cast.head_a)
    _seats_for(cast.head_a, cast, 1)
    assert link in home(cast.head_a)
    page = client_for(cast.head_a).get(reverse("renewals:my-software")).content.decode()
    assert 'data-testid="my-seat"' in page
    # A head may open the subscription; the tool's name links to it.
    assert Subscription.objects.filter(owner=cast.head_a).get().get_absolute_url() in page


def test_my_software_without_seats_says_how_to_ask(cast: Cast) -> None:
    person_of(cast.employee, cast)
    page = client_for(cast.employee).get(reverse("renewals:my-software")).content.decode()
    assert 'data-testid="no-seats"' in page
    assert f"mailto:{cast.software_admin.email}" in page  # department A's software admin


def test_my_software_reads_a_fixed_number_of_queries_whatever_the_seats(cast: Cast) -> None:
    client = client_for(cast.employee)

    def count() -> int:
        client.get(reverse("renewals:my-software"))
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("renewals:my-software")).status_code == 200
        home_ctx = CaptureQueriesContext(connection)
        with home_ctx:
            assert client.get(reverse("home")).status_code == 200
        return len(ctx.captured_queries) * 1000 + len(home_ctx.captured_queries)

    _seats_for(cast.employee, cast, 1)
    few = count()
    _seats_for(cast.employee, cast, 9)
    assert count() == few
    assert (
        client.get(reverse("renewals:my-software")).content.decode().count('data-testid="my-seat"')
        == 10
    )
