"""Manage → Exchange rates (follow-up of #16.1): finance keeps the table that converts every quote.

Finance and IT admins record, correct and delete rates; auditors read; everyone else gets 403.
Bad, hostile or oversized input is refused with a message and writes nothing; a duplicate
(currency, day) is refused, also when two people record it at the same moment; a rate that a
quote or a request records is immutable.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import translation

from org.models import User
from org.roles import Role
from renewals.inventory.models import CurrencyRate
from renewals.rates import services as rate_services
from renewals.requests.models.quotes import Quote
from renewals.requests.models.requests import RenewalRequest
from renewals.requests.services import drafting as request_services
from tests.conftest import Cast, make_user

LIST = reverse("renewals:rate-list")
ADD = reverse("renewals:rate-add")
DAY = dt.date(2026, 3, 1)
DUPLICATE = "There is already a rate for this currency on this day."
IN_USE = "can no longer be changed or deleted"


def client_for(user: User | None, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf, headers={"Accept-Language": "en"})
    if user is not None:
        client.force_login(user)
    return client


def valid(**changes: str) -> dict[str, str]:
    return {"currency": "EUR", "rate_to_base": "7.8123", "valid_from": DAY.isoformat(), **changes}


def test_finance_records_a_rate_and_the_list_says_who(cast: Cast) -> None:
    response = client_for(cast.finance).post(ADD, valid(currency="eur "))
    assert response.status_code == 302 and response["Location"] == LIST
    rate = CurrencyRate.objects.get()
    assert (rate.currency, rate.rate_to_base, rate.valid_from) == ("EUR", Decimal("7.8123"), DAY)
    page = client_for(cast.auditor).get(LIST).content.decode()
    row = page[page.index(f'data-rate="{rate.pk}"') :].split("</tr>")[0]
    assert "7.8123" in row and "2026-03-01" in row and str(cast.finance) in row
    # The auditor reads: no form, no button to change anything.
    assert ADD not in page and reverse("renewals:rate-delete", args=[rate.pk]) not in page


def test_the_list_shows_latest_first_per_currency(cast: Cast) -> None:
    for currency, day, value in [
        ("USD", dt.date(2026, 1, 1), "7.1"),
        ("USD", dt.date(2026, 2, 1), "7.2"),
        ("EUR", dt.date(2026, 1, 1), "7.9"),
    ]:
        CurrencyRate.objects.create(currency=currency, rate_to_base=Decimal(value), valid_from=day)
    page = client_for(cast.finance).get(LIST).content.decode()
    assert page.index(">7.9<") < page.index(">7.2<") < page.index(">7.1<")
    only_usd = client_for(cast.finance).get(LIST, {"currency": "usd"}).content.decode()
    assert ">7.9<" not in only_usd and ">7.2<" in only_usd


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("currency", "US", "three-letter currency code"),
        ("currency", "US1", "three-letter currency code"),
        ("currency", "€UR", "three-letter currency code"),
        ("currency", "<b>", "three-letter currency code"),
        ("currency", "CNY", "base currency"),
        ("currency", "USDX", "at most 3 characters"),
        ("rate_to_base", "0", "greater than zero"),
        ("rate_to_base", "0.0000001", "at most six decimals"),
        ("rate_to_base", "-7.2", "at most six decimals"),
        ("rate_to_base", "7e0", "at most six decimals"),
        ("rate_to_base", "7,2", "at most six decimals"),
        ("rate_to_base", "NaN", "at most six decimals"),
        ("rate_to_base", "Infinity", "at most six decimals"),
        ("rate_to_base", "7.2; DROP TABLE renewals_currencyrate", "at most 20 characters"),
        ("rate_to_base", "10000.000001", "between"),
        ("rate_to_base", "99999999.999999", "between"),
        ("rate_to_base", "123456789", "at most six decimals"),
        ("rate_to_base", "9" * 5000, "at most 20 characters"),
        ("rate_to_base", "", "required"),
        ("valid_from", "2026-13-01", "valid date"),
        ("valid_from", "1999-12-31", "between"),
        ("valid_from", "9999-01-01", "between"),
        ("valid_from", "x" * 5000, "valid date"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_written(
    cast: Cast, field: str, value: str, message: str
) -> None:
    response = client_for(cast.finance).post(ADD, valid(**{field: value}))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors.get(field, [])), errors
    assert not CurrencyRate.objects.exists()


def test_a_duplicate_currency_and_day_is_refused(cast: Cast) -> None:
    client = client_for(cast.finance)
    assert client.post(ADD, valid()).status_code == 302
    response = client.post(ADD, valid(rate_to_base="7.9"))
    assert response.status_code == 200
    assert DUPLICATE in response.content.decode()
    assert CurrencyRate.objects.get().rate_to_base == Decimal("7.8123")


@pytest.mark.parametrize("role", ["auditor", "head_a", "software_admin", "employee"])
def test_only_finance_and_it_admins_write(cast: Cast, role: str) -> None:
    rate = CurrencyRate.objects.create(currency="USD", rate_to_base=Decimal("7.2"), valid_from=DAY)
    client = client_for(getattr(cast, role))
    assert client.post(ADD, valid()).status_code == 403
    assert client.post(reverse("renewals:rate-edit", args=[rate.pk]), valid()).status_code == 403
    assert client.post(reverse("renewals:rate-delete", args=[rate.pk])).status_code == 403
    assert list(CurrencyRate.objects.values_list("currency", "rate_to_base")) == [
        ("USD", Decimal("7.2"))
    ]


def test_writes_are_post_only_and_need_the_csrf_token(cast: Cast) -> None:
    rate = CurrencyRate.objects.create(currency="USD", rate_to_base=Decimal("7.2"), valid_from=DAY)
    delete = reverse("renewals:rate-delete", args=[rate.pk])
    assert client_for(cast.finance).get(delete).status_code == 405
    assert client_for(cast.finance).put(ADD, valid()).status_code == 405
    assert client_for(cast.finance, csrf=True).post(ADD, valid()).status_code == 403
    assert client_for(cast.finance, csrf=True).post(delete).status_code == 403
    assert CurrencyRate.objects.count() == 1


def test_an_unused_rate_can_be_corrected_and_deleted(cast: Cast) -> None:
    rate = CurrencyRate.objects.create(currency="USD", rate_to_base=Decimal("72"), valid_from=DAY)
    client = client_for(cast.finance)
    edit = reverse("renewals:rate-edit", args=[rate.pk])
    assert 'value="72"' in client.get(edit).content.decode()
    response = client.post(edit, valid(currency="USD", rate_to_base="7.2"))
    assert response.status_code == 302
    rate.refresh_from_db()
    assert rate.rate_to_base == Decimal("7.2")
    assert client.post(reverse("renewals:rate-delete", args=[rate.pk])).status_code == 302
    assert not CurrencyRate.objects.exists()


def test_a_correction_onto_another_rates_day_is_refused(cast: Cast) -> None:
    CurrencyRate.objects.create(currency="USD", rate_to_base=Decimal("7.2"), valid_from=DAY)
    other = CurrencyRate.objects.create(
        currency="USD", rate_to_base=Decimal("7.3"), valid_from=dt.date(2026, 4, 1)
    )
    response = client_for(cast.finance).post(
        reverse("renewals:rate-edit", args=[other.pk]), valid(currency="USD", rate_to_base="7.4")
    )
    assert response.status_code == 200 and DUPLICATE in response.content.decode()
    other.refresh_from_db()
    assert (other.rate_to_base, other.valid_from) == (Decimal("7.3"), dt.date(2026, 4, 1))


def _usd_quote(cast: Cast) -> tuple[CurrencyRate, RenewalRequest]:
    """A USD rate and a draft request whose chosen quote records it."""
    rate = CurrencyRate.objects.create(currency="USD", rate_to_base=Decimal("7.2"), valid_from=DAY)
    request = request_services.request_create(
        subscription=cast.subscription_a, user=cast.software_admin
    )
    request_services.quote_save(
        request=request, user=cast.software_admin, quote=request.chosen_quote,
        data={"currency": "USD", "seats": 1, "unit_price": Decimal("100")},
    )  # fmt: skip
    return rate, request


def test_a_used_rate_cannot_be_corrected_or_deleted(cast: Cast) -> None:
    rate, _request = _usd_quote(cast)
    client = client_for(cast.finance)
    edit = reverse("renewals:rate-edit", args=[rate.pk])
    response = client.get(edit, follow=True)
    assert IN_USE in response.content.decode()
    assert client.post(edit, valid(currency="USD", rate_to_base="0.0001")).status_code == 302
    response = client.post(reverse("renewals:rate-delete", args=[rate.pk]), follow=True)
    assert IN_USE in response.content.decode()
    rate.refresh_from_db()
    assert (rate.currency, rate.rate_to_base, rate.valid_from) == ("USD", Decimal("7.2"), DAY)
    # The page says why, and offers no button for it.
    page = client.get(LIST).content.decode()
    assert "used, locked" in page and edit not in page


def test_a_rate_a_submitted_request_records_stays_locked_after_its_quote_changes(
    cast: Cast,
) -> None:
    """The request froze the rate at submission: even when no quote records it any more."""
    rate, request = _usd_quote(cast)
    Quote.objects.filter(request=request).update(
        rate_valid_from=None, currency="CNY", rate_to_base=1
    )
    RenewalRequest.objects.filter(pk=request.pk).update(currency="USD", rate_valid_from=DAY)
    assert rate_services.rate_in_use(rate)
    with pytest.raises(ValidationError, match="no longer be changed"):
        rate_services.rate_delete(rate=rate)
    assert CurrencyRate.objects.filter(pk=rate.pk).exists()


def _in_threads(count: int, work: Any) -> list[Any]:
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        # A new thread starts in the default language (zh-hans); the messages compared are the
        # English ones.
        try:
            barrier.wait()
            with translation.override("en"):
                return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.django_db(transaction=True)
def test_two_finance_users_recording_the_same_day_at_once(cast: Cast) -> None:
    """Each in its own thread and PostgreSQL connection, through the page: one wins, the other
    is told (no 500), one row."""
    second = make_user("finance2", Role.FINANCE)
    clients = [client_for(cast.finance), client_for(second)]
    # Both forms pass their checks before either inserts: the database decides.
    original = rate_services.CurrencyRate.full_clean
    checked = threading.Barrier(2)

    def full_clean(self: CurrencyRate, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        checked.wait(timeout=10)

    rate_services.CurrencyRate.full_clean = full_clean  # type: ignore[method-assign,assignment]
    try:
        responses = _in_threads(
            2, lambda i: clients[i].post(ADD, valid(rate_to_base=("7.1", "7.2")[i]))
        )
    finally:
        rate_services.CurrencyRate.full_clean = original  # type: ignore[method-assign]
    assert sorted(r.status_code for r in responses) == [200, 302]
    loser = next(r for r in responses if r.status_code == 200)
    assert DUPLICATE in loser.content.decode()
    assert CurrencyRate.objects.filter(currency="EUR", valid_from=DAY).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_rate_deleted_while_a_quote_takes_it_is_refused(cast: Cast) -> None:
    """Race: a quote takes the rate (its transaction still open) while finance deletes it. The
    deletion waits for the quote's lock, then sees the quote and refuses."""
    rate = CurrencyRate.objects.create(currency="USD", rate_to_base=Decimal("7.2"), valid_from=DAY)
    request = request_services.request_create(
        subscription=cast.subscription_a, user=cast.software_admin
    )
    taken, release = threading.Event(), threading.Event()
    original = request_services.Quote.full_clean

    def slow_clean(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        taken.set()  # the rate's row is locked by now (quote_rate ran)
        release.wait(timeout=10)

    def work(i: int) -> str:
        if i == 0:
            request_services.quote_save(
                request=request, user=cast.software_admin, quote=request.chosen_quote,
                data={"currency": "USD", "seats": 1, "unit_price": Decimal("100")},
            )  # fmt: skip
            return "saved"
        taken.wait(timeout=10)
        timer = threading.Timer(0.5, release.set)  # the deletion is waiting by then
        timer.start()
        try:
            rate_services.rate_delete(rate=rate)
        except ValidationError as exc:
            return " ".join(exc.messages)
        return "deleted"

    request_services.Quote.full_clean = slow_clean  # type: ignore[method-assign]
    try:
        saved, deleted = _in_threads(2, work)
    finally:
        request_services.Quote.full_clean = original  # type: ignore[method-assign]
    assert saved == "saved"
    assert IN_USE in deleted
    assert CurrencyRate.objects.filter(pk=rate.pk).exists()


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        ("finance", True),
        ("it_admin", True),
        ("auditor", True),
        ("head_a", False),
        ("software_admin", False),
        ("employee", False),
    ],
)
def test_the_menu_links_the_page_only_for_those_who_may_open_it(
    cast: Cast, role: str, shown: bool
) -> None:
    page = client_for(getattr(cast, role)).get("/").content.decode()
    assert (f'href="{LIST}"' in page) is shown


def test_the_admin_keeps_a_used_rate_read_only_too(cast: Cast) -> None:
    """The Django admin (staff) may not change or delete a rate a quote records either, and has
    no bulk delete that would skip the check; an unused rate stays editable there."""
    rate, _request = _usd_quote(cast)
    unused = CurrencyRate.objects.create(
        currency="EUR", rate_to_base=Decimal("7.8"), valid_from=DAY
    )
    client = client_for(cast.it_admin)  # a superuser
    change = reverse("admin:renewals_currencyrate_change", args=[rate.pk])
    response = client.post(change, {"currency": "USD", "rate_to_base": "0.0001", "valid_from": DAY})
    assert response.status_code == 403
    assert (
        client.post(
            reverse("admin:renewals_currencyrate_delete", args=[rate.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    rate.refresh_from_db()
    assert rate.rate_to_base == Decimal("7.2")
    page = client.get(reverse("admin:renewals_currencyrate_changelist")).content.decode()
    assert "delete_selected" not in page
    editable = client.get(reverse("admin:renewals_currencyrate_change", args=[unused.pk]))
    assert editable.status_code == 200 and 'name="_save"' in editable.content.decode()
