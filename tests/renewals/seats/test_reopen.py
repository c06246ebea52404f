"""A seat request waiting for a "more seats" renewal request that ends without seats (cancelled
here; a rejection the same) opens again, and its requester and deciders are told: by the
scheduled job, whichever page or API call ended the renewal request."""

from __future__ import annotations

from typing import Any

from django.core import mail
from django.urls import reverse

from org.models import Person
from renewals.inventory.models import Subscription
from renewals.notify.models import Notification
from renewals.requests import services as request_services
from renewals.seats import services
from renewals.seats.models import SeatRequest
from renewals.tasks import reopen_seat_requests
from tests.conftest import Cast
from tests.renewals.seats.conftest import ask


def test_a_request_waiting_for_a_cancelled_renewal_opens_again(
    cast: Cast, me: Person, full_sub: Subscription, django_capture_on_commit_callbacks: Any
) -> None:
    waiting = services.seat_request_escalate(
        user=cast.software_admin, seat_request=ask(cast, me, full_sub)
    )
    renewal = waiting.renewal_request
    assert renewal is not None
    # Nothing to do while the renewal request is under way.
    assert services.seat_requests_reopen() == 0
    request_services.request_cancel(request=renewal, user=cast.software_admin, reason="预算冻结")
    Notification.objects.all().delete()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert reopen_seat_requests() == "1 reopened"
    waiting.refresh_from_db()
    assert waiting.status == SeatRequest.Status.OPEN
    mine = Notification.objects.get(user=cast.employee)
    assert mine.url == reverse("renewals:my-software") and "重新打开" in mine.title
    assert Notification.objects.filter(
        user=cast.software_admin, url=reverse("renewals:seat-request-inbox")
    ).exists()
    # Run again (or in a second worker): nothing more happens.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.seat_requests_reopen() == 0
    # Open again, it can be escalated anew: a new "more seats" draft.
    again = services.seat_request_escalate(user=cast.software_admin, seat_request=waiting)
    assert again.renewal_request not in (None, renewal)
