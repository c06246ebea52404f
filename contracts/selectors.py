"""Contracts as the pages, downloads and (later) the API read them: scoped to the user."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from contracts import search
from contracts.models import Contract, ContractDocument
from org.roles import SEE_ALL_ROLES, roles_of
from org.scoping import visible_departments
from renewals.models import Subscription


def contract_list(*, user: Any) -> QuerySet[Contract]:
    """Contracts of the subscriptions of the departments the user may see (IT, finance and
    auditors: all; heads and software admins: their departments).

    Those who see everything get no filter at all, the others a list of subscription ids
    (hashed once by PostgreSQL): a join per contract cost more than the search itself when a
    common word matched thousands of contracts."""
    contracts = Contract.objects.all()
    if not roles_of(user) & SEE_ALL_ROLES:
        visible = Subscription.objects.filter(department__in=visible_departments(user))
        contracts = contracts.filter(subscription__in=visible.values("pk"))
    return contracts.select_related("subscription__vendor", "subscription__department").defer(
        "search_vector"
    )


def contract_rows(ids: list[int]) -> dict[int, Contract]:
    """The rows of one page by id, with what the archive shows; ``ids`` were already scoped and
    matched (repeating the search and the scope here would run them a second time)."""
    return (
        Contract.objects.select_related("subscription__vendor", "subscription__department")
        .defer("search_vector")
        .in_bulk(ids)
    )


def contract_search(queryset: QuerySet[Contract], text: str) -> QuerySet[Contract]:
    """Contracts whose metadata or documents contain every term of ``text`` (Chinese too).

    A plain condition, so PostgreSQL picks per query: for a common word it walks the sort
    order and stops after a page, for a rare one it reads the GIN index and sorts the few
    matches (migration 0003 tells it that testing one contract's vector is expensive)."""
    query = search.query(text)
    if query is None:
        return queryset
    return queryset.filter(search_vector=query)


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
