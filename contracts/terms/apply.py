"""What accepting a key term does to the contract: the term's value written to the contract's
fields (the sentence too, for clauses), and what a typed correction may be."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from contracts.models import DATA_LOCATIONS, BillingCycle, Contract, Termination
from contracts.terms.models import TermField

# Terms that only confirm what is known (the customer is our company): accepting records it.
CONFIRM_ONLY = {TermField.CUSTOMER}
DATE_FIELDS = {TermField.SIGNED_ON, TermField.VALID_FROM, TermField.VALID_TO}
INT_FIELDS = {
    TermField.TERM_MONTHS,
    TermField.SEATS,
    TermField.NOTICE_DAYS,
    TermField.PAYMENT_TERMS,
}
BOOL_FIELDS = {
    TermField.AUTO_RENEW,
    TermField.LIST_PRICE,
    TermField.DATA_RETURN,
    TermField.PERSONAL_INFO,
}
TEXT_FIELDS = {TermField.NUMBER, TermField.VENDOR, TermField.CUSTOMER, TermField.DATA_LOCATION}
CHOICES: dict[str, type[models.TextChoices]] = {
    TermField.BILLING_CYCLE: BillingCycle,
    TermField.TERMINATION: Termination,
}
LOCATIONS = DATA_LOCATIONS


def parse_value(field: str, raw: dict[str, str]) -> Any:
    """A person's correction, from the form's strings, in the suggestion's JSON form; raises
    ValidationError with a message for the page."""
    text = (raw.get("value") or "").strip()
    if field == TermField.AMOUNT:
        try:
            amount = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise ValidationError(_("Enter the amount as a number, e.g. 150000.00.")) from None
        currency = (raw.get("currency") or "").strip().upper()
        if len(currency) != 3 or not currency.isalpha() or amount < 0 or amount >= 10**12:
            raise ValidationError(_("Enter a positive amount and a three-letter currency code."))
        tax = {"yes": True, "no": False}.get(raw.get("tax_included") or "")
        return {"amount": f"{amount:.2f}", "currency": currency, "tax_included": tax}
    if not text:
        raise ValidationError(_("Enter the corrected value."))
    if field in DATE_FIELDS:
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValidationError(_("Enter a date that exists, as YYYY-MM-DD.")) from None
    if field in INT_FIELDS:
        if not text.isdigit() or not 0 <= int(text) <= 100_000:
            raise ValidationError(_("Enter a whole number between 0 and 100,000."))
        return int(text)
    if field == TermField.PRICE_CAP:
        try:
            cap = Decimal(text.rstrip("%"))
        except InvalidOperation:
            raise ValidationError(_("Enter the cap as a percentage, e.g. 5.")) from None
        if not 0 <= cap <= 100:
            raise ValidationError(_("The cap is between 0 and 100%."))
        return f"{cap:.2f}"
    if field in BOOL_FIELDS:
        if text not in ("yes", "no"):
            raise ValidationError(_("Choose yes or no."))
        return text == "yes"
    if field in CHOICES:
        if text not in CHOICES[field].values:
            raise ValidationError(_("Choose one of the listed values."))
        return text
    if len(text) > 200:
        raise ValidationError(_("At most 200 characters."))
    return text


def apply_value(contract: Contract, field: str, value: Any, sentence: str) -> list[str]:
    """Write an accepted value to the contract (not saved); the names of the fields changed."""
    if field in CONFIRM_ONLY:
        return []
    simple: dict[str, str] = {
        TermField.NUMBER: "number", TermField.VENDOR: "counterparty", TermField.SEATS: "seats",
        TermField.NOTICE_DAYS: "notice_period_days", TermField.BILLING_CYCLE: "billing_cycle",
        TermField.DATA_LOCATION: "data_location",
    }  # fmt: skip
    if field in simple:
        setattr(contract, simple[field], value)
        return [simple[field]]
    if field in DATE_FIELDS:
        setattr(contract, field, dt.date.fromisoformat(value))
        return [str(field)]
    if field == TermField.TERM_MONTHS:
        contract.valid_to = contract.valid_from + relativedelta(months=value) - dt.timedelta(days=1)
        return ["valid_to"]
    if field == TermField.AMOUNT:
        contract.total_value = Decimal(value["amount"])
        contract.currency = value["currency"]
        contract.tax_included = value["tax_included"]
        return ["total_value", "currency", "tax_included"]
    if field == TermField.PRICE_CAP:
        contract.price_cap_percent = Decimal(value)
        return ["price_cap_percent"]
    if field == TermField.PAYMENT_TERMS:
        contract.payment_terms = sentence
        return ["payment_terms"]
    if field == TermField.AUTO_RENEW:
        contract.auto_renew = bool(value)
        contract.auto_renew_clause = sentence if value else ""
        return ["auto_renew", "auto_renew_clause"]
    if field == TermField.LIST_PRICE:
        contract.price_terms = sentence if value else contract.price_terms
        return ["price_terms"]
    clauses: dict[str, str] = {
        TermField.TERMINATION: "termination_clause", TermField.DATA_RETURN: "data_return_clause",
        TermField.PERSONAL_INFO: "personal_info_clause",
    }  # fmt: skip
    if field == TermField.TERMINATION:
        contract.termination = value
    setattr(contract, clauses[field], sentence if value else "")
    return [clauses[field], *(["termination"] if field == TermField.TERMINATION else [])]


def current_value(contract: Contract, field: str) -> Any:
    """The contract's value of a term, in the suggestion's JSON form (None when not set)."""
    if field == TermField.AMOUNT:
        return {"amount": f"{contract.total_value:.2f}", "currency": contract.currency,
                "tax_included": contract.tax_included}  # fmt: skip
    plain: dict[str, Any] = {
        TermField.NUMBER: contract.number, TermField.VENDOR: contract.counterparty,
        TermField.SEATS: contract.seats, TermField.NOTICE_DAYS: contract.notice_period_days,
        TermField.BILLING_CYCLE: contract.billing_cycle or None,
        TermField.DATA_LOCATION: contract.data_location or None,
        TermField.AUTO_RENEW: contract.auto_renew,
        TermField.TERMINATION: contract.termination or None,
        TermField.PRICE_CAP: None if contract.price_cap_percent is None else f"{contract.price_cap_percent:.2f}",
        TermField.DATA_RETURN: bool(contract.data_return_clause) or None,
        TermField.PERSONAL_INFO: bool(contract.personal_info_clause) or None,
    }  # fmt: skip
    if field in plain:
        return plain[field]
    if field in DATE_FIELDS:
        day = getattr(contract, field)
        return day.isoformat() if day else None
    if field == TermField.TERM_MONTHS:
        delta = relativedelta(contract.valid_to + dt.timedelta(days=1), contract.valid_from)
        return delta.years * 12 + delta.months if not delta.days else None
    return None
