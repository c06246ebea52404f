"""Permission-matrix rows of the exchange-rates page (collected by tests/test_permissions.py):
finance and IT admins keep the table, auditors read it, everyone else gets 403."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from renewals.inventory.models import CurrencyRate
from tests.conftest import Cast
from tests.matrix_common import LOGIN, ROLES, Row

RATE_READ = {r: 403 for r in ROLES} | {
    "anonymous": LOGIN, "finance": 200, "it_admin": 200, "auditor": 200,
}  # fmt: skip
RATE_WRITE = {r: 403 for r in ROLES} | {"anonymous": LOGIN, "finance": 200, "it_admin": 200}
RATE_WRITE_POST = RATE_WRITE | {"finance": 302, "it_admin": 302}


def _fresh_rate(c: Cast) -> dict[str, object]:
    """A new rate no quote records (so it may be corrected or deleted), one per role."""
    day = dt.date(2001, 1, 1) + dt.timedelta(days=CurrencyRate.objects.count())
    rate = CurrencyRate.objects.create(currency="JPY", rate_to_base=Decimal("0.05"), valid_from=day)
    return {"pk": rate.pk}


ROWS: dict[str, Row] = {
    "renewals:rate-list": Row(RATE_READ),
    "renewals:rate-add": Row(RATE_WRITE),
    "renewals:rate-edit": Row(RATE_WRITE, kwargs=_fresh_rate),
    "renewals:rate-delete": Row(RATE_WRITE_POST, method="post", kwargs=_fresh_rate),
}
