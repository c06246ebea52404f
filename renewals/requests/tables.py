"""The request list, the approval inbox and the request filter (the API will reuse the filter)."""

from __future__ import annotations

from typing import Any

import django_filters
import django_tables2 as tables
from django.db.models import Q, QuerySet
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.columns import MoneyColumn
from core.filtersets import NOT_AVAILABLE, set_choices
from core.money import format_money
from core.rows import IdsFirst, empty_row, escape, url_maker
from core.status import badge_html
from org.scoping import visible_departments
from renewals.inventory.filters import matching_subscriptions
from renewals.requests.models.approvals import APPROVER_ROLES, ApprovalStep
from renewals.requests.models.requests import Purpose, RenewalRequest


class RequestFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=100)
    # Plain choices read once (a model choice field costs a COUNT and a cursor per page).
    department = django_filters.ChoiceFilter(
        label=_("Department"),
        choices=[],
        empty_label=_("All departments"),
        error_messages=NOT_AVAILABLE,
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=RenewalRequest.Status.choices, empty_label=_("Any status")
    )
    purpose = django_filters.ChoiceFilter(
        label=_("Purpose"), choices=Purpose.choices, empty_label=_("Any purpose")
    )

    class Meta:
        model = RenewalRequest
        fields = ["q", "department", "status", "purpose"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the user's departments can be chosen: any other value fails validation.
        set_choices(
            self, "department", visible_departments(user).order_by("code").values_list("pk", "name")
        )

    def search(
        self, queryset: QuerySet[RenewalRequest], name: str, value: str
    ) -> QuerySet[RenewalRequest]:
        return search_requests(queryset, value)


def search_requests(queryset: QuerySet[RenewalRequest], value: str) -> QuerySet[RenewalRequest]:
    """The request list's search box (and the global search's request group): the subscription's
    own search (reference, product, edition, vendor, tag), read as the set of matching
    subscriptions rather than tested request by request through joins; the order reference; and
    ``#id``."""
    query = Q(subscription__in=matching_subscriptions(value)) | Q(order_ref__icontains=value)
    if value.lstrip("#").isdigit() and len(value) < 10:
        query |= Q(pk=int(value.lstrip("#")))
    return queryset.filter(query)


class RequestTable(tables.Table):
    id = tables.Column(verbose_name="#", linkify=True)
    subscription = tables.Column(
        verbose_name=_("Subscription"),
        accessor="subscription__product",
        order_by=("subscription__vendor__name", "subscription__product"),
    )
    department = tables.Column(
        verbose_name=_("Department"), accessor="department__name", order_by="department__code"
    )
    purpose = tables.Column(verbose_name=_("Purpose"))
    amount_base = MoneyColumn(verbose_name=_("Amount (CNY)"))
    status = tables.Column(verbose_name=_("Status"))
    waiting_for = tables.Column(verbose_name=_("Waiting for"), empty_values=(), orderable=False)
    requested_by = tables.Column(verbose_name=_("Requested by"))
    proposed_term_start = tables.DateColumn(verbose_name=_("New term"), format="Y-m-d")
    created_at = tables.DateColumn(verbose_name=_("Opened"), format="Y-m-d")

    class Meta:
        model = RenewalRequest
        fields = [
            "id",
            "subscription",
            "department",
            "purpose",
            "amount_base",
            "status",
            "waiting_for",
            "requested_by",
            "proposed_term_start",
            "created_at",
        ]
        order_by = ("-created_at",)
        attrs = {"class": "table table-sm table-hover align-middle", "data-testid": "requests"}
        template_name = "rows_table.html"
        empty_text = _("No renewal requests yet.")

    def __init__(self, data: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(data, QuerySet):
            data = IdsFirst(data)
        super().__init__(data, *args, **kwargs)

    def rows_html(self) -> SafeString:
        """The page's rows written here, not through the template engine (which cost more than
        the rest of the page for 50 rows); every value is escaped as {{ value }} would."""
        records = [row.record for row in self.paginated_rows]
        if not records:
            return empty_row(len(self.columns), self.empty_text)
        url = url_maker("renewals:request-detail")
        purposes = {v: escape(label) for v, label in Purpose.choices}
        statuses = {
            v: badge_html("renewalrequest", v, label) for v, label in RenewalRequest.Status.choices
        }
        roles = {v: escape(label) for v, label in APPROVER_ROLES}
        dash, end = "—", '<td class="text-end">'
        rows = []
        for r in records:
            pending = getattr(r, "pending_steps", [])
            waiting = roles.get(pending[0].role, dash) if pending else dash
            amount = format_money(r.amount_base)
            sub = r.subscription
            rows.append(
                f'<tr><td><a href="{url(r.pk)}">{r.pk}</a></td>'
                f"<td>{escape(sub.display_name)}</td>"
                f"<td>{escape(r.department.name)}</td>"
                f"<td>{purposes.get(r.purpose, dash)}</td>{end}{amount}</td>"
                f"<td>{statuses.get(r.status, dash)}</td>"
                f"<td>{waiting}</td><td>{escape(r.requested_by)}</td>"
                f"<td>{r.proposed_term_start.isoformat()}</td>"
                f"<td>{timezone.localtime(r.created_at).date().isoformat()}</td></tr>"
            )
        return mark_safe("".join(rows))  # noqa: S308 - every value above is escaped


class InboxTable(tables.Table):
    # The bulk approval's checkbox (its form sits above the table: forms cannot nest).
    select = tables.Column(
        verbose_name=_("Select"), empty_values=(), orderable=False, exclude_from_export=True
    )
    request = tables.Column(
        verbose_name="#",
        accessor="request__pk",
        linkify=lambda record: record.request.get_absolute_url(),
        order_by="request__pk",
    )
    subscription = tables.Column(
        verbose_name=_("Subscription"), accessor="request__subscription__product", orderable=False
    )
    department = tables.Column(verbose_name=_("Department"), accessor="request__department__name")
    purpose = tables.Column(verbose_name=_("Purpose"), accessor="request__purpose")
    amount = MoneyColumn(verbose_name=_("Amount (CNY)"), accessor="request__amount_base")
    role = tables.Column(verbose_name=_("You decide as"))
    requested_by = tables.Column(verbose_name=_("Requested by"), accessor="request__requested_by")
    submitted = tables.DateTimeColumn(
        verbose_name=_("Waiting since"), accessor="pending_since", format="Y-m-d H:i"
    )
    decide = tables.Column(
        verbose_name=_("Decision"), accessor="pk", orderable=False, exclude_from_export=True
    )

    class Meta:
        model = ApprovalStep
        fields = ["request", "subscription", "department", "purpose", "amount", "role"]
        sequence = (
            "select", "request", "subscription", "department", "purpose", "amount", "role",
            "requested_by", "submitted", "decide",
        )  # fmt: skip
        attrs = {"class": "table table-sm table-hover align-middle", "data-testid": "inbox"}
        template_name = "rows_table.html"

    def __init__(self, data: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(data, QuerySet):
            data = IdsFirst(data)
        super().__init__(data, *args, **kwargs)

    def rows_html(self) -> SafeString:
        """The rows, each with its decision form (approve / return / reject with a comment, in
        place through HTMX), written here for the same reason as RequestTable.rows_html."""
        steps = [row.record for row in self.paginated_rows]
        if not steps:
            return empty_row(len(self.columns), self.empty_text)
        url = url_maker("renewals:request-detail")
        decide = url_maker("renewals:request-decide")
        purposes = {v: escape(label) for v, label in Purpose.choices}
        roles = {v: escape(label) for v, label in APPROVER_ROLES}
        token = escape(get_token(self.request)) if getattr(self, "request", None) else ""
        comment = escape(gettext("Comment"))
        select = gettext("Select request #%(pk)s")
        approve, back, reject = (
            escape(gettext(label)) for label in ("Approve", "Return for changes", "Reject")
        )
        # Each value cell names its column (data-label): on phones the rows are stacked cards
        # without the header row (static/css/app.css, .table-stack), the label shows instead.
        label = {
            name: escape(str(self.base_columns[name].verbose_name))
            for name in ("department", "purpose", "amount", "role", "requested_by", "submitted")
        }
        dash, end = "—", f'<td class="text-end" data-label="{label["amount"]}">'
        rows = []
        for step in steps:
            r = step.request
            sub = r.subscription
            amount = format_money(r.amount_base)
            submitted = (
                timezone.localtime(step.pending_since).strftime("%Y-%m-%d %H:%M")
                if step.pending_since
                else dash
            )
            action = decide(r.pk)
            rows.append(
                f'<tr><td><input class="form-check-input" type="checkbox" name="ids" '
                f'value="{step.pk}" form="bulk-approve" data-bulk-item '
                f'aria-label="{escape(select % {"pk": r.pk})}"></td>'
                f'<td><a href="{url(r.pk)}">{r.pk}</a></td>'
                f"<td>{escape(sub.display_name)}</td>"
                f'<td data-label="{label["department"]}">{escape(r.department.name)}</td>'
                f'<td data-label="{label["purpose"]}">{purposes.get(r.purpose, dash)}</td>'
                f'{end}{amount}</td><td data-label="{label["role"]}">{roles.get(step.role, dash)}</td>'
                f'<td data-label="{label["requested_by"]}">{escape(r.requested_by)}</td>'
                f'<td data-label="{label["submitted"]}">{submitted}</td>'
                f'<td><form method="post" action="{action}" hx-post="{action}" '
                f'hx-target="closest td" hx-swap="innerHTML" '
                f'class="d-flex gap-1 align-items-center" data-testid="inbox-decision">'
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
                f'<input type="hidden" name="step" value="{step.pk}">'
                f'<input type="hidden" name="from" value="inbox">'
                f'<input class="form-control form-control-sm" name="comment" maxlength="4000" '
                f'placeholder="{comment}" aria-label="{comment}">'
                f'<button class="btn btn-sm btn-success" name="decision" value="approve" '
                f'type="submit">{approve}</button>'
                f'<button class="btn btn-sm btn-outline-warning" name="decision" value="return" '
                f'type="submit">{back}</button>'
                f'<button class="btn btn-sm btn-outline-danger" name="decision" value="reject" '
                f'type="submit">{reject}</button></form></td></tr>'
            )
        return mark_safe("".join(rows))  # noqa: S308 - every value above is escaped
