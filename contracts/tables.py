"""The archive list; its CSV/XLSX export comes from the same table."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from contracts.models import Contract


class ContractTable(tables.Table):
    number = tables.Column(verbose_name=_("Contract no."), linkify=True)
    counterparty = tables.Column(verbose_name=_("Counterparty"))
    subscription = tables.Column(
        verbose_name=_("Subscription"), accessor="subscription__product",
        order_by=("subscription__vendor__name", "subscription__product"),
    )  # fmt: skip
    department = tables.Column(
        verbose_name=_("Department"), accessor="subscription__department__name"
    )
    valid_from = tables.DateColumn(verbose_name=_("Valid from"), format="Y-m-d")
    valid_to = tables.DateColumn(verbose_name=_("Valid to"), format="Y-m-d")
    total_value = tables.Column(verbose_name=_("Total value"), attrs={"td": {"class": "text-end"}})
    currency = tables.Column(verbose_name=_("Currency"))
    auto_renew = tables.BooleanColumn(verbose_name=_("Auto-renews"), yesno=(_("yes"), _("no")))
    notice_period_days = tables.Column(verbose_name=_("Notice (days)"))
    price_cap_percent = tables.Column(verbose_name=_("Price cap %"))
    status = tables.Column(verbose_name=_("Status"))

    class Meta:
        model = Contract
        fields = [
            "number", "counterparty", "subscription", "department", "valid_from", "valid_to",
            "total_value", "currency", "auto_renew", "notice_period_days", "price_cap_percent",
            "status",
        ]  # fmt: skip
        attrs = {"class": "table table-sm table-hover align-middle", "data-testid": "contracts"}
        empty_text = _("No contracts match.")

    def render_subscription(self, record: Contract) -> str:
        return f"{record.subscription.vendor.name} {record.subscription.product}"

    def value_subscription(self, record: Contract) -> str:
        return self.render_subscription(record)

    def render_status(self, record: Contract) -> str:
        return str(record.get_status_display())

    def value_status(self, record: Contract) -> str:
        return self.render_status(record)
