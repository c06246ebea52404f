"""Contracts as the pages, downloads and (later) the API read them: scoped to the user."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404
from django.utils import timezone

from contracts import search
from contracts.models import Contract, ContractDocument
from org.scoping import visible_departments


def contract_list(*, user: Any) -> QuerySet[Contract]:
    """Contracts of the subscriptions of the departments the user may see (IT, finance and
    auditors: all; heads and software admins: their departments)."""
    return (
        Contract.objects.filter(subscription__department__in=visible_departments(user))
        .select_related("subscription__vendor", "subscription__department")
        .defer("search_vector")
    )


def contract_search(queryset: QuerySet[Contract], text: str) -> QuerySet[Contract]:
    """Contracts whose metadata or documents contain every term of ``text`` (Chinese too).

    The matching ids come from the GIN index in a subquery the planner may not flatten
    (OFFSET 0): otherwise, sorting by validity with a page limit, it would rather walk the
    validity index and test every contract's text, which for a rare word means all of them."""
    query = search.query(text)
    if query is None:
        return queryset
    matching = Contract.objects.filter(search_vector=query).values("pk")
    sql, params = matching.query.sql_with_params()
    return queryset.filter(pk__in=RawSQL(f"SELECT * FROM ({sql} OFFSET 0) AS matching", params))


def expiring_within(queryset: QuerySet[Contract], days: int) -> QuerySet[Contract]:
    today = timezone.localdate()
    return queryset.filter(valid_to__gte=today, valid_to__lte=today + dt.timedelta(days=days))


def get_contract_for(user: Any, pk: int) -> Contract:
    """The contract if the user may see it; 404 otherwise (never reveals that it exists)."""
    return get_object_or_404(contract_list(user=user), pk=pk)


def get_document_for(user: Any, pk: int) -> ContractDocument:
    return get_object_or_404(
        ContractDocument.objects.filter(
            contract__subscription__department__in=visible_departments(user)
        ).select_related("contract"),
        pk=pk,
    )
