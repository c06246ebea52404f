"""Asking for a seat: who may ask for what (own department, shared tools), the form and the
"my software" panel, refusals (nothing written), withdrawing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from org.models import Person
from renewals.inventory.models import Subscription
from renewals.notify.models import Notification
from renewals.seats import services
from renewals.seats.models import SeatRequest
from tests.conftest import Cast
from tests.factories import SeatFactory, SubscriptionFactory
from tests.renewals.seats.conftest import ask

ADD = reverse("renewals:seat-request-add")
MINE = reverse("renewals:my-software")


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_employee_asks_from_my_software_and_the_admin_is_told(
    cast: Cast, me: Person, free_sub: Subscription, django_capture_on_commit_callbacks: Any
) -> None:
    client = _client(cast.employee)
    page = client.get(MINE).content.decode()
    assert "Figma" in page and f"?subscription={free_sub.pk}" in page
    form = client.get(f"{ADD}?subscription={free_sub.pk}")
    assert form.status_code == 200
    dev_mode = free_sub.modules.get(name="Dev Mode")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            ADD, {"subscription": free_sub.pk, "modules": [dev_mode.pk], "reason": "设计评审"}
        )
    assert response.status_code == 302
    request = SeatRequest.objects.get()
    assert (request.person, request.requested_by, request.status) == (me, cast.employee, "open")
    assert list(request.modules.all()) == [dev_mode]
    # The department's software admin hears of it, with a link to the inbox.
    told = Notification.objects.get(user=cast.software_admin)
    assert told.url == reverse("renewals:seat-request-inbox") and "Figma" in told.title
    # The panel now says the seat is requested and offers to withdraw.
    page = client.get(MINE).content.decode()
    assert 'data-testid="my-seat-request"' in page and 'data-testid="withdraw"' in page


def test_the_subscription_page_offers_to_ask(cast: Cast, free_sub: Subscription) -> None:
    """A head in the directory may open the page: the button is there, and gone once asked."""
    head = Person.objects.create(
        employee_no="H-A", name="甲主管", department=cast.dept_a, user=cast.head_a
    )
    client = _client(cast.head_a)
    url = free_sub.get_absolute_url()
    assert 'data-testid="ask-seat"' in client.get(url).content.decode()
    services.seat_request_ask(user=cast.head_a, subscription=free_sub)
    page = client.get(url).content.decode()
    assert 'data-testid="ask-seat"' not in page and 'data-testid="seat-requested"' in page
    SeatFactory.create(subscription=free_sub, person=head)
    SeatRequest.objects.update(status="granted")
    page = client.get(url).content.decode()
    assert 'data-testid="ask-seat"' not in page and 'data-testid="seat-requested"' not in page


def test_employees_still_cannot_open_subscription_pages(cast: Cast, me: Person) -> None:
    assert _client(cast.employee).get(cast.subscription_a.get_absolute_url()).status_code == 403


def test_someone_not_in_the_directory_is_told_clearly(cast: Cast, free_sub: Subscription) -> None:
    with translation.override("en"):
        with pytest.raises(ValidationError, match="not linked to an active entry"):
            services.seat_request_ask(user=cast.employee, subscription=free_sub)
    client = _client(cast.employee)
    assert 'data-testid="no-person"' in client.get(ADD).content.decode()
    assert 'data-testid="no-person"' in client.get(MINE).content.decode()
    assert client.post(ADD, {"subscription": free_sub.pk}).status_code == 200
    assert not SeatRequest.objects.exists()


def test_shared_tools_of_other_departments_may_be_asked_for(cast: Cast, me: Person) -> None:
    shared = SubscriptionFactory.create(department=cast.dept_b, product="Miro", tags=["共享"])
    private = SubscriptionFactory.create(department=cast.dept_b, product="Canva", tags=["设计"])
    page = _client(cast.employee).get(MINE).content.decode()
    assert "Miro" in page and "Canva" not in page
    assert ask(cast, me, shared).subscription == shared
    with pytest.raises(PermissionDenied):
        ask(cast, me, private)
    # By id in the form: not one of the choices.
    response = _client(cast.employee).post(ADD, {"subscription": private.pk})
    assert response.status_code == 400
    assert SeatRequest.objects.filter(subscription=private).count() == 0


@pytest.mark.parametrize(
    "data",
    [
        {"subscription": "-1"},
        {"subscription": "9" * 25},
        {"subscription": "1 OR 1=1"},
        {"subscription": ""},
        {"modules": ["abc"]},
        {"modules": ["9" * 25]},
        {"reason": "x" * 2001},
    ],
)
def test_broken_and_hostile_input_is_refused(
    cast: Cast, me: Person, free_sub: Subscription, data: dict[str, Any]
) -> None:
    post = {"subscription": free_sub.pk, "reason": "ok", **data}
    response = _client(cast.employee).post(ADD, post)
    assert response.status_code == 400
    assert not SeatRequest.objects.exists()


def test_modules_of_another_subscription_are_refused(
    cast: Cast, me: Person, free_sub: Subscription
) -> None:
    other = SubscriptionFactory.create(department=cast.dept_a)
    module = free_sub.modules.first()
    assert module is not None
    response = _client(cast.employee).post(ADD, {"subscription": other.pk, "modules": [module.pk]})
    assert response.status_code == 400
    with pytest.raises(ValidationError):
        ask(cast, me, other, modules=[module])
    assert not SeatRequest.objects.exists()


def test_one_open_request_per_person_and_seat(
    cast: Cast, me: Person, free_sub: Subscription
) -> None:
    ask(cast, me, free_sub)
    with translation.override("en"), pytest.raises(ValidationError, match="already an open"):
        ask(cast, me, free_sub)
    SeatFactory.create(subscription=free_sub, person=me)
    SeatRequest.objects.update(status="granted")
    with translation.override("en"), pytest.raises(ValidationError, match="already holds"):
        ask(cast, me, free_sub)
    assert SeatRequest.objects.count() == 1


def test_not_live_subscriptions_and_leavers_are_refused(cast: Cast, me: Person) -> None:
    expired = SubscriptionFactory.create(department=cast.dept_a, status="expired")
    with pytest.raises(PermissionDenied):
        ask(cast, me, expired)
    live = SubscriptionFactory.create(department=cast.dept_a)
    me.status, me.left_on = "left", live.term_start
    me.save()
    with pytest.raises(ValidationError):
        ask(cast, me, live)
    assert not SeatRequest.objects.exists()


def test_script_in_the_reason_is_text(cast: Cast, me: Person, free_sub: Subscription) -> None:
    ask(cast, me, free_sub, reason="<script>alert(1)</script><b>x</b>")
    page = _client(cast.software_admin).get(reverse("renewals:seat-request-inbox"))
    html = page.content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_the_requester_withdraws(cast: Cast, me: Person, free_sub: Subscription) -> None:
    request = ask(cast, me, free_sub)
    url = reverse("renewals:seat-request-withdraw", args=[request.pk])
    # Someone else's request does not exist for them.
    assert _client(cast.software_admin).post(url).status_code == 404
    assert _client(cast.employee).post(url).status_code == 302
    request.refresh_from_db()
    assert request.status == "withdrawn"
    # A replay is told, and nothing changes.
    with translation.override("en"), pytest.raises(ValidationError, match="withdrawn"):
        services.seat_request_withdraw(user=cast.employee, seat_request=request)
    # Asking again is possible once withdrawn.
    assert ask(cast, me, free_sub).status == "open"
