"""Budget pages: the overview (finance, auditors, IT: all; heads: their own), a budget's ledger
with running balance and exports, and finance's actions on it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import django_tables2 as tables
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from budgets import services
from budgets.forms import LedgerActionForm, ReforecastForm, ReversalForm
from budgets.models import Budget, LedgerEntry
from budgets.money import OriginalAmount
from budgets.references import resolve
from budgets.rendering import overview_rows_html
from budgets.selectors import (
    DepartmentBudget,
    LedgerLine,
    balances,
    department_budgets,
    ledger_lines,
    total_of,
)
from core.columns import MoneyColumn
from core.exports import SafeTableExport
from core.money import format_money
from org.permissions import role_required
from org.roles import BUDGET_ROLES, Role, has_role
from org.scoping import visible_departments


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return services.current_year()
    return year if 2000 <= year <= 2100 else services.current_year()


@require_GET
@role_required(*BUDGET_ROLES)
def overview(request: HttpRequest) -> HttpResponse:
    """Every visible department this year, each with its figure incl. sub-departments
    (selectors.department_budgets: the rule every page shares)."""
    year = _year(request)
    rows = department_budgets(visible_departments(request.user), year)
    is_finance = has_role(request.user, Role.FINANCE)
    return render(
        request,
        "budgets/overview.html",
        {
            "year": year,
            "rows": rows,
            "rows_html": overview_rows_html(
                rows, year=year, is_finance=is_finance, csrf_token=get_token(request)
            ),
            "total": total_of(rows),
            "chart": _chart([r for r in rows if r.depth == 0]),
            "is_finance": is_finance,
        },
    )


def _chart(rows: list[DepartmentBudget]) -> dict[str, Any]:
    """The overview's bar chart, for static/js/budget-chart.js: one group of bars per top-level
    department (its sub-departments included, as in the table), amounts as exact strings."""
    figures = [
        ("allocated", _("Allocated")),
        ("committed", _("Committed")),
        ("actual", _("Actual")),
        ("available", _("Available")),
    ]
    return {
        "currency": settings.BASE_CURRENCY,
        "labels": [r.department.name for r in rows],
        "series": [
            {"key": key, "label": label, "values": [str(getattr(r.balance, key)) for r in rows]}
            for key, label in figures
        ],
    }


def get_budget_for(user: Any, pk: int) -> Budget:
    return get_object_or_404(
        Budget.objects.filter(department__in=visible_departments(user)).select_related(
            "department"
        ),
        pk=pk,
    )


RIGHT = {"td": {"class": "text-end"}, "th": {"class": "text-end"}}


class LedgerTable(tables.Table):
    """A budget's ledger (records: selectors.LedgerLine). The export has the same columns, with
    plain signed numbers and the source named as text."""

    created_at = tables.DateTimeColumn(
        accessor="entry__created_at", verbose_name=_("When"), format="Y-m-d H:i"
    )
    kind = tables.Column(accessor="entry__kind", verbose_name=_("Kind"))
    category = tables.Column(accessor="entry__category", verbose_name=_("Category"))
    signed = MoneyColumn(verbose_name=_("Amount (CNY)"))
    original = tables.Column(
        verbose_name=_("Original currency"), accessor="entry", empty_values=(), attrs=RIGHT
    )
    available_after = MoneyColumn(verbose_name=_("Available after"))
    memo = tables.Column(accessor="entry__memo", verbose_name=_("Reason"))
    # Autoescaped: the request's name, linked when the viewer may open it.
    source = tables.TemplateColumn(
        '{% with s=record.source %}{% if s.url %}<a href="{{ s.url }}">{{ s.text }}</a>'
        "{% elif s %}{{ s.text }}{% endif %}{% endwith %}",
        verbose_name=_("Source"),
        accessor="entry",
        empty_values=(),
    )
    created_by = tables.Column(accessor="entry__created_by", verbose_name=_("By"))

    class Meta:
        attrs = {"class": "table table-sm", "data-testid": "ledger-table"}
        orderable = False

    def render_kind(self, record: LedgerLine) -> str:
        entry = record.entry
        if entry.kind == LedgerEntry.Kind.REVERSAL:
            return _("Reversal of: %(kind)s") % {
                "kind": LedgerEntry.Kind(record.effective_kind).label
            }
        return str(entry.get_kind_display())

    value_kind = render_kind

    def render_category(self, record: LedgerLine) -> str:
        return str(record.entry.get_category_display())

    value_category = render_category

    def value_original(self, record: LedgerLine) -> str:
        """E.g. "USD 1000.00 @ 7.1234": what the amount was before conversion."""
        entry = record.entry
        if not entry.original_currency or entry.original_amount is None or not entry.rate:
            return ""
        return str(OriginalAmount(entry.original_currency, entry.original_amount, entry.rate))

    def render_original(self, record: LedgerLine) -> str:
        """On the page with separators: "USD 1,000.00 @ 7.1234" (the export keeps it plain)."""
        plain, amount = self.value_original(record), record.entry.original_amount
        if not plain or amount is None:
            return plain
        return plain.replace(f" {amount:f} @", f" {format_money(amount)} @", 1)

    def value_source(self, record: LedgerLine) -> str:
        return record.source.text if record.source else ""


def _booked_choices(lines: list[LedgerLine]) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """The kind and category filters offer what this ledger holds (categories: "general" stands
    for the empty General category)."""
    kinds = {line.entry.kind for line in lines}
    categories = {line.entry.category for line in lines}
    return (
        [(value, label) for value, label in LedgerEntry.Kind.choices if value in kinds],
        [
            (value or GENERAL, label)
            for value, label in LedgerEntry.Category.choices
            if value in categories
        ],
    )


GENERAL = "general"


@require_GET
@role_required(*BUDGET_ROLES)
def budget_detail(request: HttpRequest, pk: int) -> HttpResponse:
    budget = get_budget_for(request.user, pk)
    lines = ledger_lines(budget)
    kinds, categories = _booked_choices(lines)
    reversed_ids = {line.entry.reverses_id for line in lines if line.entry.reverses_id}
    kind = request.GET.get("kind", "")
    kind = kind if kind in dict(kinds) else ""
    category = request.GET.get("category", "")
    category = category if category in dict(categories) else ""
    booked_category = "" if category == GENERAL else category
    shown = [
        line
        for line in lines
        if (not kind or line.entry.kind == kind)
        and (not category or line.entry.category == booked_category)
    ]
    sources = resolve(request.user, {line.entry.reference for line in shown})
    table = LedgerTable([replace(line, source=sources.get(line.entry.reference)) for line in shown])
    export = request.GET.get("_export")
    if export in ("csv", "xlsx"):
        stamp = timezone.localdate().isoformat()
        return SafeTableExport(export, table).response(
            f"ledger-{budget.department.code}-{budget.year}-{stamp}.{export}"
        )
    RequestConfig(request, paginate={"per_page": 100}).configure(table)
    is_finance = has_role(request.user, Role.FINANCE)
    current = balances([budget.pk])[budget.pk]
    return render(
        request,
        "budgets/budget_detail.html",
        {
            "budget": budget,
            "balance": current,
            "rollup": department_budgets([budget.department_id], budget.year)[0],
            "committed_and_actual": current.committed + current.actual,
            "table": table,
            "kinds": kinds,
            "kind": kind,
            "categories": categories,
            "category": category,
            "form": LedgerActionForm(budget=budget) if is_finance else None,
            "months_remaining": services.months_remaining(budget.year),
            "time_zone": settings.TIME_ZONE,
            "reforecast_form": ReforecastForm(
                initial={"basis": "full_year", "reference": ReforecastForm.new_reference()}
            )
            if is_finance
            else None,
            "reversible": [
                line
                for line in lines
                if line.entry.kind not in ("reversal", "transfer")
                and line.entry.pk not in reversed_ids
            ]
            if is_finance
            else [],
        },
    )


@require_http_methods(["POST"])
@role_required(Role.FINANCE)
def budget_action(request: HttpRequest, pk: int) -> HttpResponse:
    budget = get_budget_for(request.user, pk)
    form = LedgerActionForm(request.POST, budget=budget)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["action"] == "allocate":
                services.budget_allocate(
                    budget=budget,
                    amount=data["amount"],
                    user=request.user,
                    memo=data["memo"],
                    category=data["category"] or "",
                    original=data["original"],
                )
            elif data["action"] == "adjust":
                services.budget_adjust(
                    budget=budget,
                    amount=data["amount"],
                    user=request.user,
                    memo=data["memo"],
                    original=data["original"],
                )
            elif data["action"] == "release_reserve":
                services.budget_release_reserve(
                    budget=budget, amount=data["amount"], user=request.user, memo=data["memo"]
                )
            else:
                services.budget_transfer(
                    source=budget,
                    target=data["target"],
                    amount=data["amount"],
                    user=request.user,
                    memo=data["memo"],
                )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Recorded in the ledger."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return redirect(budget)


@require_POST
@role_required(Role.FINANCE)
def budget_reforecast(request: HttpRequest, pk: int) -> HttpResponse:
    """Finance re-forecasts the months left of a budget's year (one adjustment entry)."""
    budget = get_budget_for(request.user, pk)
    form = ReforecastForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(budget)
    data = form.cleaned_data
    # Only chooses the message; the service itself makes a repeat harmless, under the lock.
    already = LedgerEntry.objects.filter(
        budget=budget, kind=LedgerEntry.Kind.ADJUSTMENT, reference=data["reference"]
    ).exists()
    try:
        entry = services.budget_reforecast(
            budget=budget,
            reference=data["reference"],
            user=request.user,
            memo=data["memo"],
            **{data["basis"]: data["amount"]},
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if entry is None:
            messages.info(
                request, _("The allocation already matches this forecast: nothing to book.")
            )
        elif already:
            messages.info(request, _("This re-forecast was already recorded."))
        else:
            messages.success(
                request,
                _("Re-forecast recorded: the allocation changes by %(amount)s.")
                % {"amount": entry.amount},
            )
    return redirect(budget)


@require_POST
@role_required(Role.FINANCE)
def entry_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(LedgerEntry.objects.select_related("budget"), pk=pk)
    budget = get_budget_for(request.user, entry.budget_id)
    form = ReversalForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("A reason is required to reverse an entry."))
        return redirect(budget)
    try:
        services.budget_reverse(entry=entry, user=request.user, memo=form.cleaned_data["memo"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The entry was reversed."))
    return redirect(budget)


@require_POST
@role_required(Role.FINANCE)
def budget_open(request: HttpRequest) -> HttpResponse:
    """Open a department's budget for a year (finance), with the default reserve."""
    try:
        department = get_object_or_404(
            visible_departments(request.user), pk=int(request.POST.get("department", ""))
        )
        year = int(request.POST.get("year", ""))
    except ValueError:
        raise PermissionDenied from None
    budget = services.budget_for(department=department, year=year)
    return redirect(budget)
