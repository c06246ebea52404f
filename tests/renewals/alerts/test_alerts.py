"""Renewal alerts: due thresholds, recipients and escalation, exactly once across repeated,
concurrent and catch-up sweeps, delivery with retries, the notification centre."""

from __future__ import annotations

import datetime as dt
import threading
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule, Success
from django_q.scheduler import scheduler

from core.schedules import PREFIX
from org.models import User
from renewals.alerts import services as alerts
from renewals.alerts.models import AlertDelivery
from renewals.inventory.models import Subscription
from renewals.notify.models import Notification
from tests.conftest import Cast
from tests.factories import SubscriptionFactory

TERM_END = dt.date(2027, 3, 31)


@pytest.fixture
def sub(cast: Cast) -> Subscription:
    cast.it_admin.email = "it@example.cn"
    cast.it_admin.save()
    return SubscriptionFactory.create(
        ref="ALERT-1", department=cast.dept_a, owner=cast.software_admin,
        term_start=dt.date(2026, 4, 1), term_end=TERM_END,
    )  # fmt: skip


def run(day: dt.date) -> None:
    alerts.alerts_sweep(today=day)
    alerts.alerts_deliver()


def received(user: User) -> list[tuple[str, int]]:
    return sorted(
        AlertDelivery.objects.filter(
            subscription__ref="ALERT-1", recipient=user, channel="in_app", status="sent"
        ).values_list("kind", "threshold")
    )


def days_before(n: int) -> dt.date:
    return TERM_END - dt.timedelta(days=n)


@pytest.mark.django_db
def test_60_30_7_day_alerts_reach_owner_software_admins_and_it_heads_from_7(
    cast: Cast, sub: Subscription
) -> None:
    for day in (
        days_before(61),
        days_before(60),
        days_before(45),
        days_before(30),
        days_before(7),
        days_before(3),
    ):
        run(day)
    expected = [("term_end", 7), ("term_end", 30), ("term_end", 60)]
    assert received(cast.software_admin) == expected  # owner and software admin of A
    assert received(cast.it_admin) == expected
    assert received(cast.head_a) == [("term_end", 7)]  # escalation only
    assert received(cast.head_b) == [] and received(cast.finance) == []
    assert Notification.objects.filter(user=cast.software_admin, subscription=sub).count() == 3
    emails = [m for m in mail.outbox if m.to == ["it@example.cn"] and sub.product in m.subject]
    assert len(emails) == 3


@pytest.mark.django_db
def test_running_the_sweep_twice_sends_nothing_twice(cast: Cast, sub: Subscription) -> None:
    run(days_before(30))
    first = (AlertDelivery.objects.count(), Notification.objects.count(), len(mail.outbox))
    run(days_before(30))
    run(days_before(29))
    assert (AlertDelivery.objects.count(), Notification.objects.count(), len(mail.outbox)) == first


@pytest.mark.django_db
def test_after_an_outage_only_the_most_urgent_missed_alert_goes_out(
    cast: Cast, sub: Subscription
) -> None:
    run(days_before(25))  # the scheduler was down from day 61 to day 25
    rows = set(
        AlertDelivery.objects.filter(
            subscription=sub, recipient=cast.it_admin, channel="in_app"
        ).values_list("threshold", "status")
    )
    assert rows == {(60, "skipped"), (30, "sent")}
    run(days_before(24))
    assert received(cast.it_admin) == [("term_end", 30)]


@pytest.mark.django_db
def test_auto_renewing_subscriptions_count_down_to_the_cancellation_deadline(
    cast: Cast, sub: Subscription
) -> None:
    Subscription.objects.filter(pk=sub.pk).update(auto_renew=True, notice_period_days=45)
    deadline = TERM_END - dt.timedelta(days=45)
    run(deadline - dt.timedelta(days=7))
    assert ("cancellation", 7) in received(cast.it_admin)
    assert ("cancellation", 7) in received(cast.head_a)


@pytest.mark.django_db
def test_expired_without_renewal_alerts_everyone_once_and_cancelled_nothing(
    cast: Cast, sub: Subscription
) -> None:
    run(TERM_END + dt.timedelta(days=1))
    run(TERM_END + dt.timedelta(days=5))
    assert ("expired", 0) in received(cast.head_a) and received(cast.head_a).count(
        ("expired", 0)
    ) == 1
    cancelled = SubscriptionFactory.create(
        department=cast.dept_a, status="cancelled", term_end=TERM_END
    )
    run(days_before(7))
    assert not AlertDelivery.objects.filter(subscription=cancelled).exists()


