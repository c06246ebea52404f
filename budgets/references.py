"""What caused a ledger entry, for people: its reference ("app.Model:pk") as a name and, when the
viewer may open it, a link to its page.

budgets imports org only, so the apps that book entries register a resolver for their label
(renewals does for its requests, in its AppConfig.ready); a resolver reads all the keys it is
given in one query, so a ledger page costs one query per kind of source whatever its length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext


@dataclass(frozen=True)
class Source:
    """A ledger entry's source as shown: its name, and its page if the viewer may open it."""

    text: str
    url: str | None = None

    def __str__(self) -> str:
        return self.text


# (viewer, keys) -> {key: Source} for the keys that exist (the rest are named by the fallback).
Resolver = Callable[[Any, list[str]], dict[str, Source]]
# The source's name when the resolver did not find it (or the viewer may not see it), from its key.
Fallback = Callable[[str], str]

_RESOLVERS: dict[str, tuple[Resolver, Fallback]] = {}


def register(label: str, resolver: Resolver, fallback: Fallback) -> None:
    """Name the sources of references ``label:<key>`` (idempotent: ready() may run twice)."""
    _RESOLVERS[label] = (resolver, fallback)


def split(reference: str) -> tuple[str, str]:
    label, _colon, key = reference.rpartition(":")
    return label, key


def resolve(user: Any, references: Iterable[str]) -> dict[str, Source]:
    """The source of each non-empty reference, as ``user`` may see it."""
    wanted: dict[str, set[str]] = {}
    for reference in references:
        if reference:
            label, key = split(reference)
            wanted.setdefault(label, set()).add(key)
    found: dict[str, Source] = {}
    for label, keys in wanted.items():
        if label not in _RESOLVERS:
            # Not a registered source (e.g. written by hand or by a test): shown as it is.
            found.update({f"{label}:{key}": Source(f"{label}:{key}") for key in keys})
            continue
        resolver, fallback = _RESOLVERS[label]
        named = resolver(user, sorted(keys))
        for key in keys:
            found[f"{label}:{key}"] = named.get(key) or Source(fallback(key))
    return found


def _reforecast(user: Any, keys: list[str]) -> dict[str, Source]:
    return {}


# Finance's re-forecast form writes its adjustment once per submitted form (the key is the form's).
register("reforecast", _reforecast, lambda key: gettext("Re-forecast form"))
