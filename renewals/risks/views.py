"""The risk register (风险清单): the register with filters and exports, a risk and its history,
manual risks, and the quarterly review where owners confirm or update their risks in place.

Who: IT admins, finance and auditors see every risk (auditors read only); heads and software
admins see their departments' risks; IT admins, finance and heads (their departments) change
them; owners review their own. Another department's risk is a 404.
"""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from core.columns import StatusColumn
from core.exports import SafeTableExport
from core.pdf import render_pdf
from org.permissions import role_required, signed_in_user
from org.roles import DIRECTORY_ROLES, Role, has_role
from org.scoping import visible_departments
from renewals.risks import policy, selectors, services
from renewals.risks.forms import ReviewForm, RiskFilter, RiskForm
from renewals.risks.models import Risk
from renewals.risks.policy import CHANGERS
from renewals.risks.rules import RULE_LABELS

PAGE_SIZE = 50
PDF_LIMIT = 2000


def _errors(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


class _Rows(tables.data.TableQuerysetData):
    """A page's risks get their seats (departed holders) in one query after slicing."""

    def __getitem__(self, key: Any) -> Any:
        rows = super().__getitem__(key)
        if isinstance(key, slice):
            rows = list(rows)
            selectors.attach_subjects(rows)
        return rows


class RiskTable(tables.Table):
    score = tables.Column(verbose_name=gettext_lazy("Score"), accessor="score_value")
    title = tables.Column(verbose_name=gettext_lazy("Risk"), order_by=("title",))
    category = tables.Column(verbose_name=gettext_lazy("Category"))
    department = tables.Column(
        verbose_name=gettext_lazy("Department"), order_by=("department__code",)
    )
    likelihood = tables.Column(verbose_name=gettext_lazy("Likelihood"))
    impact = tables.Column(verbose_name=gettext_lazy("Impact"))
    owner = tables.Column(verbose_name=gettext_lazy("Owner"), order_by=("owner__username",))
    status = StatusColumn(verbose_name=gettext_lazy("Status"))
    next_review_on = tables.DateColumn(verbose_name=gettext_lazy("Next review"), format="Y-m-d")
    source = tables.Column(
        verbose_name=gettext_lazy("Source"), accessor="rule", empty_values=(), orderable=False
    )

    class Meta:
        model = Risk
        fields = [
            "score", "title", "category", "department", "likelihood", "impact", "owner",
            "status", "next_review_on", "source",
        ]  # fmt: skip
        attrs = {"class": "table table-sm table-hover align-middle", "data-testid": "risks"}
        template_name = "django_tables2/bootstrap5.html"
        empty_text = gettext_lazy("No risks match.")

    def __init__(self, data: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(data, QuerySet):
            data = _Rows(data)
        super().__init__(data, *args, **kwargs)

    def render_title(self, record: Risk) -> Any:
        title, _description = selectors.risk_text(record)
        return format_html(
            '<a href="{}">{}</a>', reverse("renewals:risk-detail", args=[record.pk]), title
        )

    def value_title(self, record: Risk) -> str:
        return selectors.risk_text(record)[0]

    def render_department(self, record: Risk) -> str:
        return record.department.name if record.department else _("Several / whole company")

    def value_department(self, record: Risk) -> str:
        return self.render_department(record)

    def render_source(self, record: Risk) -> Any:
        return _("Generated") if record.rule else _("Manual")

    def value_source(self, record: Risk) -> Any:
        return self.render_source(record)


def _filtered(request: HttpRequest) -> tuple[RiskFilter, QuerySet[Risk]]:
    user = signed_in_user(request)
    risks = selectors.register(user=user)
    departments = visible_departments(user).order_by("code").values_list("pk", "name")
    owner_rows = (
        selectors.visible_risks(user=user)
        .exclude(owner=None)
        .order_by("owner__username")
        .values_list("owner_id", "owner__display_name", "owner__username")
        .distinct()
    )
    owners = [(pk, shown or username) for pk, shown, username in owner_rows]
    form = RiskFilter(request.GET or None, departments=departments, owners=owners)
    status = ""
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        status = data["status"]
        if data["category"]:
            risks = risks.filter(category=data["category"])
        if data["department"]:
            risks = risks.filter(department_id=int(data["department"]))
        if data["owner"] == "none":
            risks = risks.filter(owner__isnull=True)
        elif data["owner"]:
            risks = risks.filter(owner_id=int(data["owner"]))
        if data["due"] == "yes":
            due = selectors.risks_due(today=timezone.localdate()).values("pk")
            risks = risks.filter(pk__in=due)
        if data["source"] == "generated":
            risks = risks.exclude(rule="")
        elif data["source"] == "manual":
            risks = risks.filter(rule="")
    if status == "all":
        pass
    elif status:
        risks = risks.filter(status=status)
    else:
        risks = risks.exclude(status=Risk.Status.CLOSED)
    return form, risks


@require_GET
@role_required(*DIRECTORY_ROLES)
def risk_list(request: HttpRequest) -> HttpResponse:
    form, risks = _filtered(request)
    export_format = request.GET.get("_export")
    if export_format in ("csv", "xlsx"):
        table = RiskTable(risks)
        RequestConfig(request, paginate=False).configure(table)
        stamp = timezone.localdate().isoformat()
        return SafeTableExport(export_format, table).response(f"risks-{stamp}.{export_format}")
    table = RiskTable(risks)
    RequestConfig(request, paginate={"per_page": PAGE_SIZE}).configure(table)
    query = request.GET.copy()
    for key in ("page", "_export", "sort"):
        query.pop(key, None)
    user = signed_in_user(request)
    return render(
        request,
        "renewals/risks/risk_list.html",
        {
            "filter": form,
            "table": table,
            "querystring": query.urlencode(),
            "can_add": has_role(user, *CHANGERS),
        },
    )


@require_GET
@role_required(*DIRECTORY_ROLES)
def risk_pdf(request: HttpRequest) -> HttpResponse:
    """The register as filtered on screen, as a PDF in the reader's language (at most
    PDF_LIMIT risks, highest score first)."""
    _form, risks = _filtered(request)
    rows = list(risks[:PDF_LIMIT])
    selectors.attach_subjects(rows)
    context = {
        "rows": [(risk, *selectors.risk_text(risk)) for risk in rows],
        "generated_at": timezone.localtime(),
        "truncated": len(rows) == PDF_LIMIT,
    }
    pdf = render_pdf("pdf/risk_register.html", context)
    response = HttpResponse(pdf, content_type="application/pdf")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="risk-register-{stamp}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@role_required(*DIRECTORY_ROLES)
def risk_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    risk = selectors.get_risk_for(user, pk)
    title, description = selectors.risk_text(risk)
    return render(
        request,
        "renewals/risks/risk_detail.html",
        {
            "risk": risk,
            "title": title,
            "description": description,
            "rule_label": RULE_LABELS.get(risk.rule, ""),
            "editions": selectors.edition_group(risk),
            "history": selectors.history_rows(risk),
            "can_change": policy.can_change(user, risk),
            "can_review": policy.can_review(user, risk),
            "review_form": ReviewForm(risk=risk),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(*CHANGERS)
def risk_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Add a manual risk, or change a risk (a generated one: owner, ratings, mitigation,
    status short of closed, next review)."""
    user = signed_in_user(request)
    risk = None
    if pk is not None:
        risk = selectors.get_risk_for(user, pk)
        if not policy.can_change(user, risk):
            raise PermissionDenied
    form = RiskForm(request.POST or None, user=user, risk=risk)
    if request.method == "POST" and form.is_valid():
        try:
            if risk is None:
                risk = services.risk_create(user=user, data=form.changes())
                messages.success(request, _("Risk added to the register."))
            else:
                services.risk_update(
                    user=user,
                    risk_id=risk.pk,
                    changes=form.changes(),
                    note=form.cleaned_data["note"],
                )
                messages.success(request, _("Risk saved."))
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
        else:
            return redirect("renewals:risk-detail", pk=risk.pk)
    title = _("New risk") if risk is None else _("Change the risk")
    context = {"form": form, "risk": risk, "page_title": title}
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "renewals/risks/risk_form.html", context, status=status)


@require_GET
@role_required(*DIRECTORY_ROLES)
def risk_review_list(request: HttpRequest) -> HttpResponse:
    """The quarterly review: the risks due for review that the user owns (IT admins and finance
    may switch to every due risk)."""
    user = signed_in_user(request)
    may_all = has_role(user, Role.IT_ADMIN, Role.FINANCE)
    everyone = may_all and request.GET.get("all") == "1"
    due = list(
        selectors.due_for_review(user=user, today=timezone.localdate(), everyone=everyone)[:200]
    )
    selectors.attach_subjects(due)
    rows = [
        {"risk": r, "title": selectors.risk_text(r)[0], "form": ReviewForm(risk=r)} for r in due
    ]
    return render(
        request,
        "renewals/risks/risk_review.html",
        {"rows": rows, "everyone": everyone, "may_all": may_all},
    )


@require_POST
@role_required(*DIRECTORY_ROLES)
def risk_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm or update one risk (POST only; with HTMX the row is swapped in place)."""
    user = signed_in_user(request)
    risk = selectors.get_risk_for(user, pk)
    if not policy.can_review(user, risk):
        raise PermissionDenied
    form = ReviewForm(request.POST, risk=risk)
    error, status, review = "", 200, None
    if not form.is_valid():
        error, status = _("Check the highlighted fields."), 400
    else:
        try:
            review = services.risk_review(
                user=user, risk_id=risk.pk, changes=form.changes(), note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            error, status = _errors(exc), 400
    if getattr(request, "htmx", False):
        risk.refresh_from_db()
        selectors.attach_subjects([risk])
        context = {
            "risk": risk,
            "title": selectors.risk_text(risk)[0],
            "form": form if error else None,
            "error": error,
            "review": review,
        }
        return render(request, "renewals/risks/risk_review_row.html", context, status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Review recorded."))
    return redirect("renewals:risk-detail", pk=risk.pk)
