"""The risk register's rule for contract traps (registered in contracts/apps.py): a live
contract with open findings is one risk, owned like its subscription's other risks, and closed by
the register once its findings are resolved."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from contracts.models import Contract
from contracts.terms.models import ContractFinding
from renewals.risks.models import RiskCategory
from renewals.risks.rules import LIVE, Condition, owner_of, register_rule

RULE = "contract_clauses"
# Traps that cost money at the next renewal weigh more than a missing clause.
SEVERE = {ContractFinding.Kind.LONG_NOTICE, ContractFinding.Kind.LIST_PRICE,
          ContractFinding.Kind.NO_PRICE_CAP, ContractFinding.Kind.AMENDMENT_CHANGE}  # fmt: skip


def contract_clauses(today: dt.date, heads: dict[int, int]) -> list[Condition]:
    rows = (
        ContractFinding.objects.filter(
            status=ContractFinding.Status.OPEN,
            contract__status__in=(Contract.Status.ACTIVE, Contract.Status.DRAFT),
            contract__subscription__status__in=LIVE,
        )
        .values(
            "contract_id", "contract__subscription_id", "contract__subscription__department_id",
            "contract__subscription__owner_id", "contract__subscription__owner__is_active",
        )
        .annotate(n=Count("pk"), severe=Count("pk", filter=Q(kind__in=SEVERE)))
    )  # fmt: skip
    return [
        Condition(
            RULE,
            str(r["contract_id"]),
            RiskCategory.CONTRACT_TRAP,
            4 if r["severe"] else 3,
            4 if r["severe"] else 2,
            r["contract__subscription_id"],
            r["contract__subscription__department_id"],
            owner_of(
                {
                    "owner_id": r["contract__subscription__owner_id"],
                    "owner__is_active": r["contract__subscription__owner__is_active"],
                    "department_id": r["contract__subscription__department_id"],
                },
                heads,
            ),
            today + dt.timedelta(days=14),
        )  # fmt: skip
        for r in rows
    ]


def texts(name: str, department: str, key: str) -> tuple[str, str]:
    """The risk's title and description (the register lists many: no query per risk)."""
    return (
        gettext("The contract of %(name)s has clauses that are traps") % {"name": name},
        gettext(
            "A contract of %(name)s (%(dept)s) auto-renews with "
            "a long notice period, renews at list price or without a price cap, lets only the "
            "vendor terminate, has no data-return clause, or an amendment changed it. Open the "
            "contract to read each flagged clause; settle them before the renewal, with legal "
            "where needed."
        )
        % {"name": name, "dept": department},
    )


def register() -> None:
    register_rule(RULE, _("Contract clauses that are traps (auto-renewal, price, exit, data)"),
                  contract_clauses, texts)  # fmt: skip
