"""Contracts as the pages, downloads and (later) the API read them: scoped to the user."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import QuerySet, Subquery
from django.db.models.sql import Query
from django.db.models.sql.where import WhereNode
from django.shortcuts import get_object_or_404
from django.utils import timezone

from contracts import search
from contracts.models import Contract, ContractDocument
from org.roles import SEE_ALL_ROLES, roles_of
from org.scoping import visible_departments
from renewals.inventory.models import Subscription


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


# What a row of the archive shows (tables.ContractTable.rows_html): reading only these columns
# halves the cost of turning 50 rows with their subscription, vendor and department into objects.
ROW_FIELDS = [
    "number", "counterparty", "valid_from", "valid_to", "total_value", "currency", "auto_renew",
    "notice_period_days", "price_cap_percent", "status", "subscription__product",
    "subscription__vendor__name", "subscription__department__name",
]  # fmt: skip


def contract_rows(ids: list[int]) -> dict[int, Contract]:
    """The rows of one page by id, with what the archive shows; ``ids`` were already scoped and
    matched (repeating the search and the scope here would run them a second time)."""
    return (
        Contract.objects.select_related("subscription__vendor", "subscription__department")
        .only(*ROW_FIELDS)
        .in_bulk(ids)
    )


def contract_search(queryset: QuerySet[Contract], text: str) -> QuerySet[Contract]:
    """Contracts whose metadata or documents contain every term of ``text`` (Chinese too), read
    from the GIN index (for a page of many of them sorted by end date see walk_page_ids)."""
    raw = search.raw_query(text)
    if raw is None:
        return queryset
    return ArchiveSearch(unsearched=queryset, raw=raw).rows


class _UnseenQuery(SearchQuery):
    """The query as a one-row subquery: PostgreSQL then plans with its default estimate for a
    text search (0.5% of the rows) instead of its own, and always reads the matches from the
    GIN index. Its own estimate is what goes wrong: a Chinese term is an AND of bigrams, taken
    as independent (自动续约一年: ~300 of 20,000 contracts, really 8,036), and a word it thinks
    is in nearly every contract makes it test every contract's vector one by one (read from
    TOAST, ~5-10 us each; a department head's page then read 20,000 of them, 150 ms), where the
    index answers without reading any vector."""

    def as_sql(  # type: ignore[override]  # the stubs of SearchQuery and Func disagree
        self, compiler: Any, connection: Any, function: str | None = None,
        template: str | None = None,
    ) -> tuple[str, tuple[str | int, ...]]:  # fmt: skip
        sql, params = super().as_sql(compiler, connection, function, template)
        return f"(SELECT {sql})", params


@dataclass(frozen=True)
class ArchiveSearch:
    """A search of the archive: the contracts it searches (scoped and filtered) and the query
    (contracts.search.raw_query)."""

    unsearched: QuerySet[Contract]
    raw: str

    @property
    def query(self) -> SearchQuery:
        return SearchQuery(self.raw, search_type="raw", config="simple")

    @property
    def rows(self) -> QuerySet[Contract]:
        """The matches, read from the GIN index."""
        unseen = _UnseenQuery(self.raw, search_type="raw", config="simple")
        return self.unsearched.filter(search_vector=unseen)


# A page of a common search is looked for among this many times the rows the page needs, in the
# sort order: worth it when at least one in five of them match (see walk_page_ids).
WALK_WINDOW = 5


def walk_page_ids(
    search: ArchiveSearch, *, ordering: list[str], start: int, stop: int, matches: int, cap: int
) -> list[int] | None:
    """Rows ``start:stop`` of a search with many matches, found by walking the end dates; None
    when that does not apply or finds too few (then: ``search.rows``, from the GIN index).

    For a common term the GIN index hands over thousands of matches to sort (a phrase in 40% of
    20,000 contracts: 8,036, ~4-7 ms), while walking the valid_to index newest first and testing
    each contract's vector (~5-10 us: it comes from TOAST) finds a page's 50 after ~125. The
    walk is bounded: it only looks at the first ``WALK_WINDOW`` x ``stop`` contracts of the
    archive as filtered (the window is every contract up to the end date of the last of them,
    so what it finds is a prefix of the whole result); too few matches there (a term in fewer
    than 1 in 5 contracts, or found only in old ones) and the caller reads the index instead.

    Only for the end-date orders, and only when every other condition is on the contract's own
    columns: with a department scope or a filter through the subscription PostgreSQL tests the
    vector before the join that drops the other departments' contracts (~1,000 vector reads for
    a head's page).

    ``matches``: the count of matches, exact up to ``cap``. More: the walk is tried. Fewer: it
    is tried only when the archive is filtered (by dates, auto-renewal) to at most
    ``WALK_WINDOW`` times as many contracts (one more count, of those); the whole archive with
    at most ``cap`` matches is searched faster through the index."""
    first = ordering[0]
    if first.lstrip("-") != "valid_to" or any("__" in key for key in ordering):
        return None
    if not _own_columns_only(search.unsearched):
        return None
    if matches <= cap:
        if matches < stop or not search.unsearched.query.where:
            return None
        limit = WALK_WINDOW * matches
        if search.unsearched.order_by().values("pk")[: limit + 1].count() > limit:
            return None
    # The window: the first rows of the archive as filtered, in the page's order, without the
    # search (no vector read); then each one's vector tested, in that order, until the page is
    # full. A subquery with a LIMIT, so PostgreSQL cannot answer the test from the GIN index.
    columns = ["pk" if key.lstrip("-") in ("pk", "id") else key.lstrip("-") for key in ordering]
    window = search.unsearched.order_by(*ordering).values(
        *dict.fromkeys(["pk", *columns, "search_vector"])
    )[: WALK_WINDOW * stop]
    window_sql, window_params = window.query.sql_with_params()
    order = ", ".join(
        f'w."{column}" {"DESC" if key.startswith("-") else "ASC"}'
        for key, column in zip(ordering, columns, strict=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT w."pk" FROM ({window_sql}) w'
            f" WHERE w.search_vector @@ to_tsquery('simple'::regconfig, %s)"
            f" ORDER BY {order} LIMIT %s OFFSET %s",
            [*window_params, search.raw, stop - start, start],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) == stop - start else None


def _own_columns_only(queryset: QuerySet[Contract]) -> bool:
    """Whether every condition of ``queryset`` is on the contract's own columns: no join in use
    and no subquery (a department scope is one)."""
    query = queryset.query
    if any(count for alias, count in query.alias_refcount.items() if alias != query.base_table):
        return False
    nodes: list[Any] = [query.where]
    while nodes:
        node = nodes.pop()
        if isinstance(node, WhereNode):
            nodes.extend(node.children)
        elif isinstance(getattr(node, "rhs", None), Query | Subquery):
            return False
    return True


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
