"""Alerts and notices as personal cards (#21): a renewal alert delivered in-app reaches the
subscription's owner on Feishu as a card with "Start renewal request"; a leaver holding seats
reaches the software admin with "Open clean-up"; once each, however often the sweep, the
delivery or the leaver task runs; nobody the app does not know gets one; an app with notices
switched off sends none."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from integrations.chat import cards
from integrations.chat.models import ChatApp, ChatCard, ChatIdentity, ChatJob
from org.models import Person
from renewals.alerts import services as alerts
from renewals.alerts.models import AlertDelivery
from renewals.cleanup.leavers import leavers_act
from renewals.inventory.models import Subscription
from renewals.notify.models import Notification
from renewals.notify.outlets import PersonalNotice
from tests.conftest import Cast, make_user
from tests.factories import PersonFactory, SeatFactory, SubscriptionFactory
from tests.integrations.chat.conftest import deliver, feishu_app

TERM_END = dt.date(2027, 3, 31)
DAY = TERM_END - dt.timedelta(days=30)  # the 30-day alert falls due


@pytest.fixture
def app(cast: Cast, feishu: Any) -> ChatApp:
    """A Feishu app that knows the software admin of A ("sw-a", reads English) and nobody
    else."""
    cast.software_admin.language = "en"
    cast.software_admin.save()
    made = feishu_app(feishu)
    ChatIdentity.objects.create(app=made, user=cast.software_admin, platform_id="sw-a")
    return made


@pytest.fixture
def sub(cast: Cast) -> Subscription:
    """Its 30-day alert is the only one due on DAY (A's own subscription is moved on)."""
    Subscription.objects.filter(pk=cast.subscription_a.pk).update(
        term_start=dt.date(2027, 1, 1), term_end=dt.date(2028, 12, 31)
    )
    return SubscriptionFactory.create(
        ref="ALERT-1", product="Figma 企业版", department=cast.dept_a, owner=cast.software_admin,
        term_start=dt.date(2026, 4, 1), term_end=TERM_END, auto_renew=False,
    )  # fmt: skip


def _alerts(day: dt.date, capture: Any) -> None:
    """The daily sweep and the delivery task; what they queue on commit runs too."""
    with capture(execute=True):
        alerts.alerts_sweep(today=day)
        alerts.alerts_deliver()
    deliver()


def _sent(feishu: Any) -> list[dict[str, Any]]:
    return [
        {**body, "card": json.loads(body["content"])}
        for body in feishu.bodies("POST", "/open-apis/im/v1/messages")
    ]


def _link_buttons(card: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (e["text"]["content"], e["behaviors"][0]["default_url"])
        for e in card["body"]["elements"]
        if e.get("tag") == "button" and e.get("behaviors")
    ]


def test_a_renewal_alert_reaches_the_owner_as_a_card_once(
    cast: Cast, app: ChatApp, sub: Subscription, feishu: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    _alerts(DAY, django_capture_on_commit_callbacks)
    # In-app alerts went to the owner (A's software admin) and to the IT admin; only the owner
    # is on the app.
    in_app = AlertDelivery.objects.filter(subscription=sub, channel="in_app", status="sent")
    assert set(in_app.values_list("recipient", flat=True)) == {
        cast.software_admin.pk,
        cast.it_admin.pk,
    }
    card = ChatCard.objects.get()
    assert (card.app, card.recipient, card.topic, card.state) == (
        app, cast.software_admin, ChatCard.Topic.NOTICE, ChatCard.State.INFO,
    )  # fmt: skip
    assert card.notice["subscription"] == sub.pk and card.message_id
    sent = _sent(feishu)
    assert len(sent) == 1 and sent[0]["receive_id"] == "sw-a" and sent[0]["uuid"] == card.key
    create = settings.SITE_URL + reverse("renewals:request-create", args=[sub.pk])
    assert _link_buttons(sent[0]["card"]) == [("Start renewal request", create)]
    words = json.dumps(sent[0]["card"], ensure_ascii=False)
    assert "Figma 企业版" in words
    # No decision buttons on a notice, and nothing to update, no to-do.
    assert '"callback"' not in words and "Approve" not in words
    assert list(ChatJob.objects.values_list("action", "status")) == [("send", "done")]

    # The sweep and the delivery again, the same day and the next: nothing twice.
    _alerts(DAY, django_capture_on_commit_callbacks)
    _alerts(DAY + dt.timedelta(days=1), django_capture_on_commit_callbacks)
    # The card's notice queued again (a retried task): the key says it was sent.
    notice = PersonalNotice(
        key=f"alert-{in_app.get(recipient=cast.software_admin).pk}",
        user_id=cast.software_admin.pk, title="again", text="again", url=create,
        action="Start renewal request", subscription_id=sub.pk,
    )  # fmt: skip
    assert cards.ChatOutlet().notice(notice) == 0
    deliver()
    assert ChatCard.objects.count() == 1 and len(_sent(feishu)) == 1
    assert Notification.objects.filter(user=cast.software_admin, subscription=sub).count() == 1


def _leaver(cast: Cast) -> Person:
    """Someone of A who left, still holding a seat of A's subscription (owned by an employee
    the app does not know)."""
    Subscription.objects.filter(pk=cast.subscription_a.pk).update(owner=cast.employee)
    person = PersonFactory.create(
        department=cast.dept_a, name="离职的赵六", user=make_user("zhaoliu")
    )
    SeatFactory.create(
        subscription=cast.subscription_a, person=person, assigned_on=dt.date(2026, 1, 1)
    )
    Person.objects.filter(pk=person.pk).update(status="left", left_on=dt.date(2026, 11, 30))
    return person


def test_a_leaver_holding_seats_reaches_the_software_admin_as_a_card_once(
    cast: Cast, app: ChatApp, feishu: Any, django_capture_on_commit_callbacks: Any
) -> None:
    person = _leaver(cast)
    for _ in range(2):  # the task retried: flagged and told once
        with django_capture_on_commit_callbacks(execute=True):
            leavers_act(person_ids=[person.pk], source="LDAP 总部")
        deliver()
    # Both the software admin and the owner were told in the app; only the admin is on Feishu.
    told = set(Notification.objects.exclude(title="提醒").values_list("user", flat=True))
    assert told == {cast.software_admin.pk, cast.employee.pk}
    card = ChatCard.objects.get()
    assert (card.recipient, card.topic, card.platform_id) == (
        cast.software_admin, ChatCard.Topic.NOTICE, "sw-a",
    )  # fmt: skip
    sent = _sent(feishu)
    assert len(sent) == 1 and sent[0]["receive_id"] == "sw-a"
    cleanup = settings.SITE_URL + reverse("renewals:cleanup-list")
    assert _link_buttons(sent[0]["card"]) == [("Open clean-up", cleanup)]
    assert "离职的赵六" in json.dumps(sent[0]["card"], ensure_ascii=False)


def test_an_app_with_notices_off_sends_no_notice_cards(
    cast: Cast, app: ChatApp, sub: Subscription, feishu: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    ChatApp.objects.filter(pk=app.pk).update(notices=False)
    _alerts(DAY, django_capture_on_commit_callbacks)
    person = _leaver(cast)
    with django_capture_on_commit_callbacks(execute=True):
        leavers_act(person_ids=[person.pk])
    deliver()
    # Told in the app as ever (the alert and the leaver), but no card anywhere.
    assert Notification.objects.filter(user=cast.software_admin).count() == 2
    assert not ChatCard.objects.exists() and not ChatJob.objects.exists()
    assert feishu.calls == []


def test_a_notice_for_someone_no_app_knows_makes_no_card(
    cast: Cast, app: ChatApp, feishu: Any
) -> None:
    notice = PersonalNotice(
        key="leaver-1-u1", user_id=cast.employee.pk, title="t", text="x",
        url="https://desk.example.cn/cleanup/", action="Open clean-up",
    )  # fmt: skip
    assert cards.ChatOutlet().notice(notice) == 0
    disabled = feishu_app(feishu, name="停用的飞书")
    ChatIdentity.objects.create(app=disabled, user=cast.employee, platform_id="emp")
    ChatApp.objects.filter(pk=disabled.pk).update(enabled=False)
    assert cards.ChatOutlet().notice(notice) == 0
    assert not ChatCard.objects.exists()
