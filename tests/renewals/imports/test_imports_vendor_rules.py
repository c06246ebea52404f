"""The import applies the inventory's vendor and module rules (renewals.inventory.rules, the
ones the forms and the API apply): a vendor named in another case is the same vendor, and a
module's price has the same limits (#18)."""

from __future__ import annotations

from decimal import Decimal

from renewals.inventory import rules
from renewals.inventory.models import Module, Subscription, Vendor
from tests.conftest import Cast
from tests.renewals.conftest import Inventory
from tests.renewals.imports.conftest import codes, run, upload

HEADER = "Ref,Vendor,Product,Department,Seats,Unit_Price,Currency,Term_Start,Term_End,Modules\n"


def test_a_vendor_in_another_case_is_the_vendor_already_kept(
    cast: Cast, inventory: Inventory
) -> None:
    """Atlassian exists (the inventory's Jira): "ATLASSIAN" and " atlassian " in a file take
    it; a new name written in two cases in one file is added once."""
    content = HEADER + (
        "NEW-1,ATLASSIAN,Confluence,a,5,1.00,CNY,2026-01-01,2026-12-31,\n"
        "NEW-2, atlassian ,Bitbucket,a,5,1.00,CNY,2026-01-01,2026-12-31,\n"
        "NEW-3,Notion,Notion,a,5,1.00,CNY,2026-01-01,2026-12-31,\n"
        "NEW-4,NOTION,Notion AI,a,5,1.00,CNY,2026-01-01,2026-12-31,\n"
    )
    job = run(cast.it_admin, "subscriptions", content)
    assert job.summary["created"] == 4
    atlassian = inventory.jira.vendor
    assert Subscription.objects.filter(vendor=atlassian).count() == 3
    assert Vendor.objects.filter(name__iexact="atlassian").count() == 1
    assert list(Vendor.objects.filter(name__iexact="notion").values_list("name", flat=True)) == [
        "Notion"
    ]
    assert Subscription.objects.get(ref="NEW-4").vendor.name == "Notion"


def test_the_duplicate_product_check_ignores_the_vendor_name_s_case(
    cast: Cast, inventory: Inventory
) -> None:
    content = HEADER + "DUP-1,atlassian,Jira,a,5,1.00,CNY,2026-01-01,2026-12-31,\n"
    job = upload(cast.it_admin, "subscriptions", content)
    assert (2, "product", "duplicate_product") in codes(job)


def test_module_prices_have_the_rules_limits(cast: Cast, inventory: Inventory) -> None:
    too_large = "1" * (rules.PRICE_DIGITS - rules.PRICE_PLACES + 1)
    long_name = "M" * (rules.MODULE_NAME_MAX + 1)
    content = HEADER + (
        f"NEW-1,Asana,Asana,a,5,1.00,CNY,2026-01-01,2026-12-31,Docs={too_large}\n"
        "NEW-2,Asana,Asana 2,a,5,1.00,CNY,2026-01-01,2026-12-31,Docs=1.005\n"
        f"NEW-3,Asana,Asana 3,a,5,1.00,CNY,2026-01-01,2026-12-31,{long_name}\n"
        "NEW-4,Asana,Asana 4,a,5,1.00,CNY,2026-01-01,2026-12-31,Docs=-1\n"
    )
    job = upload(cast.it_admin, "subscriptions", content)
    assert [(line, code) for line, col, code in codes(job) if col == "modules"] == [
        (2, "bad_module_list"),
        (3, "bad_module_list"),
        (4, "bad_module_list"),
        (5, "bad_module_list"),
    ]
    largest = "9" * (rules.PRICE_DIGITS - rules.PRICE_PLACES) + ".99"
    ok = HEADER + f"NEW-5,Asana,Asana 5,a,5,1.00,CNY,2026-01-01,2026-12-31,Docs={largest}\n"
    run(cast.it_admin, "subscriptions", ok)
    assert Module.objects.get(subscription__ref="NEW-5").unit_price == Decimal(largest)
