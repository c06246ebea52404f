"""The navbar's global search: subscriptions, vendors, people, contracts and renewal requests in
one box, each group read through the list page's own scoping selector and search, so that a group's
count is what its "see all" link (the filtered list page) shows.

One query per group, whatever the data: the group's first rows and, in the same statement, its
total (``COUNT(*) OVER ()``). Someone without a role (who may open none of the list pages) finds
their own tools (My software).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Model, QuerySet, Window
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from contracts.selectors import contract_list, contract_search
from org.roles import DIRECTORY_ROLES, has_role
from org.selectors import person_list
from renewals.inventory.filters import search_subscriptions
from renewals.inventory.models import Subscription
from renewals.inventory.selectors import vendor_list, visible_subscriptions
from renewals.pages.selectors import active_seats_of
from renewals.requests.selectors.requests import request_list
from renewals.requests.tables import search_requests

# The list pages' search fields accept at most this many characters; so does this box (a longer
# text is cut, and the page says so).
MAX_LENGTH = 100
SHOWN = 5  # rows per group
# The columns a hit shows (a group joins and counts every matching row before it takes five).
SUBSCRIPTION_HIT_FIELDS = ("ref", "product", "edition", "vendor__name", "department__name")
CONTRACT_HIT_FIELDS = (
    "number", "counterparty", "valid_from", "valid_to",
    "subscription__product", "subscription__vendor__name", "subscription__department__name",
)  # fmt: skip
# Control characters (NUL included: PostgreSQL refuses it in text) and Unicode's non-characters.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Term:
    """The cleaned search text; ``cut`` says a longer text was shortened to MAX_LENGTH."""

    text: str
    cut: bool = False


def clean_term(raw: str) -> Term:
    """What the user typed, made harmless: control characters dropped, spaces collapsed, NFKC
    (full-width Ｊｉｒａ is Jira), at most MAX_LENGTH characters."""
    text = " ".join(_UNSAFE.sub(" ", unicodedata.normalize("NFKC", raw[: MAX_LENGTH * 4])).split())
    if len(text) > MAX_LENGTH:
        return Term(text[:MAX_LENGTH].rstrip(), cut=True)
    return Term(text)


@dataclass(frozen=True)
class Hit:
    title: str
    detail: str
    url: str


@dataclass(frozen=True)
class Group:
    kind: str
    label: str | Promise
    total: int
    hits: list[Hit]
    see_all: str | None


@dataclass(frozen=True)
class Results:
    term: Term
    groups: list[Group] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(g.total for g in self.groups)


def _first(queryset: QuerySet[Any], ordering: tuple[str, ...]) -> tuple[list[Any], int]:
    """The first SHOWN rows and the number of all rows, in one statement."""
    rows = list(queryset.annotate(search_total=Window(Count("*"))).order_by(*ordering)[:SHOWN])
    return rows, (rows[0].search_total if rows else 0)


def _list_url(name: str, text: str) -> str:
    return f"{reverse(name)}?{urlencode({'q': text})}"


def _group(
    kind: str,
    label: str | Promise,
    queryset: QuerySet[Any],
    ordering: tuple[str, ...],
    hit: Callable[[Any], Hit],
    see_all: str | None,
) -> Group:
    rows, total = _first(queryset, ordering)
    return Group(kind, label, total, [hit(r) for r in rows], see_all)


def _subscription_hit(s: Model) -> Hit:
    sub: Any = s
    edition = f" {sub.edition}" if sub.edition else ""
    return Hit(
        f"{sub.vendor.name} · {sub.product}{edition}",
        f"{sub.ref} · {sub.department.name}",
        sub.get_absolute_url(),
    )


def global_search(*, user: Any, raw: str) -> Results:
    """Every group the user may open, each scoped like its list page (see the module's doc)."""
    term = clean_term(raw)
    text = term.text
    if not text:
        return Results(term)
    if not has_role(user, *DIRECTORY_ROLES):
        mine = active_seats_of(user).select_related("subscription__vendor")
        # Their own seats only: the tools' other data stays out of reach.
        seats = mine.filter(
            subscription__in=search_subscriptions(Subscription.objects.all(), text).values("pk")
        )
        return Results(
            term,
            [
                _group(
                    "my-software",
                    _("My software"),
                    seats,
                    ("subscription__vendor__name", "subscription__product"),
                    lambda seat: Hit(
                        f"{seat.subscription.vendor.name} · {seat.subscription.product}",
                        seat.subscription.edition,
                        reverse("renewals:my-software"),
                    ),
                    reverse("renewals:my-software"),
                )
            ],
        )
    # The request list's own search (clean_term has already done its field's validation).
    matched_requests = search_requests(request_list(user=user), text).prefetch_related(None)
    return Results(
        term,
        [
            _group(
                "subscriptions",
                _("Subscriptions"),
                search_subscriptions(visible_subscriptions(user=user), text)
                # What a hit shows, no more: every matching row is joined and counted.
                .select_related(None)
                .select_related("vendor", "department")
                .only(*SUBSCRIPTION_HIT_FIELDS),
                ("vendor__name", "product", "ref"),
                _subscription_hit,
                _list_url("renewals:subscription-list", text),
            ),
            _group(
                "vendors",
                _("Vendors"),
                vendor_list(user=user).filter(name__icontains=text),
                ("name",),
                lambda v: Hit(v.name, v.website, v.get_absolute_url()),
                _list_url("renewals:vendor-list", text),
            ),
            _group(
                "people",
                _("People"),
                person_list(user=user, query=text),
                ("name", "employee_no"),
                lambda p: Hit(
                    p.name,
                    f"{p.employee_no} · {p.department.name}"
                    + (f" · {p.get_status_display()}" if p.has_left else ""),
                    reverse("renewals:person-detail", args=[p.pk]),
                ),
                _list_url("org:person-list", text),
            ),
            _group(
                "contracts",
                _("Contracts"),
                contract_search(contract_list(user=user), text).only(*CONTRACT_HIT_FIELDS),
                ("-valid_to", "-pk"),
                lambda c: Hit(
                    f"{c.number} · {c.subscription.display_name}",
                    f"{c.counterparty} · {c.valid_from:%Y-%m-%d} – {c.valid_to:%Y-%m-%d}",
                    c.get_absolute_url(),
                ),
                _list_url("contracts:contract-list", text),
            ),
            _group(
                "requests",
                _("Renewal requests"),
                matched_requests,
                ("-created_at", "-pk"),
                lambda r: Hit(
                    f"#{r.pk} {r.subscription.vendor.name} · {r.subscription.product}",
                    f"{r.get_status_display()} · {r.department.name}",
                    reverse("renewals:request-detail", args=[r.pk]),
                ),
                _list_url("renewals:request-list", text),
            ),
        ],
    )
