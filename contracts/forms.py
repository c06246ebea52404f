"""Forms of the contract archive; amounts read strictly, files checked by content in services."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from contracts.models import Contract, ContractDocument
from contracts.search import raw_query
from contracts.selectors import ArchiveSearch, expiring_within
from core.filtersets import NOT_AVAILABLE, set_choices
from core.widgets import DateInput
from org.scoping import visible_departments
from renewals.inventory.selectors import visible_vendors
from renewals.requests.forms import CommaListField, CurrencyField, MoneyField, PercentField


class ContractForm(forms.ModelForm):
    total_value = MoneyField(label=_("Total value"))
    currency = CurrencyField(label=_("Currency"))
    price_cap_percent = PercentField(label=_("Renewal price-increase cap %"), required=False)
    tags = CommaListField(
        label=_("Tags"), required=False, max_length=1000, max_items=20, max_item_length=40,
        too_many=_("At most 20 tags of at most 40 characters each."),
    )  # fmt: skip

    class Meta:
        model = Contract
        fields = [
            "number", "counterparty", "signed_on", "valid_from", "valid_to", "seats",
            "total_value", "currency", "price_terms", "auto_renew", "auto_renew_clause",
            "notice_period_days", "price_cap_percent", "payment_terms", "tags", "status",
        ]  # fmt: skip
        date = DateInput()
        widgets = {
            "signed_on": date,
            "valid_from": date,
            "valid_to": date,
            "price_terms": forms.Textarea(attrs={"rows": 2}),
            "auto_renew_clause": forms.Textarea(attrs={"rows": 2}),
            "payment_terms": forms.Textarea(attrs={"rows": 2}),
        }


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document"), choices=ContractDocument.Kind.choices)
    file = forms.FileField(
        label=_("File (PDF, or a PNG/JPEG scan)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )


WITHIN = [("30", _("30 days")), ("60", _("60 days")), ("90", _("90 days")), ("180", _("180 days"))]


class ContractFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search (also inside PDFs)"), method="search_last", max_length=100
    )
    department = django_filters.ChoiceFilter(
        label=_("Department"), choices=[], empty_label=_("All departments"),
        field_name="subscription__department", error_messages=NOT_AVAILABLE,
    )  # fmt: skip
    vendor = django_filters.ChoiceFilter(
        label=_("Vendor"), choices=[], empty_label=_("All vendors"),
        field_name="subscription__vendor", error_messages=NOT_AVAILABLE,
    )  # fmt: skip
    valid_on_or_after = django_filters.DateFilter(
        label=_("Valid from"), field_name="valid_to", lookup_expr="gte",
        widget=DateInput(),
    )  # fmt: skip
    valid_on_or_before = django_filters.DateFilter(
        label=_("Valid until"), field_name="valid_from", lookup_expr="lte",
        widget=DateInput(),
    )  # fmt: skip
    auto_renew = django_filters.BooleanFilter(
        label=_("Auto-renews"),
        widget=forms.Select(choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))]),
    )
    expiring_within = django_filters.ChoiceFilter(
        label=_("Expiring within"), choices=WITHIN, method="filter_expiring",
        empty_label=_("Any time"),
    )  # fmt: skip

    class Meta:
        model = Contract
        fields = ["q", "department", "vendor", "valid_on_or_after", "valid_on_or_before",
                  "auto_renew", "expiring_within"]  # fmt: skip

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.archive_search: ArchiveSearch | None = None
        set_choices(
            self, "department", visible_departments(user).order_by("code").values_list("pk", "name")
        )
        # ... and the vendors of the subscriptions they may see (the vendor list's rule).
        set_choices(self, "vendor", visible_vendors(user=user).values_list("pk", "name"))

    def search_last(self, queryset: Any, name: str, value: str) -> Any:
        return queryset  # applied after every other filter, by filter_queryset

    def filter_queryset(self, queryset: Any) -> Any:
        """Every filter, then the search: the archive keeps both (``self.archive_search``) to choose
        how to read a page of a common search (selectors.walk_page_ids)."""
        queryset = super().filter_queryset(queryset)
        raw = raw_query(self.form.cleaned_data.get("q") or "")
        if raw is None:
            return queryset
        self.archive_search = ArchiveSearch(unsearched=queryset, raw=raw)
        return self.archive_search.rows

    def filter_expiring(self, queryset: Any, name: str, value: str) -> Any:
        return expiring_within(queryset, int(value))