@pytest.mark.django_db
def test_a_new_term_gets_fresh_alerts(cast: Cast, sub: Subscription) -> None:
    run(days_before(7))
    Subscription.objects.filter(pk=sub.pk).update(
        term_start=TERM_END, term_end=TERM_END + dt.timedelta(days=365)
    )
    run(TERM_END + dt.timedelta(days=365 - 60))
    assert ("term_end", 60) in received(cast.it_admin)
    terms = AlertDelivery.objects.filter(
        subscription=sub, recipient=cast.it_admin, channel="in_app"
    )
    assert terms.values("term_end").distinct().count() == 2


@pytest.mark.django_db
def test_per_subscription_thresholds(cast: Cast, sub: Subscription) -> None:
    Subscription.objects.filter(pk=sub.pk).update(alert_thresholds=[90, 14])
    run(days_before(90))
    run(days_before(60))
    run(days_before(14))
    assert received(cast.it_admin) == [("term_end", 14), ("term_end", 90)]


@pytest.mark.django_db
def test_days_are_counted_in_the_configured_time_zone(cast: Cast, sub: Subscription) -> None:
    # 2027-01-29 23:30 in Shanghai is 61 days before the term end; 00:30 the next day is 60.
    with time_machine.travel(dt.datetime(2027, 1, 29, 15, 30, tzinfo=dt.UTC)):
        alerts.alerts_sweep()
    assert not AlertDelivery.objects.filter(subscription=sub).exists()
    with time_machine.travel(dt.datetime(2027, 1, 29, 16, 30, tzinfo=dt.UTC)):
        alerts.alerts_sweep()
    assert set(
        AlertDelivery.objects.filter(subscription=sub).values_list("threshold", flat=True)
    ) == {60}


@pytest.mark.django_db
def test_e_mail_is_in_the_recipients_language(cast: Cast, sub: Subscription) -> None:
    cast.it_admin.language = "en"
    cast.it_admin.save()
    cast.head_a.email, cast.head_a.language = "head@example.cn", "zh-hans"
    cast.head_a.save()
    run(days_before(7))
    by_address = {m.to[0]: m for m in mail.outbox if sub.product in m.subject}
    assert "Renewal in 7 days" in by_address["it@example.cn"].subject
    assert "7 天后续费" in by_address["head@example.cn"].subject
    assert "ALERT-1" not in by_address["it@example.cn"].body
    assert "/subscriptions/" in by_address["it@example.cn"].body
    html = getattr(by_address["it@example.cn"], "alternatives")[0][0]  # noqa: B009
    assert "<a href=" in html


@pytest.mark.django_db
def test_failures_are_retried_with_back_off_then_kept_as_dead_letters(
    cast: Cast, sub: Subscription, settings: object
) -> None:
    settings.ALERT_MAX_ATTEMPTS = 3  # type: ignore[attr-defined]
    with mock.patch(
        "renewals.alerts.services.EmailMultiAlternatives.send",
        side_effect=ConnectionError("smtp down"),
    ):
        alerts.alerts_sweep(today=days_before(7))
        alerts.alerts_deliver()
        email = AlertDelivery.objects.get(
            subscription=sub, recipient=cast.it_admin, channel="email", threshold=7
        )
        assert (email.status, email.attempts, "smtp down" in email.last_error) == (
            "pending",
            1,
            True,
        )
        assert email.next_attempt_at is not None
        assert email.next_attempt_at > timezone.now() + dt.timedelta(seconds=25)
        for _ in range(2):
            AlertDelivery.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
            alerts.alerts_deliver()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", 3)
    in_app = AlertDelivery.objects.get(
        subscription=sub, recipient=cast.it_admin, channel="in_app", threshold=7
    )
    assert in_app.status == "sent"


@pytest.mark.django_db
def test_a_sweep_rolled_back_records_and_sends_nothing(cast: Cast, sub: Subscription) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        alerts.alerts_sweep(today=days_before(7))
        raise RuntimeError("the surrounding work failed")
    alerts.alerts_deliver()
    assert not AlertDelivery.objects.exists() and not mail.outbox
    assert not Notification.objects.filter(subscription__isnull=False).exists()


