"""The contract the contract tests upload to, and what every PDF check test uses (pypdf quiet,
messages in English: ``pytestmark`` in test_pdf_check.py and test_pdf_upload.py)."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from contracts import services
from contracts.models import Contract
from tests.conftest import Cast


@pytest.fixture
def contract(cast: Cast) -> Contract:
    return services.contract_save(
        user=cast.it_admin,
        subscription=cast.subscription_a,
        data={
            "number": "HT-2027-001", "counterparty": "北京飞书科技有限公司",
            "valid_from": dt.date(2027, 1, 1), "valid_to": dt.date(2027, 12, 31),
            "total_value": Decimal("120000.00"), "currency": "CNY", "auto_renew": True,
            "notice_period_days": 45, "price_cap_percent": Decimal("5.00"),
            "price_terms": "每席位每年 1000 元",
        },
    )  # fmt: skip


@pytest.fixture
def quiet_pypdf() -> Any:
    logging.disable(logging.WARNING)  # pypdf warns about the damaged files on purpose
    yield
    logging.disable(logging.NOTSET)


@pytest.fixture
def english(settings: Any) -> Any:
    """The messages are compared in English (the catalogue translates them; the default
    language is zh-hans)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
