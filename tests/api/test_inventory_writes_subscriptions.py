"""The REST API's subscription writes (#18): add (IT admins), change with the version read (a
stale one is 409 with who, when and what), archive; the same rules, scoping and refusals as the
pages, and nothing written on a refusal."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from renewals.inventory.models import Subscription
from renewals.requests.services import request_create
from tests.api.helpers import api, patch, post
from tests.conftest import Cast
from tests.factories import SubscriptionFactory, VendorFactory

pytestmark = pytest.mark.django_db
LIST = reverse("api:subscription-list")


def detail(sub: Subscription) -> str:
    return reverse("api:subscription-detail", args=[sub.pk])


def new(cast: Cast, **changes: Any) -> dict[str, Any]:
    vendor = VendorFactory.create()
    data = {
        "ref": "API-1", "vendor": vendor.pk, "product": "Miro", "category": "design",
        "department": cast.dept_a.pk, "seats_purchased": 8, "unit_price": "99.50",
        "currency": "CNY", "term_start": "2026-07-01", "term_end": "2027-06-30",
        "notice_period_days": 30, "alert_thresholds": [30, 7], "tags": ["白板"],
        "notes": "试点",
    }  # fmt: skip
    return {**data, **changes}


def test_it_adds_a_subscription_and_reads_its_version(cast: Cast) -> None:
    response = post(api(cast.it_admin), LIST, new(cast, alert_recipients=[cast.finance.pk]))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["ref"] == "API-1" and body["version"] == 1 and body["archived_at"] is None
    assert body["category"] == "design" and body["alert_thresholds"] == [30, 7]
    sub = Subscription.objects.get(ref="API-1")
    assert list(sub.alert_recipients.all()) == [cast.finance]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"unit_price": "-1"}, "unit_price"),
        ({"unit_price": "1" * 25}, "unit_price"),
        ({"seats_purchased": -3}, "seats_purchased"),
        ({"seats_purchased": int("9" * 25)}, "seats_purchased"),
        ({"term_end": "2026-01-01"}, "term_end"),
        ({"notice_period_days": 365}, "notice_period_days"),
        ({"currency": "USD"}, "currency"),
        ({"alert_thresholds": [0, 400]}, "alert_thresholds"),
        ({"department": 2**62}, "department"),
        ({"vendor": "<script>"}, "vendor"),
        ({"ref": "x" * 31}, "ref"),
        ({"notes": "x" * 5000}, "notes"),
    ],
)
def test_bad_input_is_400_with_the_field_and_writes_nothing(
    cast: Cast, changes: dict[str, Any], field: str
) -> None:
    response = post(api(cast.it_admin), LIST, new(cast, **changes))
    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    assert not Subscription.objects.filter(ref="API-1").exists()


def test_a_currency_without_a_rate_says_so(cast: Cast) -> None:
    response = post(api(cast.it_admin, language="en"), LIST, new(cast, currency="USD"))
    assert "No exchange rate for USD" in response.json()["currency"][0]


def test_an_owner_from_another_department_is_refused(cast: Cast) -> None:
    response = post(api(cast.it_admin), LIST, new(cast, owner=cast.head_b.pk))
    assert response.status_code == 400 and "owner" in response.json()


def test_only_it_admins_add(cast: Cast) -> None:
    for user in (cast.software_admin, cast.head_a, cast.finance, cast.auditor):
        assert post(api(user), LIST, new(cast, department=cast.dept_a.pk)).status_code in (
            400, 403,
        )  # fmt: skip
    assert not Subscription.objects.filter(ref="API-1").exists()


def test_a_department_admin_patches_their_fields_with_the_version(cast: Cast) -> None:
    sub = cast.subscription_a
    client = api(cast.software_admin)
    response = patch(client, detail(sub), {"notes": "<img src=x onerror=alert(1)>", "version": 1})
    assert response.status_code == 200 and response.json()["version"] == 2
    assert Subscription.objects.get(pk=sub.pk).notes == "<img src=x onerror=alert(1)>"
    # Prices are IT's: 403, nothing written.
    assert patch(client, detail(sub), {"unit_price": "1", "version": 2}).status_code == 403
    # Without a version: 400.
    response = patch(client, detail(sub), {"notes": "x"})
    assert response.status_code == 400 and "version" in response.json()
    assert Subscription.objects.get(pk=sub.pk).version == 2


def test_a_stale_version_is_409_with_who_when_and_what(cast: Cast) -> None:
    sub = cast.subscription_a
    assert (
        patch(api(cast.it_admin), detail(sub), {"seats_purchased": 14, "version": 1}).status_code
        == 200
    )
    response = patch(api(cast.head_a, language="en"), detail(sub), {"notes": "旧", "version": 1})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "stale_edit" and body["version"] == 2
    assert body["changed_by"] == cast.it_admin.pk and body["changed_at"]
    assert body["changes"] == [
        {"field": "seats_purchased", "label": "Seats purchased", "seen": "10", "now": "14"}
    ]
    assert Subscription.objects.get(pk=sub.pk).notes == ""
    assert patch(api(cast.head_a), detail(sub), {"notes": "新", "version": 2}).status_code == 200


def test_another_departments_subscription_is_404(cast: Cast) -> None:
    sub_b = SubscriptionFactory.create(department=cast.dept_b)
    assert patch(api(cast.head_a), detail(sub_b), {"notes": "x", "version": 1}).status_code == 404
    url = reverse("api:subscription-archive", args=[sub_b.pk])
    assert post(api(cast.head_a), url, {}).status_code == 403
    assert Subscription.objects.get(pk=sub_b.pk).notes == ""


def test_archive_through_the_api(cast: Cast) -> None:
    sub = SubscriptionFactory.create(department=cast.dept_a)
    url = reverse("api:subscription-archive", args=[sub.pk])
    response = post(api(cast.it_admin), url, {})
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert response.json()["archived_at"]
    assert post(api(cast.it_admin), url, {}).status_code == 400  # already archived
    listed = api(cast.it_admin).get(LIST).json()["results"]
    assert sub.pk not in {row["id"] for row in listed}
    listed = api(cast.it_admin).get(LIST, {"archived": "only"}).json()["results"]
    assert [row["id"] for row in listed] == [sub.pk]
    # Refused while a renewal request is under way.
    request_create(subscription=cast.subscription_a, user=cast.software_admin)
    url = reverse("api:subscription-archive", args=[cast.subscription_a.pk])
    assert post(api(cast.it_admin), url, {}).status_code == 400
