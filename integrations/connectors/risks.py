"""Risks the usage connectors find (registered with the risk register in integrations/apps.py):

- ``unknown_accounts``: a tool lists active accounts that match nobody here (guests, personal
  e-mails, people who left under another address): paid seats nobody answers for;
- ``over_purchased``: the tools list more active accounts of a subscription than seats were
  bought: the vendor's true-up bill is coming.

Each is one query; the register raises, keeps and closes them like its own rules.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q
from django.utils.translation import gettext_lazy as _

from integrations.connectors.models import Account
from renewals.risks.models import RiskCategory
from renewals.risks.rules import Condition, owner_of, register_rule

UNKNOWN = "unknown_accounts"
OVER = "over_purchased"
_SUBSCRIPTION = ("connector__subscription_id", "connector__subscription__department_id",
                 "connector__subscription__owner_id", "connector__subscription__owner__is_active")  # fmt: skip


def _owner(row: dict, heads: dict[int, int]) -> int | None:
    return owner_of(
        {"owner_id": row["connector__subscription__owner_id"],
         "owner__is_active": row["connector__subscription__owner__is_active"],
         "department_id": row["connector__subscription__department_id"]}, heads,
    )  # fmt: skip


def unknown_accounts(today: dt.date, heads: dict[int, int]) -> list[Condition]:
    rows = (
        Account.objects.filter(
            present=True, active=True, person__isnull=True, connector__enabled=True
        )  # fmt: skip
        .values("connector_id", *_SUBSCRIPTION)
        .annotate(n=Count("pk"))
    )
    return [
        Condition(
            UNKNOWN,
            str(r["connector_id"]),
            RiskCategory.ACCOUNT_CHAOS,
            3,
            2,
            r["connector__subscription_id"],
            r["connector__subscription__department_id"],
            _owner(r, heads),
            today + dt.timedelta(days=14),
        )  # fmt: skip
        for r in rows
    ]


def over_purchased(today: dt.date, heads: dict[int, int]) -> list[Condition]:
    rows = (
        Account.objects.filter(present=True, active=True, connector__enabled=True)
        .values(*_SUBSCRIPTION, purchased=F("connector__subscription__seats_purchased"))
        .annotate(n=Count("pk", filter=Q(present=True)))
        .filter(n__gt=F("purchased"))
    )
    return [
        Condition(
            OVER,
            str(r["connector__subscription_id"]),
            RiskCategory.OTHER,
            4,
            3,
            r["connector__subscription_id"],
            r["connector__subscription__department_id"],
            _owner(r, heads),
            today + dt.timedelta(days=7),
        )  # fmt: skip
        for r in rows
    ]


def register() -> None:
    register_rule(UNKNOWN, _("Accounts in a tool that match nobody here"), unknown_accounts)
    register_rule(OVER, _("More accounts in a tool than seats purchased (true-up)"),
                  over_purchased)  # fmt: skip
