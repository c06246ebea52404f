"""Vendors kept in the app (#18): IT admins add, change, archive and restore them through the
pages; every refusal says why in the user's language and writes nothing; archived vendors leave
the list and the pickers; the audit trail records who changed what."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import translation
from pghistory.models import Events

from renewals.inventory import rules
from renewals.inventory.models import Subscription, Vendor
from renewals.inventory.selectors import vendor_choices
from renewals.inventory.services import vendors as services
from tests.conftest import Cast
from tests.factories import SubscriptionFactory, VendorFactory

ADD = reverse("renewals:vendor-add")
LIST = reverse("renewals:vendor-list")
GOOD = {
    "name": "飞书 Feishu",
    "website": "https://www.feishu.cn/",
    "contacts": "王经理 138 0000 0000",
    "notes": "框架协议 2026",
}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def codes(response: Any) -> dict[str, list[str]]:
    """The refused fields of the page's form, with their error codes."""
    form = response.context["form"]
    return {f: [e.code or "" for e in errs] for f, errs in form.errors.as_data().items()}


def test_an_it_admin_adds_a_vendor_with_every_field(cast: Cast) -> None:
    response = client_for(cast.it_admin).post(ADD, {**GOOD, "name": "  飞书   Feishu "})
    vendor = Vendor.objects.get(name="飞书 Feishu")
    assert response.status_code == 302 and response["Location"] == vendor.get_absolute_url()
    assert (vendor.website, vendor.contacts, vendor.notes) == (
        GOOD["website"],
        GOOD["contacts"],
        GOOD["notes"],
    )
    # The audit trail records the insert with the user who made it and where.
    (event,) = [e for e in Events.objects.tracks(vendor) if e.pgh_label == "insert"]
    assert event.pgh_context["user"] == cast.it_admin.pk
    assert event.pgh_context["url"] == ADD


def test_an_it_admin_edits_a_vendor_and_the_trail_shows_the_change(cast: Cast) -> None:
    vendor = VendorFactory.create(name="Atlassian", website="https://atlassian.com")
    url = reverse("renewals:vendor-edit", args=[vendor.pk])
    client = client_for(cast.it_admin)
    assert client.get(url).status_code == 200
    response = client.post(url, {**GOOD, "name": "Atlassian Pty", "notes": "新合同"})
    assert response.status_code == 302
    vendor.refresh_from_db()
    assert (vendor.name, vendor.notes, vendor.website) == (
        "Atlassian Pty",
        "新合同",
        GOOD["website"],
    )
    (update,) = [e for e in Events.objects.tracks(vendor) if e.pgh_label == "update"]
    assert update.pgh_diff["name"] == ["Atlassian", "Atlassian Pty"]
    assert update.pgh_context["user"] == cast.it_admin.pk


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("name", "", "required"),
        ("name", "   ", "required"),
        ("name", "x" * 121, "too_long"),
        ("website", "javascript:alert(1)", "invalid_url"),
        ("website", "ftp://files.example.com/", "invalid_url"),
        ("website", "not a url", "invalid_url"),
        ("contacts", "x" * 4001, "too_long"),
        ("notes", "长" * 4001, "too_long"),
    ],
)
def test_bad_vendor_input_is_refused_and_nothing_is_written(
    cast: Cast, field: str, value: str, code: str
) -> None:
    before = list(Vendor.objects.values_list("name", flat=True))
    response = client_for(cast.it_admin).post(ADD, {**GOOD, field: value})
    assert response.status_code == 200
    assert codes(response) == {field: [code]}
    assert list(Vendor.objects.values_list("name", flat=True)) == before


