"""Budget pages: the overview (finance, auditors, IT: all; heads: their own), a budget's ledger
with running balance and exports, and finance's actions on it."""

from __future__ import annotations

from decimal import Decimal
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
from budgets.rendering import overview_rows_html
from budgets.selectors import Balance, balances
from config.exports import SafeTableExport
from config.navigation import BUDGET_ROLES
from org.models import Department
from org.permissions import role_required
from org.roles import Role, has_role
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
    """Every visible department this year, sub-departments rolled up into their parents."""
    year = _year(request)
    visible = visible_departments(request.user)
    departments = list(visible.order_by("code"))
    budgets = {b.department_id: b for b in Budget.objects.filter(year=year, department__in=visible)}
    own = balances([b.pk for b in budgets.values()])
    by_department = {
        d.pk: own.get(budgets[d.pk].pk, Balance()) if d.pk in budgets else Balance()
        for d in departments
    }
    children: dict[int | None, list[Department]] = {}
    for d in departments:
        children.setdefault(d.parent_id, []).append(d)
    visible_ids = {d.pk for d in departments}

    def rolled(d: Department) -> Balance:
        total = by_department[d.pk]
        for child in children.get(d.pk, []):
            total = total + rolled(child)
        return total

    rows = []

    def walk(d: Department, depth: int) -> None:
        rows.append(
            {"department": d, "depth": depth, "budget": budgets.get(d.pk), "balance": rolled(d)}
        )
        for child in children.get(d.pk, []):
            walk(child, depth + 1)

    for top in [d for d in departments if d.parent_id not in visible_ids]:
        walk(top, 0)
    total = Balance()
    for top in [d for d in departments if d.parent_id not in visible_ids]:
        total = total + rolled(top)
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
            "total": total,
            "chart": _chart([r for r in rows if r["depth"] == 0]),
            "is_finance": is_finance,
        },
    )


def _chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
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
        "labels": [r["department"].name for r in rows],
        "series": [
            {"key": key, "label": label, "values": [str(getattr(r["balance"], key)) for r in rows]}
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


class LedgerTable(tables.Table):
    created_at = tables.DateTimeColumn(verbose_name=_("When"), format="Y-m-d H:i")
    kind = tables.Column(verbose_name=_("Kind"))
    category = tables.Column(verbose_name=_("Category"))
    amount = tables.Column(verbose_name=_("Amount (CNY)"), attrs={"td": {"class": "text-end"}})
    original = tables.Column(
        verbose_name=_("Original currency"), empty_values=(), attrs={"td": {"class": "text-end"}}
    )
    running = tables.Column(
        verbose_name=_("Allocated after"),
        empty_values=(),
        orderable=False,
        attrs={"td": {"class": "text-end"}},
    )
    memo = tables.Column(verbose_name=_("Reason"))
    reference = tables.Column(verbose_name=_("Reference"))
    created_by = tables.Column(verbose_name=_("By"))

    class Meta:
        model = LedgerEntry
        fields = ()
        sequence = (
            "created_at",
            "kind",
            "category",
            "amount",
            "original",
            "running",
            "memo",
            "reference",
            "created_by",
        )
        attrs = {"class": "table table-sm", "data-testid": "ledger-table"}
        orderable = False

    def render_kind(self, record: LedgerEntry) -> str:
        return str(record.get_kind_display())

    value_kind = render_kind

    def render_category(self, record: LedgerEntry) -> str:
        return str(record.get_category_display())

    value_category = render_category

    def render_original(self, record: LedgerEntry) -> str:
        """E.g. "USD 1000.00 @ 7.1234": what the amount was before conversion."""
        if not record.original_currency or record.original_amount is None or not record.rate:
            return ""
        return str(OriginalAmount(record.original_currency, record.original_amount, record.rate))

    value_original = render_original

    def render_running(self, record: LedgerEntry) -> Any:
        return getattr(record, "running", "")

    value_running = render_running


@require_GET
@role_required(*BUDGET_ROLES)
def budget_detail(request: HttpRequest, pk: int) -> HttpResponse:
    budget = get_budget_for(request.user, pk)
    entries = list(
        LedgerEntry.objects.filter(budget=budget)
        .select_related("created_by", "reverses")
        .order_by("created_at", "pk")
    )
    kind = request.GET.get("kind", "")
    running = Decimal(0)
    allocating = {"allocation", "adjustment", "transfer"}
    for entry in entries:
        effective = entry.reverses.kind if entry.reverses else entry.kind
        if effective in allocating:
            running += entry.amount
        entry.running = running  # type: ignore[attr-defined]
    shown = [e for e in entries if not kind or e.kind == kind]
    table = LedgerTable(shown)
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
            "committed_and_actual": current.committed + current.actual,
            "table": table,
            "kinds": LedgerEntry.Kind.choices,
            "kind": kind,
            "form": LedgerActionForm(budget=budget) if is_finance else None,
            "months_remaining": services.months_remaining(budget.year),
            "time_zone": settings.TIME_ZONE,
            "reforecast_form": ReforecastForm(
                initial={"basis": "full_year", "reference": ReforecastForm.new_reference()}
            )
            if is_finance
            else None,
            "reversible": [
                e
                for e in entries
                if e.kind not in ("reversal", "transfer") and not hasattr(e, "reversed_by")
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
