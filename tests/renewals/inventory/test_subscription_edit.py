"""Adding, editing and archiving subscriptions in the app (#18): IT admins keep every field, a
department's head and software admin its own fields; every bad input is a clear, translated
refusal that writes nothing; archiving keeps the history, revokes the seats and stops alerts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from renewals.alerts import services as alerts
from renewals.alerts.models import AlertDelivery
from renewals.execution.services import ARCHIVE_REASON, subscription_archive
from renewals.inventory.models import CurrencyRate, Subscription
from renewals.inventory.policy import DEPARTMENT_FIELDS, FULL_FIELDS
from renewals.inventory.services.subscriptions import subscription_update
from renewals.requests.services import request_create
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.factories import PersonFactory, SeatFactory, SubscriptionFactory, VendorFactory
from tests.renewals.inventory.conftest import client_for, edit_data, new_data

pytestmark = pytest.mark.django_db
ADD = reverse("renewals:subscription-add")


def edit_url(subscription: Subscription) -> str:
    return reverse("renewals:subscription-edit", args=[subscription.pk])


def test_it_adds_a_subscription_with_every_field(cast: Cast) -> None:
    vendor = VendorFactory.create(name="Figma")
    cast.person_a.user = cast.employee
    cast.person_a.save()
    data = new_data(vendor.pk, cast.dept_a.pk, owner=cast.employee.pk)
    data["alert_recipients"] = [str(cast.finance.pk)]
    response = client_for(cast.it_admin).post(ADD, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    sub = Subscription.objects.get(ref="NEW-1")
    assert response["Location"] == sub.get_absolute_url()
    assert (sub.vendor, sub.department, sub.owner, sub.category) == (
        vendor, cast.dept_a, cast.employee, "design",
    )  # fmt: skip
    assert (sub.seats_purchased, sub.unit_price, sub.currency) == (12, Decimal("540.00"), "CNY")
    assert sub.alert_thresholds == [60, 30, 7] and sub.tags == ["设计", "SaaS"]
    assert list(sub.alert_recipients.all()) == [cast.finance]
    assert sub.version == 1 and sub.archived_at is None


def test_only_it_admins_see_the_add_button_and_everyone_allowed_sees_edit(cast: Cast) -> None:
    listing = reverse("renewals:subscription-list")
    assert ADD in client_for(cast.it_admin).get(listing).content.decode()
    for user in (cast.software_admin, cast.head_a, cast.finance, cast.auditor):
        assert ADD not in client_for(user).get(listing).content.decode()
    page = cast.subscription_a.get_absolute_url()
    for user in (cast.it_admin, cast.software_admin, cast.head_a):
        assert edit_url(cast.subscription_a) in client_for(user).get(page).content.decode()
    for user in (cast.finance, cast.auditor):
        assert edit_url(cast.subscription_a) not in client_for(user).get(page).content.decode()


BAD_INPUT = [
    ({"unit_price": "-1"}, "unit_price", "cannot be negative"),
    ({"unit_price": "1" * 25}, "unit_price", "too large"),
    ({"unit_price": "12.345"}, "unit_price", "more than 2 decimal places"),
    ({"unit_price": "NaN"}, "unit_price", "is not a number"),
    ({"seats_purchased": "-5"}, "seats_purchased", "at least one seat"),
    ({"seats_purchased": "0"}, "seats_purchased", "at least one seat"),
    ({"seats_purchased": "9" * 25}, "seats_purchased", "At most 10,000,000 seats"),
    ({"term_end": "2026-06-30"}, "term_end", "must end after it starts"),
    ({"term_end": "9999-12-31"}, "term_end", "between 1970 and 2199"),
    ({"notice_period_days": "400"}, "notice_period_days", "shorter than the term (364 days)"),
    ({"notice_period_days": "9" * 25}, "notice_period_days", "between 0 and 3650"),
    ({"currency": "USD"}, "currency", "No exchange rate for USD — record one"),
    ({"currency": "<b>"}, "currency", "three-letter ISO currency code"),
    ({"alert_thresholds": "0, 400"}, "alert_thresholds", "between 1 and 365"),
    ({"alert_thresholds": "30, 30"}, "alert_thresholds", "appears once"),
    ({"alert_thresholds": "thirty"}, "alert_thresholds", "whole numbers"),
    ({"ref": "R" * 31}, "ref", "at most 30 characters"),
    ({"notes": "x" * 4001}, "notes", "at most 4000 characters"),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_INPUT)
def test_bad_input_is_refused_clearly_and_nothing_is_written(
    cast: Cast, changes: dict[str, str], field: str, message: str
) -> None:
    vendor = VendorFactory.create()
    response = client_for(cast.it_admin).post(ADD, new_data(vendor.pk, cast.dept_a.pk, **changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert field in response.context["form"].errors
    assert not Subscription.objects.filter(ref="NEW-1").exists()


def test_the_same_bad_input_is_refused_on_edit(cast: Cast) -> None:
    sub = cast.subscription_a
    for changes, _field, message in BAD_INPUT:
        if "ref" in changes or "notes" in changes:
            continue
        if changes.get("term_end") == "2026-06-30":  # this one's term starts on 2026-01-01
            changes = {"term_end": "2025-06-30"}
        data = edit_data(sub, FULL_FIELDS, **changes)
        response = client_for(cast.it_admin).post(edit_url(sub), data)
        assert response.status_code == 200 and message in response.content.decode(), changes
    fresh = Subscription.objects.get(pk=sub.pk)
    assert (fresh.version, fresh.unit_price, fresh.seats_purchased) == (1, sub.unit_price, 10)


def test_a_currency_with_a_recorded_rate_is_accepted(cast: Cast) -> None:
    CurrencyRate.objects.create(
        currency="USD", rate_to_base=Decimal("7.1"), valid_from=dt.date(2020, 1, 1)
    )
    vendor = VendorFactory.create()
    response = client_for(cast.it_admin).post(
        ADD, new_data(vendor.pk, cast.dept_a.pk, currency="usd")
    )
    assert response.status_code == 302
    assert Subscription.objects.get(ref="NEW-1").currency == "USD"


def test_an_owner_from_another_department_is_refused(cast: Cast) -> None:
    # head B heads department B only: not a possible owner of A's subscription.
    data = edit_data(cast.subscription_a, FULL_FIELDS, owner=cast.head_b.pk)
    response = client_for(cast.it_admin).post(edit_url(cast.subscription_a), data)
    assert response.status_code == 200
    assert "does not belong to 研发中心 A" in response.content.decode()
    assert Subscription.objects.get(pk=cast.subscription_a.pk).owner is None
    # The head of A (or anyone working in A or below it) may own it.
    data = edit_data(cast.subscription_a, FULL_FIELDS, owner=cast.head_a.pk)
    assert client_for(cast.it_admin).post(edit_url(cast.subscription_a), data).status_code == 302
    assert Subscription.objects.get(pk=cast.subscription_a.pk).owner == cast.head_a


def test_seats_cannot_go_below_the_seats_assigned(cast: Cast) -> None:
    sub = cast.subscription_a
    for _ in range(3):
        SeatFactory.create(subscription=sub, person=PersonFactory.create(department=cast.dept_a))
    data = edit_data(sub, FULL_FIELDS, seats_purchased=2)
    response = client_for(cast.it_admin).post(edit_url(sub), data)
    assert "3 seats are assigned" in response.content.decode()
    data = edit_data(sub, FULL_FIELDS, seats_purchased=3)
    assert client_for(cast.it_admin).post(edit_url(sub), data).status_code == 302
    assert Subscription.objects.get(pk=sub.pk).seats_purchased == 3


def test_html_and_script_in_every_text_field_are_kept_as_text(cast: Cast) -> None:
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    vendor = VendorFactory.create()
    data = new_data(
        vendor.pk, cast.dept_a.pk, ref="<b>R</b>", product=hostile[:120], edition="<i>e</i>",
        notes=hostile, tags=f"{hostile[:30]}, ok",
    )  # fmt: skip
    assert client_for(cast.it_admin).post(ADD, data).status_code == 302
    sub = Subscription.objects.get(ref="<b>R</b>")
    assert sub.notes == hostile and sub.product == hostile[:120]
    for url in (sub.get_absolute_url(), edit_url(sub), reverse("renewals:subscription-list")):
        page = client_for(cast.it_admin).get(url).content.decode()
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "<b>R</b>" not in page


def test_a_department_admin_gets_the_smaller_form(cast: Cast) -> None:
    sub = cast.subscription_a
    page = client_for(cast.software_admin).get(edit_url(sub))
    assert set(page.context["form"].fields) == {"version", "seen", *DEPARTMENT_FIELDS}
    data = edit_data(
        sub, DEPARTMENT_FIELDS, notes="续费前找销售", alert_thresholds="90,30", category="project",
        unit_price="1", seats_purchased="999",  # not on the form: ignored
    )  # fmt: skip
    assert client_for(cast.software_admin).post(edit_url(sub), data).status_code == 302
    fresh = Subscription.objects.get(pk=sub.pk)
    assert (fresh.notes, fresh.alert_thresholds, fresh.category) == (
        "续费前找销售", [90, 30], "project",
    )  # fmt: skip
    assert (fresh.unit_price, fresh.seats_purchased, fresh.version) == (sub.unit_price, 10, 2)
    # The service refuses the fields outright (the API calls it too).
    with pytest.raises(PermissionDenied):
        subscription_update(
            user=cast.software_admin, subscription=sub, data={"unit_price": Decimal(1)},
            version=fresh.version,
        )  # fmt: skip


def test_who_may_not_edit_is_refused_and_nothing_changes(cast: Cast) -> None:
    sub = cast.subscription_a
    data = edit_data(sub, DEPARTMENT_FIELDS, notes="改了")
    assert client_for(cast.head_b).post(edit_url(sub), data).status_code == 404
    for user in (cast.finance, cast.auditor, cast.employee):
        assert client_for(user).post(edit_url(sub), data).status_code == 403
    assert client_for(cast.software_admin).post(ADD, new_data(1, cast.dept_a.pk)).status_code == 403
    for user in (cast.finance, cast.head_b):
        with pytest.raises(PermissionDenied):
            subscription_update(user=user, subscription=sub, data={"notes": "x"}, version=1)
    assert Subscription.objects.get(pk=sub.pk).notes == ""


def test_changing_only_the_alert_recipients_raises_the_version_by_one(cast: Cast) -> None:
    sub = cast.subscription_a
    data = edit_data(sub, DEPARTMENT_FIELDS, alert_recipients=[cast.finance.pk])
    assert client_for(cast.head_a).post(edit_url(sub), data).status_code == 302
    fresh = Subscription.objects.get(pk=sub.pk)
    assert fresh.version == 2 and list(fresh.alert_recipients.all()) == [cast.finance]
    # Someone who may not see the subscription is not offered (nor taken).
    data = edit_data(sub, DEPARTMENT_FIELDS, alert_recipients=[cast.head_b.pk])
    response = client_for(cast.head_a).post(edit_url(sub), data)
    assert response.status_code == 200 and "alert_recipients" in response.context["form"].errors


def test_the_sweep_alerts_the_extra_recipients(cast: Cast) -> None:
    term_end = timezone.localdate() + dt.timedelta(days=30)
    sub = SubscriptionFactory.create(
        department=cast.dept_a, term_start=term_end - dt.timedelta(days=365), term_end=term_end
    )
    sub.alert_recipients.add(cast.finance)
    alerts.alerts_sweep(today=timezone.localdate())
    got = AlertDelivery.objects.filter(subscription=sub, recipient=cast.finance, channel="in_app")
    assert got.filter(kind="term_end", threshold=30).exists()
    other = AlertDelivery.objects.filter(recipient=cast.finance).exclude(subscription=sub)
    assert not other.exists()


def test_archiving_revokes_seats_stops_alerts_and_hides_it(cast: Cast) -> None:
    term_end = timezone.localdate() + dt.timedelta(days=30)
    sub = SubscriptionFactory.create(
        department=cast.dept_a, term_start=term_end - dt.timedelta(days=365), term_end=term_end
    )
    seats = [SeatFactory.create(subscription=sub) for _ in range(2)]
    alerts.alerts_sweep(today=timezone.localdate())
    assert AlertDelivery.objects.filter(subscription=sub, status="pending").exists()
    url = reverse("renewals:subscription-archive", args=[sub.pk])
    assert client_for(cast.software_admin).post(url).status_code == 403
    assert client_for(cast.it_admin).post(url).status_code == 302
    sub.refresh_from_db()
    assert sub.archived_at is not None and sub.status == "cancelled"
    for seat in Seat.objects.filter(pk__in=[s.pk for s in seats]):
        assert seat.revoked_on is not None and seat.revoke_reason == ARCHIVE_REASON
    assert not AlertDelivery.objects.filter(subscription=sub, status="pending").exists()
    # The next sweep records nothing for it; it is still there, out of the list by default.
    before = AlertDelivery.objects.filter(subscription=sub).count()
    alerts.alerts_sweep(today=timezone.localdate() + dt.timedelta(days=23))
    assert AlertDelivery.objects.filter(subscription=sub).count() == before
    listing = reverse("renewals:subscription-list")
    assert sub.ref not in client_for(cast.it_admin).get(listing).content.decode()
    shown = client_for(cast.it_admin).get(listing, {"archived": "only"}).content.decode()
    assert sub.ref in shown and cast.subscription_a.ref not in shown
    # No more edits; archiving twice is refused.
    assert client_for(cast.it_admin).get(edit_url(sub)).status_code == 403
    with pytest.raises(ValidationError, match="already archived"):
        subscription_archive(user=cast.it_admin, subscription=sub)


def test_archiving_is_refused_while_a_renewal_request_is_under_way(cast: Cast) -> None:
    request_create(subscription=cast.subscription_a, user=cast.software_admin)
    url = reverse("renewals:subscription-archive", args=[cast.subscription_a.pk])
    response = client_for(cast.it_admin).post(url, follow=True)
    assert "A renewal request is under way" in response.content.decode()
    assert Subscription.objects.get(pk=cast.subscription_a.pk).archived_at is None


def test_an_archived_subscription_frees_its_product_for_a_new_one(cast: Cast) -> None:
    sub = cast.subscription_a
    subscription_archive(user=cast.it_admin, subscription=sub)
    data = new_data(sub.vendor_id, cast.dept_a.pk, product=sub.product)
    assert client_for(cast.it_admin).post(ADD, data).status_code == 302
    duplicate = new_data(sub.vendor_id, cast.dept_a.pk, product=sub.product, ref="NEW-2")
    response = client_for(cast.it_admin).post(ADD, duplicate)
    assert response.status_code == 200
    assert "already has a subscription to this product" in response.content.decode()


def test_the_import_applies_the_same_rules_with_the_same_messages(cast: Cast) -> None:
    from renewals.imports.columns import ERROR_MESSAGES
    from renewals.inventory.rules import MESSAGES
    from tests.renewals.imports.conftest import codes, upload

    content = (
        "ref,vendor,product,department,seats,unit_price,term_start,term_end,notice_period_days\n"
        "I-1,V,P1,a,0,10,2026-01-01,2026-12-31,30\n"
        "I-2,V,P2,a,5,10,2026-01-01,2026-01-31,30\n"
        "I-3,V,P3,a,20000000,10,2026-01-01,2026-12-31,30\n"
        "I-4,V,P4,a,5,10,2026-01-01,2026-12-31,30\n"
    )
    job = upload(cast.it_admin, "subscriptions", content)
    assert codes(job) == [
        (2, "seats", "seats_too_few"),
        (3, "notice_period_days", "notice_too_long"),
        (4, "seats", "too_large"),
    ]
    assert ERROR_MESSAGES["seats_too_few"] is MESSAGES["seats_too_few"]
    assert ERROR_MESSAGES["end_before_start"] is MESSAGES["end_before_start"]