def test_duplicate_names_are_refused_whatever_their_case(cast: Cast) -> None:
    existing = VendorFactory.create(name="Atlassian")
    client = client_for(cast.it_admin)
    count = Vendor.objects.count()
    response = client.post(ADD, {**GOOD, "name": "ATLASSIAN"})
    assert codes(response) == {"name": ["duplicate"]}
    assert Vendor.objects.count() == count
    # Renaming another vendor onto it, too; renaming a vendor to another case of its own name
    # is allowed.
    other = VendorFactory.create(name="Asana")
    edit = reverse("renewals:vendor-edit", args=[other.pk])
    assert codes(client.post(edit, {**GOOD, "name": "atlassian"})) == {"name": ["duplicate"]}
    own = reverse("renewals:vendor-edit", args=[existing.pk])
    assert client.post(own, {**GOOD, "name": "ATLASSIAN"}).status_code == 302
    # An archived vendor keeps its name: the message says to restore it.
    services.vendor_archive(user=cast.it_admin, vendor=other)
    with translation.override("en"):
        response = client.post(ADD, {**GOOD, "name": "asana"}, HTTP_ACCEPT_LANGUAGE="en")
    assert codes(response) == {"name": ["duplicate"]}
    assert Vendor.objects.filter(name__iexact="asana").count() == 1


def test_refusals_are_translated(cast: Cast) -> None:
    VendorFactory.create(name="Atlassian")
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as caught:
            services.vendor_create(user=cast.it_admin, data={"name": "atlassian"})
    message = caught.value.message_dict["name"][0]
    assert "Atlassian" in message and "There is already" not in message
    with translation.override("zh-hans"):
        assert "negative" not in " ".join(
            pytest.raises(ValidationError, rules.check_amount, "-1", "单价").value.messages
        )


@pytest.mark.parametrize("role", ["finance", "auditor", "head_a", "software_admin", "employee"])
def test_only_it_admins_change_vendors(cast: Cast, role: str) -> None:
    vendor = VendorFactory.create(name="Atlassian")
    SubscriptionFactory.create(vendor=vendor, department=cast.dept_a)
    client = client_for(getattr(cast, role))
    assert client.post(ADD, GOOD).status_code == 403
    assert client.post(reverse("renewals:vendor-edit", args=[vendor.pk]), GOOD).status_code == 403
    archive = reverse("renewals:vendor-archive", args=[vendor.pk])
    assert client.post(archive).status_code == 403
    assert list(Vendor.objects.filter(archived_at__isnull=False)) == []
    assert not Vendor.objects.filter(name=GOOD["name"]).exists()
    assert Vendor.objects.filter(name="Atlassian").exists()
    with pytest.raises(PermissionDenied):
        services.vendor_create(user=getattr(cast, role), data=GOOD)
    # The buttons are not shown to them either.
    if role != "employee":
        page = client.get(reverse("renewals:vendor-detail", args=[vendor.pk])).content.decode()
        assert 'data-testid="vendor-edit"' not in page
        assert 'data-testid="vendor-add"' not in client.get(LIST).content.decode()


def test_the_buttons_are_shown_to_it_admins(cast: Cast) -> None:
    vendor = VendorFactory.create(name="Atlassian")
    client = client_for(cast.it_admin)
    assert 'data-testid="vendor-add"' in client.get(LIST).content.decode()
    page = client.get(reverse("renewals:vendor-detail", args=[vendor.pk])).content.decode()
    assert 'data-testid="vendor-edit"' in page and 'data-testid="vendor-archive"' in page


def test_archiving_is_refused_while_subscriptions_are_not_archived(cast: Cast) -> None:
    vendor = VendorFactory.create(name="Atlassian")
    SubscriptionFactory.create(vendor=vendor, department=cast.dept_a, product="Jira")
    SubscriptionFactory.create(vendor=vendor, department=cast.dept_b, product="Confluence")
    with translation.override("en"):
        with pytest.raises(ValidationError) as caught:
            services.vendor_archive(user=cast.it_admin, vendor=vendor)
    assert "2 subscriptions" in caught.value.messages[0]
    response = client_for(cast.it_admin).post(
        reverse("renewals:vendor-archive", args=[vendor.pk]), follow=True
    )
    assert response.status_code == 200
    vendor.refresh_from_db()
    assert vendor.archived_at is None
    assert "2" in str(next(iter(response.context["messages"])))
    # Once they are archived, the vendor may be.
    Subscription.objects.filter(vendor=vendor).update(archived_at="2026-01-01T00:00:00Z")
    services.vendor_archive(user=cast.it_admin, vendor=vendor)
    vendor.refresh_from_db()
    assert vendor.archived_at is not None


