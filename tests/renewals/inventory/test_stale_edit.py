"""No lost updates (#18): an edit made on a version of a subscription that has moved on is
refused with who changed it, when, and what (the value the editor saw, the value now); the
editor's input is kept and a second save, after reading, goes through. Also with two editors
racing in their own threads and database connections."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation

from renewals.inventory.models import Subscription
from renewals.inventory.policy import DEPARTMENT_FIELDS, FULL_FIELDS
from renewals.inventory.services import subscriptions as services
from renewals.inventory.services.subscriptions import StaleEdit, subscription_update
from renewals.inventory.views import subscriptions as views
from tests.conftest import Cast
from tests.renewals.inventory.conftest import client_for, edit_data


def edit_url(subscription: Subscription) -> str:
    return reverse("renewals:subscription-edit", args=[subscription.pk])


@pytest.mark.django_db
def test_the_second_editor_is_told_who_changed_what_and_can_save_after_reading(
    cast: Cast,
) -> None:
    sub = cast.subscription_a
    # The software admin opens the form; IT then changes the notice period and the owner.
    opened = edit_data(sub, DEPARTMENT_FIELDS, notes="先看合同", tags="重要")
    it_form = edit_data(sub, FULL_FIELDS, notice_period_days=60, owner=cast.head_a.pk)
    assert client_for(cast.it_admin).post(edit_url(sub), it_form).status_code == 302
    response = client_for(cast.software_admin).post(edit_url(sub), opened)
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Changed by {cast.it_admin.get_full_name()} at " in page
    assert "since you opened it" in page
    stale = response.context["stale"]
    changes = {c.field: (c.seen, c.now) for c in stale.changes}
    assert changes == {
        "notice_period_days": ("30", "60"),
        "owner": ("—", cast.head_a.get_full_name()),
    }
    assert "Notice period (days)" in page  # the field's label in the table
    # Nothing of the refused save was written; the input is kept on the form.
    fresh = Subscription.objects.get(pk=sub.pk)
    assert fresh.notes == "" and fresh.version == 2
    assert response.context["form"]["notes"].value() == "先看合同"
    # The form now carries the current version: saving again after reading goes through.
    assert response.context["form"]["version"].value() == "2"
    again = {**opened, "version": "2", "seen": response.context["form"]["seen"].value()}
    again["owner"] = str(cast.head_a.pk)  # the editor took IT's new owner over
    assert client_for(cast.software_admin).post(edit_url(sub), again).status_code == 302
    fresh = Subscription.objects.get(pk=sub.pk)
    assert (fresh.notes, fresh.tags, fresh.notice_period_days, fresh.owner) == (
        "先看合同", ["重要"], 60, cast.head_a,
    )  # fmt: skip
    assert fresh.version == 3


@pytest.mark.django_db
def test_a_replayed_post_is_refused_as_stale(cast: Cast) -> None:
    sub = cast.subscription_a
    data = edit_data(sub, DEPARTMENT_FIELDS, notes="第一次")
    assert client_for(cast.head_a).post(edit_url(sub), data).status_code == 302
    replay = client_for(cast.head_a).post(edit_url(sub), {**data, "notes": "重放"})
    assert replay.status_code == 200 and replay.context["stale"] is not None
    assert Subscription.objects.get(pk=sub.pk).notes == "第一次"


@pytest.mark.django_db
def test_a_tampered_snapshot_or_version_writes_nothing(cast: Cast) -> None:
    sub = cast.subscription_a
    for changes in ({"seen": "garbage"}, {"version": "-1"}, {"version": "9" * 25}):
        data = {**edit_data(sub, DEPARTMENT_FIELDS, notes="x"), "version": "0", **changes}
        response = client_for(cast.head_a).post(edit_url(sub), data)
        assert response.status_code == 200
    assert Subscription.objects.get(pk=sub.pk).version == 1


@pytest.mark.django_db
def test_without_a_snapshot_the_changes_come_from_the_audit_trail(cast: Cast) -> None:
    """An API client sends only the version: what it saw is read back from the trail."""
    sub = cast.subscription_a
    subscription_update(user=cast.it_admin, subscription=sub, data={"notes": "一"}, version=1)
    subscription_update(
        user=cast.it_admin, subscription=sub, data={"seats_purchased": 12}, version=2
    )
    with pytest.raises(StaleEdit) as refused:
        subscription_update(user=cast.head_a, subscription=sub, data={"notes": "二"}, version=1)
    changes = {c.field: (c.seen, c.now) for c in refused.value.changes}
    assert changes == {"notes": ("—", "一"), "seats_purchased": ("10", "12")}
    assert refused.value.version == 3
    assert Subscription.objects.get(pk=sub.pk).notes == "一"


def _in_threads(count: int, work: Any) -> list[Any]:
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        try:
            barrier.wait(timeout=10)
            with translation.override("en"):
                return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.django_db(transaction=True)
def test_two_editors_saving_at_once_one_wins_the_other_is_told(cast: Cast) -> None:
    """Each in its own thread and connection, both having read version 1, both past the form's
    checks before either writes: the row lock decides, the loser sees the winner's change."""
    sub = cast.subscription_a
    editors = [cast.it_admin, cast.head_a]
    forms = [
        edit_data(sub, FULL_FIELDS, notes="IT 的备注"),
        edit_data(sub, DEPARTMENT_FIELDS, notes="部门的备注"),
    ]
    checked = threading.Barrier(2)
    real_update = services.subscription_update

    def update(**kwargs: Any) -> Any:
        checked.wait(timeout=10)  # both requests reach the service before either locks
        return real_update(**kwargs)

    views.subscription_update = update
    try:
        responses = _in_threads(2, lambda i: client_for(editors[i]).post(edit_url(sub), forms[i]))
    finally:
        views.subscription_update = real_update
    assert sorted(r.status_code for r in responses) == [200, 302]
    loser = next(r for r in responses if r.status_code == 200)
    assert "since you opened it" in loser.content.decode()
    fresh = Subscription.objects.get(pk=sub.pk)
    assert fresh.version == 2 and fresh.notes in ("IT 的备注", "部门的备注")


@pytest.mark.django_db
def test_every_kind_of_field_changed_is_named(cast: Cast) -> None:
    """Lists, choices, yes/no, dates, prices, people: each shown readably, none a 500."""
    sub = cast.subscription_a
    opened = edit_data(sub, FULL_FIELDS, notes="我的")
    Subscription.objects.filter(pk=sub.pk).update(
        tags=["甲", "乙"], alert_thresholds=[45, 10], category="crm", auto_renew=True,
        billing_cycle="monthly", term_end="2026-11-30", unit_price="12.5",
    )  # fmt: skip
    response = client_for(cast.it_admin).post(edit_url(sub), opened)
    changes = {c.field: (c.seen, c.now) for c in response.context["stale"].changes}
    assert changes == {
        "category": ("—", "CRM and sales"),
        "unit_price": ("1,000.00", "12.50"),
        "billing_cycle": ("Annual", "Monthly"),
        "term_end": ("2026-12-31", "2026-11-30"),
        "auto_renew": ("no", "yes"),
        "alert_thresholds": ("—", "45, 10"),
        "tags": ("—", "甲, 乙"),
    }
