"""Global search (#15 point 12): one box over subscriptions, vendors, people, contracts and
requests, scoped like each list page, grouped with counts and "see all" links, harmless with any
input, a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.services import contract_save
from org.models import User
from renewals.inventory.models import Subscription
from renewals.requests import services as request_services
from renewals.requests.models.requests import RenewalRequest
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.factories import PersonFactory, SubscriptionFactory, VendorFactory

pytestmark = pytest.mark.django_db

KINDS = ("subscriptions", "vendors", "people", "contracts", "requests")


def client_for(user: User, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def search(user: User, text: str, language: str = "en") -> str:
    response = client_for(user, language).get(reverse("search"), {"q": text})
    assert response.status_code == 200, text
    return response.content.decode()


def counts(page: str) -> dict[str, int]:
    """Group kind → its count, as the page shows them."""
    found = re.findall(
        r'data-testid="search-group-([\w-]+)".*?data-testid="search-count">(\d+)<', page, re.S
    )
    return {kind: int(n) for kind, n in found}


def hrefs(page: str) -> list[str]:
    main = page.split("<main", 1)[1]
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', main)]


def department_a_things(cast: Cast, word: str) -> dict[str, object]:
    """One of each kind in department A, all carrying ``word``."""
    vendor = VendorFactory.create(name=f"{word} Software")
    sub = SubscriptionFactory.create(
        department=cast.dept_a_child, vendor=vendor, product=f"{word}项目管理", ref=f"SRCH-{word}"
    )
    person = PersonFactory.create(department=cast.dept_a, name=f"{word}先生")
    contract = contract_save(
        user=cast.it_admin, subscription=sub,
        data={"number": f"HT-{word}-1", "counterparty": "某公司", "valid_from": dt.date(2027, 1, 1),
              "valid_to": dt.date(2027, 12, 31), "total_value": Decimal("1")},
    )  # fmt: skip
    request = request_services.request_create(subscription=sub, user=cast.software_admin)
    return {"sub": sub, "vendor": vendor, "person": person, "contract": contract, "req": request}


def test_it_finds_every_kind_grouped_with_counts_and_links(cast: Cast) -> None:
    things = department_a_things(cast, "Zebra")
    page = search(cast.head_a, "zebra")  # case does not matter
    assert counts(page) == dict.fromkeys(KINDS, 1)
    links = hrefs(page)
    sub, req = things["sub"], things["req"]
    assert isinstance(sub, Subscription) and isinstance(req, RenewalRequest)
    for url in (
        sub.get_absolute_url(),
        things["vendor"].get_absolute_url(),  # type: ignore[attr-defined]
        reverse("renewals:person-detail", args=[things["person"].pk]),  # type: ignore[attr-defined]
        things["contract"].get_absolute_url(),  # type: ignore[attr-defined]
        reverse("renewals:request-detail", args=[req.pk]),
        reverse("renewals:subscription-list") + "?q=zebra",
        reverse("renewals:vendor-list") + "?q=zebra",
        reverse("org:person-list") + "?q=zebra",
        reverse("contracts:contract-list") + "?q=zebra",
        reverse("renewals:request-list") + "?q=zebra",
    ):
        assert url in links, url


def test_chinese_terms_are_found_too(cast: Cast) -> None:
    department_a_things(cast, "斑马")
    page = search(cast.it_admin, "斑马", language="zh-hans")
    assert counts(page) == dict.fromkeys(KINDS, 1)
    assert counts(search(cast.it_admin, "项目管理"))["subscriptions"] == 1


def test_see_all_leads_to_a_list_page_showing_the_same_rows(cast: Cast) -> None:
    for n in range(7):
        SubscriptionFactory.create(department=cast.dept_a, product=f"Okapi {n}")
    page = search(cast.head_a, "okapi")
    assert counts(page)["subscriptions"] == 7
    assert page.count('data-testid="search-hit"') == 5  # the first five, then "see all"
    listing = client_for(cast.head_a).get(reverse("renewals:subscription-list"), {"q": "okapi"})
    assert listing.content.decode().count("Okapi ") >= 7


def test_head_b_never_finds_department_as_things(cast: Cast) -> None:
    department_a_things(cast, "Zebra")
    assert counts(search(cast.head_b, "zebra")) == dict.fromkeys(KINDS, 0)
    # A's people, contracts and requests are not found by a number or id either.
    assert counts(search(cast.head_b, "HT-Zebra-1"))["contracts"] == 0
    for user in (cast.head_a, cast.software_admin, cast.auditor, cast.finance):
        assert counts(search(user, "zebra")) == dict.fromkeys(KINDS, 1), user.username


def test_an_employee_finds_only_their_own_tools(cast: Cast) -> None:
    things = department_a_things(cast, "Zebra")
    held = SubscriptionFactory.create(department=cast.dept_a, product="Zebra Chat")
    me = PersonFactory.create(department=cast.dept_a, user=cast.employee)
    Seat.objects.create(subscription=held, person=me, assigned_on=dt.date(2026, 1, 1))
    page = search(cast.employee, "zebra")
    assert counts(page) == {"my-software": 1}
    assert "Zebra Chat" in page
    assert "Zebra项目管理" not in page and "Zebra先生" not in page and "HT-Zebra" not in page
    # Every link of the results opens for them (no dead end to a 403).
    client = client_for(cast.employee)
    for url in set(hrefs(page)):
        if url.startswith("/") and "logout" not in url:
            assert client.get(url).status_code == 200, url
    assert things["sub"] is not None


@pytest.mark.parametrize(
    "text",
    [
        "x" * 20_000,
        "zeb\x00ra",
        "\x00",
        "' OR 1=1; DROP TABLE renewals_subscription; --",
        "%_\\",
        "(.*)[a-z]+$^|\\d{2,}",
        "a & b | !c :* <-> 'd'",
        "<script>alert(1)</script>",
        "   ",
        "#99999999999999999999",
    ],
)
def test_hostile_input_is_harmless(cast: Cast, text: str) -> None:
    department_a_things(cast, "Zebra")
    before = Subscription.objects.count()
    page = search(cast.it_admin, text)
    assert "<script>alert(1)</script>" not in page
    assert Subscription.objects.count() == before
    if len(text) > 100:
        assert 'data-testid="search-cut"' in page


def test_broken_utf8_in_the_address_is_harmless(cast: Cast) -> None:
    response = client_for(cast.it_admin).get(reverse("search") + "?q=%ED%A0%80%FF%00zebra")
    assert response.status_code == 200


def test_a_nul_byte_is_ignored_not_refused(cast: Cast) -> None:
    department_a_things(cast, "Zebra")
    assert counts(search(cast.it_admin, "Zeb\x00"))["subscriptions"] == 1


def test_full_width_letters_match_their_ascii(cast: Cast) -> None:
    department_a_things(cast, "Zebra")
    assert counts(search(cast.it_admin, "ＺＥＢＲＡ"))["subscriptions"] == 1


def test_an_empty_search_shows_a_hint(cast: Cast) -> None:
    page = search(cast.head_a, "")
    assert 'data-testid="search-empty"' in page and 'data-testid="search-results"' not in page


def test_search_reads_a_fixed_number_of_queries(cast: Cast) -> None:
    client = client_for(cast.head_a)

    def count() -> int:
        client.get(reverse("search"), {"q": "zebra"})
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("search"), {"q": "zebra"}).status_code == 200
        return len(ctx.captured_queries)

    department_a_things(cast, "Zebra")
    few = count()
    for n in range(2, 12):
        department_a_things(cast, f"Zebra{n}")
    assert count() == few


def test_the_navbar_has_the_search_box_and_its_script(cast: Cast) -> None:
    page = client_for(cast.employee).get(reverse("home")).content.decode()
    assert 'id="global-search"' in page and 'aria-keyshortcuts="/"' in page
    assert "js/search.js" in page
    assert f'action="{reverse("search")}"' in page


def test_the_vendor_list_filters_by_name(cast: Cast) -> None:
    SubscriptionFactory.create(
        department=cast.dept_a, vendor=VendorFactory.create(name="Zebra Inc")
    )
    SubscriptionFactory.create(
        department=cast.dept_a, vendor=VendorFactory.create(name="Okapi Ltd")
    )
    page = client_for(cast.it_admin).get(reverse("renewals:vendor-list"), {"q": "zebra"})
    body = page.content.decode()
    assert "Zebra Inc" in body and "Okapi Ltd" not in body
    assert (
        client_for(cast.it_admin).get(reverse("renewals:vendor-list"), {"q": "\x00"}).status_code
        == 200
    )


def test_subscription_search_matches_each_field_in_any_case_and_never_across_fields(
    cast: Cast,
) -> None:
    """The search reads Subscription.search_text, a column PostgreSQL keeps itself: what a bulk
    update writes is found at once, letters match in any case, tags and vendors still match, and
    a text spanning two fields (the end of the reference and the start of the product) does not."""
    from renewals.inventory.filters import search_subscriptions

    vendor = VendorFactory.create(name="Quokka Systems")
    sub = SubscriptionFactory.create(
        department=cast.dept_a, vendor=vendor, ref="QK-7", product="Ledger", edition="Team",
        tags=["finance-tools"],
    )  # fmt: skip

    def found(text: str) -> bool:
        return search_subscriptions(Subscription.objects.all(), text).filter(pk=sub.pk).exists()

    assert found("qk-7") and found("LEDGER") and found("team") and found("quokka")
    # One character (read from the index's one-character pieces) and two.
    assert found("7") and found("L") and found("ed") and not found("z")
    assert found("finance-tools")
    assert not found("QK-7Ledger") and not found("qk-7 ledger") and not found("LedgerTeam")
    Subscription.objects.filter(pk=sub.pk).update(product="Wallaby Books")
    assert found("wallaby") and not found("ledger")
    Subscription.objects.filter(pk=sub.pk).update(product="飞书项目管理")
    assert found("飞") and found("飞书") and found("项目管理") and not found("书飞")
    # LIKE's wildcards in the text are plain characters.
    assert not found("%") and not found("_")


def test_the_request_list_finds_requests_by_their_subscriptions_search(cast: Cast) -> None:
    """The request list's search (and the global search's request group) is the subscription
    search: reference, product, edition, vendor, tag, plus the order reference and #id."""
    sub = SubscriptionFactory.create(
        department=cast.dept_a, vendor=VendorFactory.create(name="Numbat GmbH"),
        product="Planner", edition="Enterprise Plus", tags=["pm"],
    )  # fmt: skip
    request = request_services.request_create(subscription=sub, user=cast.software_admin)
    client = client_for(cast.it_admin)
    for text in ("enterprise plus", "numbat", "planner", f"#{request.pk}"):
        page = client.get(reverse("renewals:request-list"), {"q": text}).content.decode()
        assert reverse("renewals:request-detail", args=[request.pk]) in page, text
    page = client.get(reverse("renewals:request-list"), {"q": "wombat"}).content.decode()
    assert reverse("renewals:request-detail", args=[request.pk]) not in page
