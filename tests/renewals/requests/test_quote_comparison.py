"""Quotes compared per seat and year, the cheapest and best-value ones marked."""

from __future__ import annotations

from decimal import Decimal

from renewals.requests.models.quotes import Quote
from tests.conftest import Cast
from tests.renewals.requests.conftest import open_request

# --- quotes -----------------------------------------------------------------------------------


def test_quotes_are_compared_per_seat_per_year_and_over_three_years(cast: Cast) -> None:
    request = open_request(cast, "100")
    monthly = Quote(
        request=request, vendor_name="Asana", product="Asana", seats=10,
        unit_price=Decimal("100"), billing_cycle="monthly", term_months=12,
        discount_percent=Decimal("10"), one_off_fees=Decimal("500"),
        price_increase_cap_percent=Decimal("5"),
    )  # fmt: skip
    assert monthly.seat_year_base == Decimal("1080.00")  # 100 × 12 × 0.9
    assert monthly.term_amount == Decimal("11300.00")  # 10 × 1080 + 500
    assert monthly.total_1y_base == Decimal("11300.00")
    # Renewed yearly with the 5% cap: 10800 + 11340 + 11907 + 500.
    assert monthly.total_3y_base == Decimal("34547.00")
    three_year = Quote(
        request=request, vendor_name="Monday", product="Monday", seats=10,
        unit_price=Decimal("3000"), billing_cycle="multi_year", term_months=36,
        price_increase_cap_percent=Decimal("20"), currency="USD", rate_to_base=Decimal("7"),
    )  # fmt: skip
    # One price for 36 months: 3000 / 36 × 12 = 1000 USD a seat a year, no increase inside the term.
    assert three_year.seat_year_base == Decimal("7000.00")
    assert three_year.total_3y_base == Decimal("210000.00")
    assert three_year.term_amount_base == Decimal("210000.00")


def test_the_cheapest_and_best_value_quotes_are_marked(cast: Cast) -> None:
    from renewals.requests.selectors.requests import quote_comparison

    request = open_request(cast, "1000")  # incumbent: 1 seat × 1000
    request.evidence = {"active_users": 8}
    cheap = Quote.objects.create(
        request=request, vendor_name="A", product="A", seats=1, unit_price=Decimal("900")
    )
    value = Quote.objects.create(
        request=request, vendor_name="B", product="B", seats=8, unit_price=Decimal("200")
    )
    rows = {row.quote.pk: row for row in quote_comparison(request, list(request.quotes.all()))}
    assert rows[cheap.pk].cheapest and not rows[value.pk].cheapest
    assert rows[value.pk].best_value and not rows[cheap.pk].best_value  # 200/user vs 900/user
