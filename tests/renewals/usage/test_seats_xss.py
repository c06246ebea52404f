"""Stored XSS on the seats pages (#18): hostile names, e-mails, accounts, module names, revoke
reasons and pasted entries are shown as text on the seats panel, the assign / revoke /
reassign pages and the bulk preview, and sent as JSON data (not markup) by the picker."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from org.models import Person
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.factories import ModuleFactory, PersonFactory, SeatFactory
from tests.renewals.usage.conftest import taken
from tests.xss_helpers import ESCAPED, P, assert_inert, client_for

pytestmark = pytest.mark.django_db


def test_seats_pages_show_hostile_text_as_text(cast: Cast) -> None:
    sub = taken(cast, 3, 0)
    ModuleFactory.create(subscription=sub, name=P[:80])
    holder = PersonFactory.create(department=cast.dept_a, name=P[:100], email="x@example.cn")
    seat = SeatFactory.create(subscription=sub, person=holder, account=P[:150])
    Person.objects.filter(pk=cast.person_a.pk).update(name=P[:100])
    revoked = SeatFactory.create(
        subscription=sub,
        person=cast.person_a,
        revoked_on=dt.date(2026, 2, 1),
        revoke_reason=P[:200],
    )
    assert revoked.pk
    client = client_for(cast.software_admin)
    for url in [
        reverse("renewals:subscription-detail", args=[sub.pk]),
        reverse("renewals:seat-assign", args=[sub.pk]),
        reverse("renewals:seat-revoke", args=[seat.pk]),
        reverse("renewals:seat-reassign", args=[seat.pk]),
    ]:
        html = client.get(url).content.decode()
        assert_inert(html, url)
    assert ESCAPED in client.get(reverse("renewals:seat-revoke", args=[seat.pk])).content.decode()
    # Posted back: the form shows the typed text escaped.
    html = client.post(
        reverse("renewals:seat-assign", args=[sub.pk]), {"person": P, "account": P}
    ).content.decode()
    assert_inert(html, "assign post")
    html = client.post(
        reverse("renewals:seat-revoke", args=[seat.pk]), {"reason": P * 5}
    ).content.decode()
    assert_inert(html, "revoke post")


def test_the_bulk_preview_and_the_picker_keep_hostile_text_inert(cast: Cast) -> None:
    sub = taken(cast, 3, 0)
    PersonFactory.create(
        department=cast.dept_a, name=P[:100], email="p@example.cn", employee_no="X1"
    )
    client = client_for(cast.software_admin)
    url = reverse("renewals:seats-bulk-assign", args=[sub.pk])
    html = client.post(url, {"entries": f"X1\n{P}\nX1"}).content.decode()
    assert_inert(html, "bulk preview")
    assert "&lt;script&gt;" in html
    response = client.get(reverse("renewals:people-search"), {"q": "X1"})
    assert response["Content-Type"] == "application/json"
    assert response.json()["results"][0]["name"] == P[:100]  # data, drawn with textContent
    assert response["X-Content-Type-Options"] == "nosniff"  # never sniffed as HTML
    assert Seat.objects.filter(subscription=sub).count() == 0
