"""The REST API keeps vendors and modules (#18) through the same services as the pages: the
same rules (400 naming the field, nothing written), the same scoping (another department's
module is a 404) and roles (403), and the audit trail records the token's user."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from pghistory.models import Events

from renewals.inventory.models import Module, Vendor
from tests.api.helpers import api, patch, post
from tests.conftest import Cast
from tests.factories import ModuleFactory, SubscriptionFactory, VendorFactory

VENDORS = reverse("api:vendor-list")
MODULES = reverse("api:module-list")
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'


def vendor_url(pk: int, action: str = "") -> str:
    return reverse(f"api:vendor-{action or 'detail'}", args=[pk])


def module_url(pk: int, action: str = "") -> str:
    return reverse(f"api:module-{action or 'detail'}", args=[pk])


def test_an_it_admin_adds_changes_archives_and_restores_a_vendor(cast: Cast) -> None:
    client = api(cast.it_admin)
    response = post(
        client,
        VENDORS,
        {
            "name": "Notion Labs",
            "website": "https://notion.so",
            "contacts": HOSTILE,
            "notes": "备注",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    vendor = Vendor.objects.get(pk=body["id"])
    assert body["contacts"] == HOSTILE == vendor.contacts  # text, escaped wherever shown
    assert body["archived_at"] is None and body["subscription_count"] == 0
    (created,) = [e for e in Events.objects.tracks(vendor) if e.pgh_label == "insert"]
    assert created.pgh_context["user"] == cast.it_admin.pk
    assert created.pgh_context["url"] == VENDORS

    changed = patch(client, vendor_url(vendor.pk), {"notes": "新备注"})
    assert changed.status_code == 200, changed.content
    vendor.refresh_from_db()
    assert (vendor.name, vendor.notes) == ("Notion Labs", "新备注")  # the rest kept

    archived = post(client, vendor_url(vendor.pk, "archive"), {})
    assert archived.status_code == 200 and archived.json()["archived_at"]
    current = client.get(VENDORS, {"archived": "false", "page_size": "500"}).json()["results"]
    assert vendor.pk not in [v["id"] for v in current]
    restored = post(client, vendor_url(vendor.pk, "restore"), {})
    assert restored.status_code == 200 and restored.json()["archived_at"] is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "ATLASSIAN"}, "name"),
        ({"name": "Ok", "website": "javascript:alert(1)"}, "website"),
        ({"name": "Ok", "notes": "x" * 4001}, "notes"),
        ({"name": "Ok", "contacts": "x" * 4001}, "contacts"),
        ({"name": "Ok", "notes": "a\x00b"}, "notes"),
        ({"name": 123}, "name"),
        ({"website": "https://x.example"}, "name"),
    ],
)
def test_bad_vendor_input_is_a_400_naming_the_field(
    cast: Cast, data: dict[str, str], field: str
) -> None:
    VendorFactory.create(name="Atlassian")
    before = Vendor.objects.count()
    response = post(api(cast.it_admin, language="en"), VENDORS, data)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Vendor.objects.count() == before


def test_a_vendor_rename_onto_another_is_refused(cast: Cast) -> None:
    VendorFactory.create(name="Atlassian")
    other = VendorFactory.create(name="Asana")
    response = patch(api(cast.it_admin), vendor_url(other.pk), {"name": "atlassian"})
    assert response.status_code == 400 and "name" in response.json()
    other.refresh_from_db()
    assert other.name == "Asana"


def test_archiving_a_vendor_in_use_is_a_400_that_names_the_count(cast: Cast) -> None:
    vendor = cast.subscription_a.vendor
    response = post(api(cast.it_admin, language="en"), vendor_url(vendor.pk, "archive"), {})
    assert response.status_code == 400
    assert "1 subscription" in response.json()["detail"][0]
    assert response.json()["code"] == "in_use"
    vendor.refresh_from_db()
    assert vendor.archived_at is None


@pytest.mark.parametrize("role", ["finance", "auditor", "head_a", "software_admin", "employee"])
def test_only_it_admins_write_vendors(cast: Cast, role: str) -> None:
    vendor = cast.subscription_a.vendor
    client = api(getattr(cast, role))
    assert post(client, VENDORS, {"name": "Mine"}).status_code == 403
    assert patch(client, vendor_url(vendor.pk), {"name": "Mine"}).status_code == 403
    assert post(client, vendor_url(vendor.pk, "archive"), {}).status_code == 403
    assert not Vendor.objects.filter(name="Mine").exists()
    # PUT is not offered (PATCH changes what it names; nothing is replaced wholesale).
    assert client.put(vendor_url(vendor.pk)).status_code in (403, 405)


def test_put_is_not_offered(cast: Cast) -> None:
    client = api(cast.it_admin)
    assert client.put(vendor_url(cast.subscription_a.vendor_id)).status_code == 405


# --- modules ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["it_admin", "head_a", "software_admin"])
def test_the_department_s_managers_write_its_modules(cast: Cast, role: str) -> None:
    client = api(getattr(cast, role))
    sub = cast.subscription_a  # 10 seats
    response = post(
        client,
        MODULES,
        {"subscription": sub.pk, "name": "Gantt", "unit_price": "2.50", "licensed_seats": 4},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    module = Module.objects.get(pk=body["id"])
    assert (module.unit_price, module.licensed_seats) == (Decimal("2.50"), 4)
    assert body["unit_price"] == "2.50"
    changed = patch(client, module_url(module.pk), {"unit_price": None, "name": "Gantt Pro"})
    assert changed.status_code == 200, changed.content
    module.refresh_from_db()
    assert (module.name, module.unit_price, module.licensed_seats) == ("Gantt Pro", None, 4)
    archived = post(client, module_url(module.pk, "archive"), {})
    assert archived.status_code == 200 and archived.json()["archived_at"]
    listed = client.get(MODULES, {"subscription": str(sub.pk), "archived": "false"}).json()
    assert module.pk not in [m["id"] for m in listed["results"]]
    assert post(client, module_url(module.pk, "restore"), {}).status_code == 200
    (update, *_rest) = [e for e in Events.objects.tracks(module) if e.pgh_label == "update"]
    assert update.pgh_context["user"] == getattr(cast, role).pk


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"unit_price": "-1"}, "unit_price"),
        ({"unit_price": "1" * 25}, "unit_price"),
        ({"unit_price": "1.005"}, "unit_price"),
        ({"unit_price": "NaN"}, "unit_price"),
        ({"unit_price": "Infinity"}, "unit_price"),
        ({"unit_price": 2.5}, "unit_price"),  # a JSON number: the schema says a string
        ({"licensed_seats": "3"}, "licensed_seats"),
        ({"licensed_seats": True}, "licensed_seats"),
        ({"name": 42}, "name"),
        ({"licensed_seats": 0}, "licensed_seats"),
        ({"licensed_seats": -1}, "licensed_seats"),
        ({"licensed_seats": 11}, "licensed_seats"),
        ({"licensed_seats": 10**25}, "licensed_seats"),
        ({"name": ""}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"name": "GANTT"}, "name"),
    ],
)
def test_bad_module_input_is_a_400_naming_the_field(
    cast: Cast, data: dict[str, object], field: str
) -> None:
    sub = cast.subscription_a
    ModuleFactory.create(subscription=sub, name="Gantt")
    before = list(Module.objects.values_list("pk", "name", "unit_price", "licensed_seats"))
    body = {"subscription": sub.pk, "name": "Docs", **data}
    response = post(api(cast.it_admin), MODULES, body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert list(Module.objects.values_list("pk", "name", "unit_price", "licensed_seats")) == before


def test_another_department_s_module_is_a_404_and_its_subscription_a_400(cast: Cast) -> None:
    """Head B: A's module does not exist for them; A's subscription is refused in a body
    like an id that does not exist. Nothing is written."""
    module = ModuleFactory.create(subscription=cast.subscription_a, name="Gantt")
    client = api(cast.head_b)
    assert patch(client, module_url(module.pk), {"name": "B's"}).status_code == 404
    assert post(client, module_url(module.pk, "archive"), {}).status_code == 404
    assert client.get(module_url(module.pk)).status_code == 404
    created = post(client, MODULES, {"subscription": cast.subscription_a.pk, "name": "X"})
    assert created.status_code == 400 and "subscription" in created.json()
    module.refresh_from_db()
    assert (module.name, module.archived_at) == ("Gantt", None)
    assert Module.objects.filter(subscription=cast.subscription_a).count() == 1


@pytest.mark.parametrize("role", ["finance", "auditor", "employee"])
def test_read_only_roles_get_403(cast: Cast, role: str) -> None:
    module = ModuleFactory.create(subscription=cast.subscription_a, name="Gantt")
    client = api(getattr(cast, role))
    assert (
        post(client, MODULES, {"subscription": cast.subscription_a.pk, "name": "X"}).status_code
        == 403
    )
    assert patch(client, module_url(module.pk), {"name": "Y"}).status_code == 403
    assert post(client, module_url(module.pk, "archive"), {}).status_code == 403
    module.refresh_from_db()
    assert (module.name, module.archived_at) == ("Gantt", None)


def test_a_module_stays_with_its_subscription(cast: Cast) -> None:
    module = ModuleFactory.create(subscription=cast.subscription_a, name="Gantt")
    other = SubscriptionFactory.create(department=cast.dept_a)
    response = patch(api(cast.it_admin), module_url(module.pk), {"subscription": other.pk})
    assert response.status_code == 400
    module.refresh_from_db()
    assert module.subscription_id == cast.subscription_a.pk


def test_hostile_ids_are_404s(cast: Cast) -> None:
    client = api(cast.it_admin)
    for path in ("/api/v1/modules/1.5/", "/api/v1/modules/99999999999999999999999/",
                 "/api/v1/vendors/-1/"):  # fmt: skip
        assert client.get(path).status_code == 404, path
    assert post(client, "/api/v1/vendors/abc/archive/", {}).status_code == 404
    assert post(client, "/api/v1/modules/1e3/restore/", {}).status_code == 404
    response = post(client, MODULES, {"subscription": 10**30, "name": "X"})
    assert response.status_code == 400
    assert not Module.objects.exists()
