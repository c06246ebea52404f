"""django-tables2 tables of the renewals pages; exports come from the same tables."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from renewals.models import Subscription, Vendor
from renewals.selectors.subscriptions import figure_expression


def _order(queryset: QuerySet[Subscription], name: str, descending: bool) -> QuerySet[Subscription]:
    expression = figure_expression(name)
    ordered = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
    return queryset.order_by(ordered, "pk")


class SubscriptionTable(tables.Table):
    ref = tables.Column(verbose_name=_("Reference"), linkify=True)
    vendor = tables.Column(
        verbose_name=_("Vendor"),
        accessor="vendor__name",
        linkify=lambda record: record.vendor.get_absolute_url(),
    )
    product = tables.Column(verbose_name=_("Product"))
    edition = tables.Column(verbose_name=_("Edition"))
    department = tables.Column(
        verbose_name=_("Department"), accessor="department__name", order_by="department__code"
    )
    seats_purchased = tables.Column(verbose_name=_("Seats"), attrs={"td": {"class": "text-end"}})
    used_seats = tables.Column(verbose_name=_("Assigned"), attrs={"td": {"class": "text-end"}})
    idle_seats = tables.Column(verbose_name=_("Idle"), attrs={"td": {"class": "text-end"}})
    departed_holders = tables.Column(
        verbose_name=_("Departed holders"), attrs={"td": {"class": "text-end"}}
    )
    utilisation = tables.Column(
        verbose_name=_("Utilisation %"), attrs={"td": {"class": "text-end"}}
    )
    annual_cost = tables.Column(
        verbose_name=_("Yearly cost (CNY)"), attrs={"td": {"class": "text-end"}}
    )
    monthly_cost_per_active_user = tables.Column(
        verbose_name=_("Cost per active user / month (CNY)"), attrs={"td": {"class": "text-end"}}
    )
    term_end = tables.DateColumn(verbose_name=_("Term end"), format="Y-m-d")
    cancellation_deadline = tables.DateColumn(verbose_name=_("Cancel by"), format="Y-m-d")
    auto_renew = tables.BooleanColumn(verbose_name=_("Auto-renews"), yesno=(_("yes"), _("no")))
    status = tables.Column(verbose_name=_("Status"))

    class Meta:
        model = Subscription
        fields = ()
        sequence = (
            "ref", "vendor", "product", "edition", "department", "seats_purchased", "used_seats",
            "idle_seats", "departed_holders", "utilisation", "annual_cost",
            "monthly_cost_per_active_user", "term_end", "cancellation_deadline", "auto_renew", "status",
        )  # fmt: skip
        attrs = {
            "class": "table table-sm table-hover align-middle",
            "data-testid": "subscription-table",
        }
        order_by = ("term_end",)
        template_name = "renewals/subscription_table.html"
        empty_text = _("No subscriptions match.")

    # Derived figures are Python properties; sorting by them uses their SQL form.
    def order_annual_cost(
        self, queryset: QuerySet[Subscription], is_descending: bool
    ) -> tuple[QuerySet[Subscription], bool]:
        return _order(queryset, "annual_cost", is_descending), True

    def order_utilisation(
        self, queryset: QuerySet[Subscription], is_descending: bool
    ) -> tuple[QuerySet[Subscription], bool]:
        return _order(queryset, "utilisation", is_descending), True

    def order_monthly_cost_per_active_user(
        self, queryset: QuerySet[Subscription], is_descending: bool
    ) -> tuple[QuerySet[Subscription], bool]:
        return _order(queryset, "monthly_cost_per_active_user", is_descending), True

    def render_status(self, record: Subscription) -> str:
        return str(record.get_status_display())

    def value_status(self, record: Subscription) -> str:
        return str(record.get_status_display())

    def render_cancellation_deadline(self, record: Subscription, value: Any) -> Any:
        return value if record.auto_renew else "—"

    def value_cancellation_deadline(self, record: Subscription, value: Any) -> Any:
        return value if record.auto_renew else None


class VendorTable(tables.Table):
    name = tables.Column(verbose_name=_("Name"), linkify=True)
    website = tables.URLColumn(verbose_name=_("Website"))
    subscription_count = tables.Column(
        verbose_name=_("Subscriptions"), attrs={"td": {"class": "text-end"}}
    )

    class Meta:
        model = Vendor
        fields = ()
        sequence = ("name", "website", "subscription_count")
        attrs = {"class": "table table-sm table-hover"}
        empty_text = _("No vendors.")
