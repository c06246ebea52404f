"""Drawing a contract's terms: parties, dates, seats, price, renewal, termination and data."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypeVar

from bench.corpus.words import (
    EDITIONS_EN,
    EDITIONS_ZH,
    EN_CUSTOMERS,
    EN_VENDORS,
    ZH_CUSTOMERS,
    ZH_VENDORS,
    add_months,
)

T = TypeVar("T")


def _weighted(rng: random.Random, options: Sequence[tuple[T, float]]) -> T:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


def draw_terms(rng: random.Random, language: str) -> dict[str, Any]:
    """The contract's terms (Python values; None when the contract does not state one) and the
    facts the wording needs (parties' details, unit price, renewal period …)."""
    t: dict[str, Any] = {"language": language}
    _draw_parties(rng, t)
    term = _draw_period(rng, t)
    _draw_price(rng, t, term)
    _draw_renewal(rng, t, term)
    _draw_exit(rng, t)
    return t


def _draw_parties(rng: random.Random, t: dict[str, Any]) -> None:
    """The vendor, the customer, the product and the currency."""
    language = t["language"]
    if language == "zh":
        vendor, brand, product, address = rng.choice(ZH_VENDORS)
        customer, caddress = rng.choice(ZH_CUSTOMERS)
        t.update(vendor=vendor, brand=brand, product=product, vendor_address=address)
        t.update(customer=customer, customer_address=caddress, edition=rng.choice(EDITIONS_ZH))
        t["currency"] = "CNY"
    else:
        vendor, product, address, incorporation, country = rng.choice(EN_VENDORS)
        customer, caddress, cplace = rng.choice(EN_CUSTOMERS)
        t.update(vendor=vendor, product=product, vendor_address=address, vendor_country=country)
        t.update(vendor_incorporation=incorporation, customer=customer)
        t.update(customer_address=caddress, customer_place=cplace, edition=rng.choice(EDITIONS_EN))
        t["currency"] = _weighted(rng, [("USD", 50), ("CNY", 25), ("EUR", 15), ("SGD", 10)])


def _draw_period(rng: random.Random, t: dict[str, Any]) -> int:
    """The number, the signing date and the period (and how they are written); returns the
    term in months, whether or not the contract states it."""
    year = rng.choice((2024, 2025, 2025, 2026))
    signed = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
    start = signed + dt.timedelta(days=rng.randint(0, 40))
    if (start.month, start.day) == (2, 29):
        start += dt.timedelta(days=1)
    if rng.random() < 0.6:
        start = add_months(start.replace(day=1), 1)
    term = _weighted(rng, [(12, 55), (24, 15), (36, 20)])
    end = add_months(start, term) - dt.timedelta(days=1)
    if start.day != 1:
        end = dt.date(start.year + term // 12, start.month, start.day) - dt.timedelta(days=1)
    t["number"] = _contract_number(rng, t, signed) if rng.random() < 0.92 else None
    t["signed_on"] = signed
    t["valid_from"], t["valid_to"], t["term_months"] = start, end, term
    # How the period is written: term and dates, dates only, or start and term (no end date).
    t["period_style"] = _weighted(
        rng, [("both", 50), ("dates", 35), ("start_term", 10), ("none", 5)]
    )
    if t["period_style"] == "dates":
        t["term_months"] = None
    elif t["period_style"] == "start_term":
        t["valid_to"] = None
    elif t["period_style"] == "none":
        t["valid_from"] = t["valid_to"] = None
    t["signed_style"] = _weighted(rng, [("header", 30), ("sign", 35), ("both", 20), ("none", 15)])
    if t["signed_style"] == "none":
        t["signed_on"] = None
    return term


def _draw_price(rng: random.Random, t: dict[str, Any], term: int) -> None:
    """Seats, the price (total or annual fee, unit price, tax), billing and payment."""
    language = t["language"]
    seats = rng.choice((10, 20, 25, 50, 60, 80, 100, 120, 150, 200, 250, 300, 500, 800, 1000, 2000))
    t["seats_count"] = seats
    t["seats"] = seats if rng.random() < 0.88 else None
    if t["currency"] == "CNY":
        unit = Decimal(rng.choice((360, 480, 600, 720, 960, 1200, 1500, 1800, 2400, 3600)))
    else:
        unit = Decimal(rng.choice((60, 84, 96, 120, 180, 240, 300, 420, 600)))
    years = term // 12
    t["billing_cycle"] = _weighted(
        rng,
        [("annual", 45 if term == 12 else 60), ("one_off", 20), ("quarterly", 15), ("monthly", 8)]
        + [(None, 12)],
    )
    # The price: the contract total, or only the annual fee of an annually billed longer term.
    t["amount_basis"] = "total"
    if t["billing_cycle"] == "annual" and years > 1 and rng.random() < 0.4:
        t["amount_basis"] = "annual"
    per = years if t["amount_basis"] == "total" else 1
    t["unit_price"] = unit if (t["seats"] and rng.random() < 0.35) else None
    total = unit * seats * per
    if t["unit_price"] is None and rng.random() < 0.4:  # a negotiated discount
        total = (total * Decimal(rng.choice(("0.85", "0.9", "0.92", "0.8"))) / 100).quantize(
            Decimal(1)
        ) * 100
    t["amount_value"] = total.quantize(Decimal("0.01"))
    t["tax_rate"] = 6
    if language == "zh":
        t["tax_included"] = _weighted(rng, [(True, 55), (False, 20), (None, 25)])
    else:
        t["tax_included"] = _weighted(rng, [(False, 45), (True, 15), (None, 40)])
    t["amount"] = t["amount_value"] if rng.random() < 0.95 else None
    t["payment_terms"] = _weighted(
        rng, [(30, 35), (15, 12), (45, 8), (60, 8), (10, 4), (0, 18), (None, 15)]
    )


def _draw_renewal(rng: random.Random, t: dict[str, Any], term: int) -> None:
    """Automatic renewal, its notice and period, a price cap or the list price."""
    t["auto_renew"] = _weighted(rng, [(True, 45), (False, 25), (None, 30)])
    t["notice_days"] = None
    if t["auto_renew"]:
        t["notice_days"] = _weighted(
            rng, [(30, 40), (60, 22), (90, 18), (15, 5), (45, 5), (None, 10)]
        )
    t["renewal_months"] = rng.choice((12, 12, term))
    t["price_cap"] = t["list_price"] = None
    draw = rng.random()
    if t["auto_renew"]:
        if draw < 0.42:
            t["price_cap"] = Decimal(rng.choice(("3", "5", "5", "5", "6", "8", "10", "10", "7.5")))
        elif draw < 0.62:
            t["list_price"] = True
    elif draw < 0.2:
        t["price_cap"] = Decimal(rng.choice(("3", "5", "5", "8", "10")))
    elif draw < 0.28:
        t["list_price"] = True
    if t["price_cap"] is not None:
        t["price_cap"] = t["price_cap"].quantize(Decimal("0.01"))


def _draw_exit(rng: random.Random, t: dict[str, Any]) -> None:
    """Termination, breach, data return or deletion, personal information, data location and
    which party is 甲方."""
    language = t["language"]
    t["termination"] = _weighted(
        rng,
        [("both", 30), ("customer", 15), ("vendor_only", 15), ("none", 12), (None, 28)],
    )
    t["termination_notice"] = rng.choice((30, 30, 60, 15, 90))
    t["breach_clause"] = rng.random() < 0.75
    t["cure_days"] = rng.choice((15, 30, 30, 10))
    t["data_return"] = True if rng.random() < 0.6 else None
    t["deletion_clause"] = t["data_return"] is None and rng.random() < 0.45
    t["personal_info"] = True if rng.random() < 0.65 else None
    t["data_location"] = None
    if rng.random() < 0.55:
        if language == "zh":
            t["data_location"] = _weighted(rng, [("CN", 80), ("HK", 10), ("SG", 10)])
        else:
            t["data_location"] = _weighted(
                rng, [("CN", 30), ("US", 20), ("EU", 20), ("SG", 20), ("HK", 10)]
            )
    t["roles_swapped"] = language == "zh" and rng.random() < 0.12  # 甲方 is the vendor


def _contract_number(rng: random.Random, t: dict[str, Any], signed: dt.date) -> str:
    seq = rng.randint(1, 999)
    ymd = signed.strftime("%Y%m%d")
    if t["language"] == "zh":
        forms = [
            f"HT-{signed.year}-{seq:04d}",
            f"CG{ymd}{seq:03d}",
            f"XS-{signed.year}-{seq:03d}",
            f"IT-CG-{signed.year}-{seq:03d}",
            f"SaaS{signed.year}{seq:04d}",
        ]
    else:
        initials = "".join(w[0] for w in t["vendor"].split()[:2]).upper()
        forms = [
            f"{initials}-{signed.year}-{seq:04d}",
            f"Q-{rng.randint(10000, 99999):08d}",
            f"SSA-{signed.year}-{seq:03d}",
            f"OF{ymd}-{seq:02d}",
        ]
    return rng.choice(forms)