@pytest.mark.django_db
def test_a_dead_workers_deliveries_go_back_to_pending(cast: Cast, sub: Subscription) -> None:
    alerts.alerts_sweep(today=days_before(7))
    claimed = alerts._claim(limit=1000)  # the worker stalls right after claiming
    # Its session (this test's) lives and holds the lease: nobody takes the claims.
    assert claimed and alerts.alerts_release_stuck() == 0
    AlertDelivery.objects.filter(pk__in=claimed).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert alerts.alerts_release_stuck() == len(claimed)  # the lease ended
    alerts.alerts_deliver()
    assert set(
        AlertDelivery.objects.exclude(status="skipped").values_list("status", flat=True)
    ) == {"sent"}


@pytest.mark.django_db(transaction=True)
def test_four_concurrent_sweeps_and_two_workers_send_each_alert_once(
    cast: Cast, sub: Subscription
) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait()
            alerts.alerts_sweep(today=days_before(7))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    total = AlertDelivery.objects.count()
    assert (
        total
        == AlertDelivery.objects.values("subscription", "recipient", "channel", "kind", "threshold")
        .distinct()
        .count()
    )

    claims: list[list[int]] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            start.wait()
            claims.append(alerts._claim(limit=3))
        finally:
            connection.close()

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert not set(claims[0]) & set(claims[1])  # SKIP LOCKED: never the same delivery
    alerts.alerts_deliver()  # the claiming threads' sessions are closed: taken over at once
    from_alerts = Notification.objects.filter(subscription__isnull=False).count()
    assert from_alerts == AlertDelivery.objects.filter(channel="in_app", status="sent").count()
    assert not AlertDelivery.objects.filter(status__in=["pending", "sending"]).exists()


@pytest.mark.django_db
def test_the_daily_schedule_exists_and_the_scheduler_runs_the_sweep(
    cast: Cast, sub: Subscription
) -> None:
    call_command("sync_schedules")
    sweep = Schedule.objects.get(name=PREFIX + "alert-sweep")
    assert sweep.schedule_type == Schedule.CRON and sweep.cron == "0 8 * * *"
    assert timezone.localtime(sweep.next_run).hour == 8  # 08:00 in Asia/Shanghai
    Schedule.objects.filter(pk=sweep.pk).update(next_run=timezone.now() - dt.timedelta(seconds=1))
    with time_machine.travel(dt.datetime(2027, 3, 24, 1, 0, tzinfo=dt.UTC)):  # 7 days before
        scheduler()
    assert Success.objects.filter(func="renewals.tasks.sweep_alerts").exists()
    assert received(cast.head_a) == [("term_end", 7)]


@pytest.mark.django_db
def test_the_command_simulates_a_date_and_refuses_a_bad_one(cast: Cast, sub: Subscription) -> None:
    call_command("send_renewal_alerts", "--today", days_before(30).isoformat())
    assert received(cast.it_admin) == [("term_end", 30)]
    with pytest.raises(CommandError):
        call_command("send_renewal_alerts", "--today", "30/01/2027")


@pytest.mark.django_db
def test_notification_centre_badge_and_reading(cast: Cast, sub: Subscription) -> None:
    run(days_before(7))
    client = Client()
    client.force_login(cast.head_a)
    html = client.get(reverse("home")).content.decode()
    unread = Notification.objects.filter(user=cast.head_a).count()
    assert f'data-testid="unread-count">{unread}<' in html
    notification = Notification.objects.get(user=cast.head_a, subscription=sub)
    response = client.post(reverse("renewals:notification-read", args=[notification.pk]))
    # An alert opens "start renewal request" for its subscription.
    assert response["Location"] == reverse("renewals:request-create", args=[sub.pk])
    assert (
        f'data-testid="unread-count">{unread - 1}<' in client.get(reverse("home")).content.decode()
        or unread == 1
    )
    other = Notification.objects.filter(user=cast.it_admin).first()
    assert other is not None
    assert client.post(reverse("renewals:notification-read", args=[other.pk])).status_code == 404
    assert (
        client.get(reverse("renewals:notification-read", args=[notification.pk])).status_code == 405
    )


# A worker killed mid-send (a real SIGKILL), leases and retries on time: tests/renewals/alerts/leases/
