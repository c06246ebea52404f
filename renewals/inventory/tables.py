"""django-tables2 tables of the renewals pages; exports come from the same tables."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.db.models import QuerySet
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_tables2.data import TableQuerysetData

from core.columns import RIGHT, MoneyColumn
from core.money import format_money
from core.rows import IdsFirst, empty_row, escape, number_formatter, url_maker
from core.status import badge_html
from renewals.inventory.models import Subscription, Vendor
from renewals.inventory.selectors import figure_expression


class _SubscriptionRows(IdsFirst):
    """The table's rows. A page sorted by a derived figure is read ids first (see IdsFirst):
    sorting 2,300 whole joined rows to keep 50 took 2 ms longer than the figure itself. Other
    orders are cheap in one query."""

    sorted_by_figure = False

    def __getitem__(self, key: Any) -> Any:
        if not self.sorted_by_figure:
            return TableQuerysetData.__getitem__(self, key)
        return super().__getitem__(key)


def _order(
    table: tables.Table, queryset: QuerySet[Subscription], name: str, descending: bool
) -> tuple[QuerySet[Subscription], bool]:
    expression = figure_expression(name)
    ordered = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
    if isinstance(table.data, _SubscriptionRows):
        table.data.sorted_by_figure = True
    return queryset.order_by(ordered, "pk"), True


class SubscriptionTable(tables.Table):
    # The bulk actions' checkbox (subscription list only: see ``selectable``); never exported.
    select = tables.Column(
        verbose_name=_("Select"), empty_values=(), orderable=False, exclude_from_export=True
    )
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
    seats_purchased = tables.Column(verbose_name=_("Seats"), attrs=RIGHT)
    used_seats = tables.Column(verbose_name=_("Assigned"), attrs=RIGHT)
    idle_seats = tables.Column(verbose_name=_("Idle"), attrs=RIGHT)
    departed_holders = tables.Column(verbose_name=_("Departed holders"), attrs=RIGHT)
    utilisation = tables.Column(verbose_name=_("Utilisation %"), attrs=RIGHT)
    annual_cost = MoneyColumn(verbose_name=_("Yearly cost (CNY)"))
    monthly_cost_per_active_user = MoneyColumn(verbose_name=_("Cost per active user / month (CNY)"))
    term_end = tables.DateColumn(verbose_name=_("Term end"), format="Y-m-d")
    cancellation_deadline = tables.DateColumn(verbose_name=_("Cancel by"), format="Y-m-d")
    auto_renew = tables.BooleanColumn(verbose_name=_("Auto-renews"), yesno=(_("yes"), _("no")))
    status = tables.Column(verbose_name=_("Status"))

    class Meta:
        model = Subscription
        fields = ()
        sequence = (
            "select",
            "ref", "vendor", "product", "edition", "department", "seats_purchased", "used_seats",
            "idle_seats", "departed_holders", "utilisation", "annual_cost",
            "monthly_cost_per_active_user", "term_end", "cancellation_deadline", "auto_renew", "status",
        )  # fmt: skip
        attrs = {
            "class": "table table-sm table-hover align-middle",
            "data-testid": "subscription-table",
        }
        order_by = ("term_end",)
        template_name = "rows_table.html"
        empty_text = _("No subscriptions match.")

    def __init__(self, data: Any, *args: Any, selectable: bool = False, **kwargs: Any) -> None:
        """``selectable``: rows get the bulk form's checkbox (the form is on the list page)."""
        if isinstance(data, QuerySet):
            data = _SubscriptionRows(data)
        self.selectable = selectable
        if not selectable:
            kwargs["exclude"] = (*kwargs.get("exclude", ()), "select")
        super().__init__(data, *args, **kwargs)

    # Derived figures are Python properties; sorting by them uses their SQL form.
    def order_annual_cost(
        self, queryset: QuerySet[Subscription], is_descending: bool
    ) -> tuple[QuerySet[Subscription], bool]:
        return _order(self, queryset, "annual_cost", is_descending)

    def order_utilisation(
        self, queryset: QuerySet[Subscription], is_descending: bool
    ) -> tuple[QuerySet[Subscription], bool]:
        return _order(self, queryset, "utilisation", is_descending)

    def order_monthly_cost_per_active_user(
        self, queryset: QuerySet[Subscription], is_descending: bool
    ) -> tuple[QuerySet[Subscription], bool]:
        return _order(self, queryset, "monthly_cost_per_active_user", is_descending)

    def rows_html(self) -> SafeString:
        """The page's rows as HTML, written here rather than in a template: through the template
        engine, 50 rows of 16 cells cost 8 ms a page (more than the whole trivial page), here
        about 1 ms. Values are escaped and localized as ``{{ value }}`` would do it (a test
        compares both); headers, sorting, pagination and exports still come from the table."""
        records = [row.record for row in self.paginated_rows]
        if not records:
            return empty_row(len(self.columns), self.empty_text)
        number = number_formatter()
        subscription_url = url_maker("renewals:subscription-detail")
        vendor_url = url_maker("renewals:vendor-detail")
        yes, no, dash = escape(gettext("yes")), escape(gettext("no")), "—"
        statuses = {
            value: badge_html("subscription", value, label)
            for value, label in Subscription.Status.choices
        }
        select = gettext("Select %(name)s")

        def figure(value: Any) -> str:
            return dash if value is None else number(value)

        def badge(value: int, style: str) -> str:
            return f'<span class="badge text-bg-{style}">{number(value)}</span>' if value else "0"

        end = '<td class="text-end">'
        rows = []
        for s in records:
            deadline = (
                (s.cancellation_deadline.isoformat() if s.cancellation_deadline else "")
                if s.auto_renew
                else dash
            )
            checkbox = (
                f'<td><input class="form-check-input" type="checkbox" name="ids" value="{s.pk}" '
                f'form="bulk-subscriptions" data-bulk-item aria-label="'
                f'{escape(select % {"name": s.ref})}"></td>'
                if self.selectable
                else ""
            )
            rows.append(
                f'<tr>{checkbox}<td><a href="{subscription_url(s.pk)}">{escape(s.ref)}</a></td>'
                f'<td><a href="{vendor_url(s.vendor_id)}">{escape(s.vendor.name)}</a></td>'
                f"<td>{escape(s.product)}</td><td>{escape(s.edition) if s.edition else dash}</td>"
                f"<td>{escape(s.department.name)}</td>"
                f"{end}{number(s.seats_purchased)}</td>{end}{number(s.used_seats)}</td>"
                f"{end}{badge(s.idle_seats, 'warning')}</td>"
                f"{end}{badge(s.departed_holders, 'danger')}</td>"
                f"{end}{figure(s.utilisation)}</td>{end}{format_money(s.annual_cost)}</td>"
                f"{end}{format_money(s.monthly_cost_per_active_user)}</td>"
                f'<td class="text-nowrap">{s.term_end.isoformat()}</td>'
                f'<td class="text-nowrap">{deadline}</td>'
                f"<td>{yes if s.auto_renew else no}</td>"
                f"<td>{statuses.get(s.status) or escape(s.status)}</td></tr>"
            )
        return mark_safe("".join(rows))  # noqa: S308 - every value above is escaped

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
    website = tables.Column(verbose_name=_("Website"))
    subscription_count = tables.Column(verbose_name=_("Subscriptions"), attrs=RIGHT)

    class Meta:
        model = Vendor
        fields = ()
        sequence = ("name", "website", "subscription_count")
        attrs = {"class": "table table-sm table-hover"}
        empty_text = _("No vendors.")

    def render_website(self, value: str) -> str:
        """A link only for http(s) addresses: a stored javascript: or data: URL stays text."""
        if value.lower().startswith(("https://", "http://")):
            return format_html('<a href="{0}" rel="noopener noreferrer">{0}</a>', value)
        return value
