"""A leaver is acted on at once (issue #19, the renewals side): the seats of people the directory
just marked as left are flagged, the software admins and owners told once per leaver and
subscription (bell, e-mail, chat), the departed-holder risk raised and an open clean-up campaign
given the seats; a second call, or two workers at once, change nothing more."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from org.models import Person, User
from renewals import tasks
from renewals.cleanup import services
from renewals.cleanup.leavers import LeaverResult, leavers_act
from renewals.cleanup.models import CleanupCampaign, CleanupItem, LeaverNotice
from renewals.inventory.models import Subscription
from renewals.inventory.selectors import with_figures
from renewals.notify import webhooks
from renewals.notify.models import ChatChannel, Notification
from renewals.risks.models import Risk
from renewals.usage.models import Seat
from tests.conftest import Cast, make_user
from tests.factories import PersonFactory, SeatFactory, SubscriptionFactory, VendorFactory
from tests.renewals.cleanup.conftest import _in_threads, _open

LEFT_ON = dt.date(2026, 11, 30)


@dataclass
class Leavers:
    leaver: Person
    back: Person  # marked left, then active again before the task ran
    owner: User
    sub_a: Subscription  # department A: its software admin hears
    sub_child: Subscription  # A's sub-department: A's software admin and the owner hear
    sub_b: Subscription  # department B: no software admin, no owner: the IT admins hear
    seat_a: Seat
    seat_child: Seat
    seat_b: Seat
    seat_revoked: Seat
    seat_back: Seat
    posted: list[dict[str, Any]]


def _leave(person: Person) -> None:
    Person.objects.filter(pk=person.pk).update(status="left", left_on=LEFT_ON)


@pytest.fixture
def leavers(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> Leavers:
    today = timezone.localdate()
    owner = make_user("owner_child")
    leaver = PersonFactory.create(
        department=cast.dept_a, name="离职的赵六", employee_no="E-1001",
        user=make_user("zhaoliu"),
    )  # fmt: skip
    back = PersonFactory.create(department=cast.dept_a, name="回来的钱七")
    sub_child = SubscriptionFactory.create(
        department=cast.dept_a_child, product="TestRail", owner=owner,
        vendor=VendorFactory.create(name="Gurock"),
    )  # fmt: skip
    sub_b = SubscriptionFactory.create(
        department=cast.dept_b, product="飞书项目", vendor=VendorFactory.create(name="飞书")
    )
    # The leaver owns A's subscription: their own account hears nothing of it.
    Subscription.objects.filter(pk=cast.subscription_a.pk).update(owner=leaver.user)
    fresh = {"assigned_on": dt.date(2026, 1, 1), "last_active_on": today}  # not idle
    seats = {
        "seat_a": SeatFactory.create(subscription=cast.subscription_a, person=leaver, **fresh),
        "seat_child": SeatFactory.create(subscription=sub_child, person=leaver, **fresh),
        "seat_b": SeatFactory.create(subscription=sub_b, person=leaver, **fresh),
        "seat_revoked": SeatFactory.create(
            subscription=sub_b,
            person=leaver,
            assigned_on=dt.date(2025, 1, 1),
            revoked_on=dt.date(2025, 6, 30),
        ),  # fmt: skip
        "seat_back": SeatFactory.create(subscription=cast.subscription_a, person=back, **fresh),
    }
    ChatChannel.objects.create(
        department=cast.dept_a, name="研发群", kind="slack",
        url="https://hooks.slack.com/services/T/B/a", is_active=True,
    )  # fmt: skip
    posted: list[dict[str, Any]] = []

    def post(url: str, body: bytes) -> webhooks.Outcome:
        posted.append(json.loads(body))
        return webhooks.Outcome(ok=True, retry=False, retry_after=None, error="")

    monkeypatch.setattr(webhooks, "post", post)
    _leave(leaver)
    mail.outbox.clear()
    return Leavers(
        leaver=Person.objects.get(pk=leaver.pk),
        back=back,
        owner=owner,
        sub_a=Subscription.objects.get(pk=cast.subscription_a.pk),
        sub_child=sub_child,
        sub_b=sub_b,
        posted=posted,
        **seats,
    )


def _open_before_leaving(cast: Cast, leavers: Leavers) -> CleanupCampaign:
    """A campaign opened while the leaver was still active and using the seats (its own
    notices forgotten)."""
    Person.objects.filter(pk=leavers.leaver.pk).update(status="active", left_on=None)
    campaign = _open(cast)
    _leave(leavers.leaver)
    mail.outbox.clear()
    Notification.objects.exclude(title="提醒").delete()
    return campaign


def _act(leavers: Leavers, **extra: Any) -> LeaverResult:
    return leavers_act(
        person_ids=[leavers.leaver.pk, leavers.back.pk, 999_999], source="LDAP 总部", **extra
    )


def _bells(user: User) -> list[Notification]:
    return list(Notification.objects.filter(user=user).exclude(title="提醒").order_by("pk"))


def _mails_to(user: User) -> list[Any]:
    return [m for m in mail.outbox if user.email in m.to]


# --- flagging ---------------------------------------------------------------------------------


def test_the_active_seats_of_leavers_are_flagged_and_counted_as_departed(
    cast: Cast, leavers: Leavers
) -> None:
    result = _act(leavers, today=dt.date(2026, 12, 1))
    assert result.seats_flagged == 3
    flags = {n.seat_id: n for n in LeaverNotice.objects.all()}
    assert set(flags) == {leavers.seat_a.pk, leavers.seat_child.pk, leavers.seat_b.pk}
    notice = leavers.seat_a.leaver_notice
    notice.refresh_from_db()
    assert (notice.flagged_on, notice.source) == (dt.date(2026, 12, 1), "LDAP 总部")
    assert all(n.notified_at is not None for n in flags.values())
    # The figures already count the seat as departed: the person left.
    figures = with_figures(Subscription.objects.filter(pk=leavers.sub_a.pk)).get()
    assert figures.departed_holders == 1  # type: ignore[attr-defined]
    # Nothing was revoked: deciding is the admins' (or the campaign's) business.
    assert Seat.objects.filter(pk=leavers.seat_a.pk, revoked_on__isnull=True).exists()


def test_a_person_active_again_and_an_unknown_id_are_ignored(cast: Cast, leavers: Leavers) -> None:
    Person.objects.filter(pk=leavers.leaver.pk).update(status="active", left_on=None)
    result = _act(leavers)
    assert result == LeaverResult()
    assert not LeaverNotice.objects.exists()
    assert not Notification.objects.exclude(title="提醒").exists()
    assert not mail.outbox and not leavers.posted
    assert leavers_act(person_ids=[]) == LeaverResult()


# --- telling ----------------------------------------------------------------------------------


def test_admins_and_owner_hear_by_bell_mail_and_chat_once_per_subscription(
    cast: Cast, leavers: Leavers
) -> None:
    result = _act(leavers)
    assert result.notices_sent == 3 and result.chat_posts == 1
    page = {s.pk: reverse("renewals:subscription-detail", args=[s.pk]) for s in (
        leavers.sub_a, leavers.sub_child, leavers.sub_b)}  # fmt: skip

    # A's software admin looks after A and its sub-department: one message listing both.
    [bell] = _bells(cast.software_admin)
    assert "离职的赵六" in bell.title and "2" in bell.title
    assert leavers.sub_a.display_name in bell.body and leavers.sub_child.display_name in bell.body
    assert leavers.sub_b.display_name not in bell.body
    assert bell.url in (page[leavers.sub_a.pk], page[leavers.sub_child.pk])
    [email] = _mails_to(cast.software_admin)
    assert "E-1001" in email.body and "2026-11-30" in email.body and "LDAP 总部" in email.body
    assert page[leavers.sub_a.pk] in email.body and page[leavers.sub_child.pk] in email.body

    # The owner of the sub-department's subscription hears of that one only.
    [bell] = _bells(leavers.owner)
    assert bell.url == page[leavers.sub_child.pk] and bell.subscription_id == leavers.sub_child.pk
    assert leavers.sub_a.display_name not in bell.body
    assert len(_mails_to(leavers.owner)) == 1

    # B's subscription has no software admin and no owner: the IT admins hear of it.
    [bell] = _bells(cast.it_admin)
    assert bell.url == page[leavers.sub_b.pk]

    # Not the leaver's own account (owner of A's subscription), not the heads, not others.
    for user in (leavers.leaver.user, cast.head_a, cast.head_b, cast.employee, cast.finance):
        assert user is not None and not _bells(user) and not _mails_to(user)
    assert len(mail.outbox) == 3

    # A's chat channel: one post about A's subscription (the sub-department has no channel).
    [post] = leavers.posted
    assert "离职的赵六" in post["text"] and leavers.sub_a.display_name in post["text"]
    assert leavers.sub_child.display_name not in post["text"]


def test_the_message_is_translated_and_plain_text_carries_names_as_they_are(
    cast: Cast, leavers: Leavers
) -> None:
    Person.objects.filter(pk=leavers.leaver.pk).update(name="O'Brien <b>")
    User.objects.filter(pk=leavers.owner.pk).update(language="en")
    User.objects.filter(pk=cast.software_admin.pk).update(language="zh-hans")
    _act(leavers)
    [english] = _mails_to(leavers.owner)
    assert english.subject == "O'Brien <b> has left and still holds a seat"
    assert "O'Brien <b> (E-1001) left on 2026-11-30 and still holds a seat of:" in english.body
    html = english.alternatives[0][0]
    assert "O&#x27;Brien &lt;b&gt;" in html and "<b>" not in html
    [chinese] = _mails_to(cast.software_admin)
    assert chinese.subject  # rendered in the admin's language (zh-hans strings come later)


def test_a_second_call_changes_nothing(cast: Cast, leavers: Leavers) -> None:
    _open_before_leaving(cast, leavers)
    first = _act(leavers)
    assert first.seats_flagged == 3 and first.notices_sent == 3 and first.campaign_items == 3
    bells, mails, posts = Notification.objects.count(), len(mail.outbox), len(leavers.posted)
    items = CleanupItem.objects.count()

    assert _act(leavers) == LeaverResult()
    assert tasks.leavers_act([leavers.leaver.pk], "LDAP 总部") == (
        "0 seats flagged, 0 told, 0 chat, 0 campaign items"
    )
    assert (Notification.objects.count(), len(mail.outbox), len(leavers.posted)) == (
        bells, mails, posts
    )  # fmt: skip
    assert CleanupItem.objects.count() == items and LeaverNotice.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_tell_each_person_once(cast: Cast, leavers: Leavers) -> None:
    _open_before_leaving(cast, leavers)
    results: list[LeaverResult] = _in_threads(2, lambda i: _act(leavers))
    assert sum(r.seats_flagged for r in results) == 3
    assert sum(r.notices_sent for r in results) == 3
    assert sum(r.chat_posts for r in results) == 1
    assert sum(r.campaign_items for r in results) == 3
    assert LeaverNotice.objects.count() == 3
    assert CleanupItem.objects.filter(reason="departed").count() == 3
    for user in (cast.software_admin, leavers.owner, cast.it_admin):
        assert len(_bells(user)) == 1 and len(_mails_to(user)) == 1
    assert len(mail.outbox) == 3 and len(leavers.posted) == 1


# --- the campaign and the risk ------------------------------------------------------------------


def test_an_open_campaign_gets_the_seats_once(cast: Cast, leavers: Leavers) -> None:
    campaign = _open_before_leaving(cast, leavers)
    idle = SeatFactory.create(
        subscription=leavers.sub_b, person=PersonFactory.create(department=cast.dept_b),
        assigned_on=dt.date(2025, 1, 1), last_active_on=None,
    )  # fmt: skip
    CleanupItem.objects.create(
        campaign=campaign, seat=idle, department=cast.dept_b, reason="idle"
    )  # listed as idle when the campaign opened
    assert not CleanupItem.objects.filter(seat__person=leavers.leaver).exists()
    _leave(idle.person)

    result = leavers_act(person_ids=[leavers.leaver.pk, idle.person_id])
    assert result.campaign_items == 3
    items = {i.seat_id: i for i in campaign.items.filter(seat__person__status="left")}
    assert set(items) == {leavers.seat_a.pk, leavers.seat_child.pk, leavers.seat_b.pk, idle.pk}
    assert {i.reason for i in items.values()} == {"departed"}  # the idle one's holder left too
    assert items[leavers.seat_child.pk].department == cast.dept_a_child
    assert all(i.decision == "pending" for i in items.values())
    assert leavers_act(person_ids=[leavers.leaver.pk]).campaign_items == 0


def test_no_items_without_an_open_campaign(cast: Cast, leavers: Leavers) -> None:
    assert _act(leavers).campaign_items == 0
    assert not CleanupItem.objects.exists()
    campaign = _open_before_leaving(cast, leavers)
    services.campaign_close(campaign=campaign, user=cast.finance)
    assert _act(leavers).campaign_items == 0
    assert not CleanupItem.objects.filter(seat__person=leavers.leaver).exists()


def test_the_departed_holder_risk_is_raised_at_once(
    cast: Cast, leavers: Leavers, django_capture_on_commit_callbacks: Any
) -> None:
    assert not Risk.objects.filter(rule="departed_holder").exists()
    with django_capture_on_commit_callbacks(execute=True):
        _act(leavers)
    risks = Risk.objects.filter(rule="departed_holder").exclude(status="closed")
    assert set(risks.values_list("key", flat=True)) == {
        str(leavers.seat_a.pk), str(leavers.seat_child.pk), str(leavers.seat_b.pk)
    }  # fmt: skip
    assert set(risks.values_list("category", flat=True)) == {"account_chaos"}
