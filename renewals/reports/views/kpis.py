"""The KPI dashboard's figures on the home page, and the rows behind each figure."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core import charts
from org.permissions import role_required
from org.roles import DIRECTORY_ROLES
from renewals.inventory.models import Subscription
from renewals.reports.selectors import kpis
from renewals.reports.services import kpi_store
from renewals.usage.selectors import month_start

FIGURES = ("renewals", "lapsed", "idle", "savings")


def dashboard_context(
    user: Any, today: dt.date | None = None, *, board: kpis.Dashboard | None = None
) -> dict[str, Any]:
    """The KPI figures (``board``, or computed now for ``user``) and their two charts."""
    board = board or kpis.dashboard(user=user, today=today)
    rates = [(f"{m.month:%Y-%m}", m.rate) for m in board.months]
    return {
        "kpi": board,
        "on_time_chart": charts.bar_chart(
            rates, title=_("On-time renewal rate by month"), unit="%", max_value=100
        ),
        "usage_chart": charts.line_chart(
            [f"{p.month:%Y-%m}" for p in board.usage],
            [(_("Utilisation"), [p.percent for p in board.usage])],
            title=_("Utilisation (active users ÷ seats)"),
            unit="%",
            y_max=100,
        ),
    }


def dashboard_html(request: HttpRequest) -> SafeString:
    """The home page's KPI section. The figures aggregate the whole inventory, so they are the
    scope's stored figures (``kpi_store.stored_dashboard``: served with their "as of" stamp, a stale
    one refreshed in the background); the section rendered from them is kept too, per scope,
    language and computation. KPI_CACHE_SECONDS = 0: computed on every view."""
    if not settings.KPI_CACHE_SECONDS:
        return render_to_string(
            "renewals/reports/_kpi_dashboard.html", dashboard_context(request.user)
        )
    depts = kpis.scope(request.user)
    board, state = kpi_store.stored_dashboard(depts, timezone.localdate())
    stamp = f"{board.computed_at.isoformat()}:{state == 'stale'}"
    key = f"kpi:html:2:{kpi_store.scope_digest(depts)}:{get_language()}"
    cached = cache.get(key)
    # The cache keeps the rendered (escaped) template's SafeString as it is.
    if isinstance(cached, tuple) and cached[0] == stamp and isinstance(cached[1], SafeString):
        return cached[1]
    context = dashboard_context(request.user, board=board)
    context["kpi_refreshing"] = state == "stale"
    html = render_to_string("renewals/reports/_kpi_dashboard.html", context)
    cache.set(key, (stamp, html), kpi_store.STORED_SECONDS)
    return html


def _month(value: str | None, today: dt.date) -> dt.date:
    if not value:
        return month_start(today)
    match = re.fullmatch(r"(\d{4})-(\d{2})", value)
    try:
        if match is None:
            raise ValueError(value)
        return dt.date(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise Http404(_("No such month.")) from None


@require_GET
@role_required(*DIRECTORY_ROLES)
def kpi_rows(request: HttpRequest, figure: str) -> HttpResponse:
    """The rows one dashboard figure counts, scoped like the figure."""
    if figure not in FIGURES:
        raise Http404
    today = timezone.localdate()
    depts = kpis.scope(request.user)
    context: dict[str, Any] = {"figure": figure, "today": today}
    ids: list[int] = []
    rows: list[Any]
    if figure == "renewals":
        month = _month(request.GET.get("month"), today)
        rows = kpis.renewal_rows(depts, today, month)
        context["month"] = month
        ids = [r[0] for r in rows]
    elif figure == "idle":
        rows = kpis.idle_seat_rows(depts, today)
        ids = [r[0] for r in rows]
    elif figure == "savings":
        rows = kpis.renewal_savings_rows(depts, today)
        ids = [r[0] for r in rows]
    else:
        rows = list(kpis.lapsed_subscriptions(request.user, today))
    names = {
        s.pk: s
        for s in Subscription.objects.filter(pk__in=set(ids)).select_related("vendor", "department")
    }
    context["rows"] = [(names.get(r[0]), *r[1:]) for r in rows] if ids else rows
    return render(request, "renewals/reports/kpi_rows.html", context)
