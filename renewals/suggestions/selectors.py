"""Reads of the savings suggestions, scoped to what a user may see, and their totals for the
KPI dashboard."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from org.models import User
from org.roles import SEE_ALL_ROLES, roles_of
from org.scoping import visible_departments
from renewals.inventory.models import Subscription
from renewals.suggestions.models import Suggestion

S = Suggestion.Status
ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=16, decimal_places=2))


def visible_suggestions(*, user: Any) -> QuerySet[Suggestion]:
    """IT, finance and auditors see every suggestion; heads and software admins those on
    their departments' subscriptions; everyone sees their own."""
    suggestions = Suggestion.objects.all()
    if not roles_of(user) & SEE_ALL_ROLES:
        suggestions = suggestions.filter(
            Q(author=user) | Q(subscription__department__in=visible_departments(user))
        )
    return suggestions.select_related(
        "subscription", "subscription__vendor", "subscription__department", "author",
        "decided_by",
    )  # fmt: skip


def get_suggestion_for(user: Any, pk: int) -> Suggestion:
    """The suggestion if the user may see it; 404 otherwise."""
    return get_object_or_404(visible_suggestions(user=user), pk=pk)


def suggestable_subscriptions(user: User) -> QuerySet[Subscription]:
    """What the user may make a suggestion on: the subscriptions of the departments they see,
    and those they hold an active seat of (employees see no subscription list)."""
    # A proposed subscription (a new purchase under approval) is not bought: nothing to save.
    subscriptions = Subscription.objects.exclude(status=Subscription.Status.PROPOSED)
    if roles_of(user) & SEE_ALL_ROLES:
        return subscriptions
    held = Subscription.objects.filter(
        seats__person__user=user, seats__revoked_on__isnull=True
    ).values("pk")
    return subscriptions.filter(Q(department__in=visible_departments(user)) | Q(pk__in=held))


@dataclass(frozen=True)
class SuggestionSavings:
    """Yearly savings in the base currency: estimated of the suggestions waiting for a decision
    (``submitted``) and of the accepted ones not realised yet, and realised."""

    submitted_estimated: Decimal
    accepted_estimated: Decimal
    realised: Decimal
    submitted: int
    accepted: int
    realised_count: int

    @property
    def projected(self) -> Decimal:
        """The open pipeline: submitted and accepted, not yet realised."""
        return self.submitted_estimated + self.accepted_estimated


def suggestion_savings(*, user: Any, year: int | None = None) -> SuggestionSavings:
    """Totals over the suggestions the user may see; ``year`` limits the realised savings to
    those realised that year (the open ones are today's pipeline). One query."""
    since = dt.date(year, 1, 1) if year is not None else None
    until = dt.date(year, 12, 31) if year is not None else None
    return suggestion_totals(visible_suggestions(user=user), realised_from=since, realised_to=until)


def suggestion_totals(
    suggestions: QuerySet[Suggestion],
    *,
    realised_from: dt.date | None = None,
    realised_to: dt.date | None = None,
) -> SuggestionSavings:
    """Totals of any set of suggestions (the dashboard passes its departments' set); the
    realised savings count those realised between the two days when given. One query."""
    realised = Q(status=S.REALISED)
    if realised_from is not None:
        realised &= Q(realised_on__gte=realised_from)
    if realised_to is not None:
        realised &= Q(realised_on__lte=realised_to)
    totals = suggestions.order_by().aggregate(
        submitted_estimated=Coalesce(Sum("estimated_saving", filter=Q(status=S.SUBMITTED)), ZERO),
        accepted_estimated=Coalesce(Sum("estimated_saving", filter=Q(status=S.ACCEPTED)), ZERO),
        realised=Coalesce(Sum("realised_saving", filter=realised), ZERO),
        submitted=Count("pk", filter=Q(status=S.SUBMITTED)),
        accepted=Count("pk", filter=Q(status=S.ACCEPTED)),
        realised_count=Count("pk", filter=realised),
    )
    return SuggestionSavings(**totals)
