"""Alerts and the request: no escalation while one is under way, the alert starts one, notices
reach the next approver."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core import mail
from django.test import Client
from django.urls import reverse

from renewals.alerts.models import AlertDelivery
from renewals.notify.models import Notification
from renewals.requests import services
from renewals.requests.models.requests import RenewalRequest
from tests.conftest import Cast
from tests.renewals.requests.conftest import open_request, submitted

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
