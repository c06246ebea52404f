"""The archive list; its CSV/XLSX export comes from the same table."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.db.models import QuerySet
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from contracts.models import Contract
from contracts.selectors import ArchiveSearch, contract_rows, walk_page_ids
from core.columns import MoneyColumn, NumberColumn
from core.money import format_money
from core.rows import IdsFirst, empty_row, escape, number_formatter, url_maker
from core.status import badge_html

COUNT_CAP = 1000


class ContractRows(IdsFirst):
    """The archive's rows: matches counted only up to ``cap`` (counting every contract that
    contains a common word cost more than showing the page; the view raises the cap with the
    page number, so the next pages stay reachable), and a page's rows read by id alone."""

    cap = COUNT_CAP

    def __init__(self, data: QuerySet[Contract], search: ArchiveSearch | None = None) -> None:
        super().__init__(data)
        self.search = search

    def __len__(self) -> int:
        if getattr(self, "_length", None) is None and hasattr(self.table, "paginator"):
            self._length = self.data.order_by().values("pk")[: self.cap + 1].count()
        return super().__len__()

    @property
    def capped(self) -> bool:
        return len(self) > self.cap

    def ordering_keys(self) -> list[str]:
        """The order of the rows (the table's, else the model's), ids last: pages never overlap
        and both ways of reading a page of a search (selectors.walk_page_ids) give the same
        rows."""
        keys = [str(key) for key in self.data.query.order_by or Contract._meta.ordering or []]
        return keys if {"pk", "-pk", "id", "-id"} & set(keys) else [*keys, "pk"]

    def __getitem__(self, key: Any) -> Any:
        if not isinstance(key, slice):
            return super().__getitem__(key)
        ordering = self.ordering_keys()
        ids = None
        if self.search is not None and key.stop is not None:
            ids = walk_page_ids(
                self.search, ordering=ordering, start=key.start or 0, stop=key.stop,
                matches=len(self), cap=self.cap,
            )  # fmt: skip
        if ids is None:
            ids = list(self.data.order_by(*ordering).values_list("pk", flat=True)[key])
        rows = contract_rows(ids)
        return [rows[pk] for pk in ids]


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
    total_value = MoneyColumn(verbose_name=_("Total value"))
    currency = tables.Column(verbose_name=_("Currency"))
    auto_renew = tables.BooleanColumn(verbose_name=_("Auto-renews"), yesno=(_("yes"), _("no")))
    notice_period_days = NumberColumn(verbose_name=_("Notice (days)"))
    price_cap_percent = NumberColumn(verbose_name=_("Price cap %"))
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
        template_name = "rows_table.html"

    def __init__(
        self, data: Any, *args: Any, search: ArchiveSearch | None = None, **kwargs: Any
    ) -> None:
        """``search``: the archive's search, when there is one (``data`` are its rows), so a
        page of it can be read the fastest way (selectors.walk_page_ids)."""
        if isinstance(data, QuerySet):
            data = ContractRows(data, search)
        super().__init__(data, *args, **kwargs)

    def rows_html(self) -> SafeString:
        """The page's rows written here, escaped as {{ value }} would (the template engine
        cost more than the rest of the page for 50 rows); exports still use the columns."""
        records = [row.record for row in self.paginated_rows]
        if not records:
            return empty_row(len(self.columns), self.empty_text)
        number = number_formatter()
        url = url_maker("contracts:contract-detail")
        yes, no, dash = escape(gettext("yes")), escape(gettext("no")), "—"
        statuses = {v: badge_html("contract", v, label) for v, label in Contract.Status.choices}
        end = '<td class="text-end">'
        rows = []
        for c in records:
            sub = c.subscription
            cap = number(c.price_cap_percent) if c.price_cap_percent is not None else dash
            notice = number(c.notice_period_days) if c.notice_period_days is not None else dash
            rows.append(
                f'<tr><td><a href="{url(c.pk)}">{escape(c.number)}</a></td>'
                f"<td>{escape(c.counterparty)}</td>"
                f"<td>{escape(sub.display_name)}</td>"
                f"<td>{escape(sub.department.name)}</td>"
                f"<td>{c.valid_from.isoformat()}</td><td>{c.valid_to.isoformat()}</td>"
                f"{end}{format_money(c.total_value)}</td><td>{escape(c.currency)}</td>"
                f"<td>{yes if c.auto_renew else no}</td>{end}{notice}</td>{end}{cap}</td>"
                f"<td>{statuses.get(c.status, dash)}</td></tr>"
            )
        return mark_safe("".join(rows))  # noqa: S308 - every value above is escaped

    # Rows come from rows_html; these are the export's values.
    def value_subscription(self, record: Contract) -> str:
        return record.subscription.display_name

    def value_status(self, record: Contract) -> str:
        return str(record.get_status_display())
