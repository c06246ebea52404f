"""Links in e-mails and the bell (#15.8): e-mails link to the address the app is served at
(SITE_URL: `dev.py start --port` sets it), as an HTML link and as a full address on its own line
in the text; the bell's entry is the link itself (no address pasted into its text); people are
named by their display name or directory name, never their username."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from org.models import Person
from renewals.alerts.models import AlertDelivery
from renewals.alerts.services import alerts_deliver, alerts_sweep
from renewals.notify.models import Notification
from renewals.requests import services
from renewals.requests.services import notices
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8100"


def html_of(message: mail.EmailMessage) -> str:
    return str(message.alternatives[0][0])  # type: ignore[attr-defined]


def test_request_mails_link_to_the_served_address_and_name_the_actor(
    cast: Cast, settings: object
) -> None:
    settings.SITE_URL = SITE  # type: ignore[attr-defined]
    cast.head_a.display_name = "张伟"
    cast.head_a.save()
    request = services.request_create(subscription=cast.subscription_a, user=cast.software_admin)
    services.request_submit(request=request, user=cast.software_admin)
    services.step_decide(request=request, user=cast.head_a, decision="approve")
    request.refresh_from_db()
    mail.outbox.clear()
    event = "approved" if request.status == "approved" else "approved_step"
    notices.request_notify(request_id=request.pk, event=event, actor_id=cast.head_a.pk)

    full = SITE + request.get_absolute_url()
    message = next(m for m in mail.outbox if m.to == [cast.software_admin.email])
    assert full in message.body.splitlines()  # the address alone on its line
    assert f'<a href="{full}">' in html_of(message)
    assert ":8000" not in message.body + html_of(message)
    assert "张伟" in message.body and cast.head_a.username not in message.body

    bell = Notification.objects.filter(user=cast.software_admin).latest("pk")
    assert bell.url == request.get_absolute_url()
    assert "http" not in bell.body and "张伟" in bell.body


def test_without_a_display_name_the_directory_name_is_used(cast: Cast) -> None:
    cast.head_a.display_name = ""
    cast.head_a.save()
    Person.objects.create(employee_no="H-1", name="张伟", department=cast.dept_a, user=cast.head_a)
    assert cast.head_a.get_full_name() == "张伟"
    request = services.request_create(subscription=cast.subscription_a, user=cast.software_admin)
    services.request_submit(request=request, user=cast.software_admin)
    services.step_decide(request=request, user=cast.head_a, decision="approve")
    request.refresh_from_db()
    event = "approved" if request.status == "approved" else "approved_step"
    notices.request_notify(request_id=request.pk, event=event, actor_id=cast.head_a.pk)
    bell = Notification.objects.filter(user=cast.software_admin).latest("pk")
    assert "张伟" in bell.body and cast.head_a.username not in bell.body


def test_alerts_link_to_the_served_address_and_the_bell_is_the_link(
    cast: Cast, settings: object
) -> None:
    settings.SITE_URL = SITE  # type: ignore[attr-defined]
    cast.subscription_a.owner = cast.software_admin
    cast.subscription_a.save()
    alerts_sweep(today=dt.date(2026, 12, 1))
    alerts_deliver()
    path = reverse("renewals:request-create", args=[cast.subscription_a.pk])
    assert AlertDelivery.objects.filter(recipient=cast.software_admin, status="sent").exists()
    message = next(m for m in mail.outbox if m.to == [cast.software_admin.email])
    assert SITE + path in message.body.splitlines()
    assert f'<a href="{SITE + path}">' in html_of(message)
    bell = Notification.objects.filter(user=cast.software_admin).latest("pk")
    assert bell.url == path and "http" not in bell.body and path not in bell.body