def test_archived_vendors_leave_the_list_and_the_pickers_and_come_back(cast: Cast) -> None:
    Vendor.objects.filter(archived_at__isnull=True).update(archived_at="2020-01-01T00:00:00Z")
    Subscription.objects.update(archived_at="2020-01-01T00:00:00Z")
    kept = VendorFactory.create(name="Asana")
    gone = VendorFactory.create(name="Zoho")
    client = client_for(cast.it_admin)
    response = client.post(reverse("renewals:vendor-archive", args=[gone.pk]))
    assert response.status_code == 302
    assert list(vendor_choices()) == [kept]
    names = [row.record.name for row in client.get(LIST).context["table"].rows]
    assert names == ["Asana"]
    archived = client.get(LIST, {"archived": "1"})
    assert "Zoho" in [row.record.name for row in archived.context["table"].rows]
    assert "Asana" not in [row.record.name for row in archived.context["table"].rows]
    assert 'data-testid="vendor-show-archived"' in client.get(LIST).content.decode()
    # The vendor's page still opens (subscriptions and quotes link to it), marked archived.
    page = client.get(reverse("renewals:vendor-detail", args=[gone.pk])).content.decode()
    assert 'data-testid="vendor-archived"' in page and 'data-testid="vendor-restore"' in page
    # Replaying the archive changes nothing; restoring brings it back.
    gone.refresh_from_db()
    when = gone.archived_at
    client.post(reverse("renewals:vendor-archive", args=[gone.pk]))
    gone.refresh_from_db()
    assert gone.archived_at == when
    client.post(reverse("renewals:vendor-restore", args=[gone.pk]))
    assert list(vendor_choices()) == [kept, gone]
    assert Vendor.objects.filter(name__in=["Asana", "Zoho"]).count() == 2  # never deleted


def test_hostile_ids_are_404s(cast: Cast) -> None:
    client = client_for(cast.it_admin)
    assert client.get("/vendors/999999999/edit/").status_code == 404
    assert client.get("/vendors/99999999999999999999999/edit/").status_code == 404
    assert client.post("/vendors/1.5/archive/").status_code == 404
    assert client.get("/vendors/-1/edit/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_admins_adding_one_name_at_once_make_one_vendor(cast: Cast) -> None:
    """Both check the name under a lock on it: the second sees the first's vendor."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def add(name: str) -> None:
        try:
            barrier.wait()
            services.vendor_create(user=cast.it_admin, data={"name": name})
            outcomes.append("added")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(n,)) for n in ("Notion", "NOTION")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["added", "refused"]
    assert Vendor.objects.filter(name__iexact="notion").count() == 1


def test_a_renewal_switching_vendor_by_name_takes_the_vendor_whatever_its_case(
    cast: Cast,
) -> None:
    """The roll-over (an executed renewal that moves to another vendor's quote) names the vendor
    as typed in the quote: "asana" is the vendor Asana, archived or not (brought back)."""
    import datetime as dt
    from decimal import Decimal

    from renewals.inventory.services import NewTerm, subscription_roll_over

    asana = VendorFactory.create(name="Asana")
    Vendor.objects.filter(pk=asana.pk).update(archived_at="2026-01-01T00:00:00Z")
    sub = cast.subscription_a
    term = NewTerm(
        term_start=dt.date(2027, 1, 1), term_end=dt.date(2027, 12, 31), seats=10, edition="",
        unit_price=Decimal("5"), currency="CNY", billing_cycle="annual",
        vendor_name=" asana ", product="Asana",
    )  # fmt: skip
    subscription_roll_over(subscription=sub, term=term, modules=[], factor=Decimal(1), paid=None)
    sub.refresh_from_db()
    asana.refresh_from_db()
    assert sub.vendor_id == asana.pk and asana.archived_at is None
    assert Vendor.objects.filter(name__iexact="asana").count() == 1
