"""SCIM filters (RFC 7644 section 3.4.2.2) as database queries.

scim2-models parses the filter (its grammar, not ours: a value is always a quoted JSON string,
so nothing in it reaches SQL but as a parameter) and checks it against the schema. Here each
comparison becomes a ``Q`` on the links of the source, for a short list of attributes only:

- Users: ``id``, ``userName``, ``externalId``, ``displayName``, ``active``, ``emails``
  (``emails.value``, and ``type``/``primary`` inside ``emails[...]``), ``meta.lastModified``;
- Groups: ``id``, ``externalId``, ``displayName``, ``members`` (``members.value``),
  ``meta.lastModified``.

Any other attribute is refused (400 invalidFilter). Where the database answers exactly
(``exact``), it pages; where it can only narrow down (an attribute partly kept in the stored
SCIM document, a ``not``, ``ne``, ``pr`` or an ordering of strings), the candidates are checked
one by one with scim2-models' own evaluator, and more than ``MAX_CANDIDATES`` of them is a 400
tooMany.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from scim2_models import InvalidFilterException
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    FilterVisitor,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)

from integrations.models import DirectoryLink
from org.models import Person

MAX_CANDIDATES = 5000

_LOOKUPS = {
    CompareOperator.eq: "exact",
    CompareOperator.co: "contains",
    CompareOperator.sw: "startswith",
    CompareOperator.ew: "endswith",
    CompareOperator.gt: "gt",
    CompareOperator.ge: "gte",
    CompareOperator.lt: "lt",
    CompareOperator.le: "lte",
}
_ORDERING = {CompareOperator.gt, CompareOperator.ge, CompareOperator.lt, CompareOperator.le}
_TEXT = {CompareOperator.eq, CompareOperator.co, CompareOperator.sw, CompareOperator.ew}


@dataclass(frozen=True)
class Rule:
    """How one attribute is searched. ``column``: the exact lookup (strings: ``case_exact``
    or not; ``when``: a datetime compared with any operator). ``narrow``: for an attribute the
    database only partly holds, a wider ``Q`` for ``eq`` (None: no narrowing). ``present``:
    the exact ``Q`` of ``pr`` (None: checked one by one)."""

    column: str | None = None
    case_exact: bool = False
    when: bool = False
    narrow: Callable[[Any], Q] | None = None
    present: Q | None = None


def _text_eq(column: str) -> Callable[[Any], Q]:
    return lambda value: Q(**{f"{column}__iexact": str(value)})


def _in_document(value: Any) -> Q:
    """The stored SCIM document (JSON text) holds the value as written, unless escaped."""
    text = str(value)
    if any(ch in text for ch in '"\\') or any(ord(ch) < 0x20 for ch in text):
        return Q()
    return Q(attributes__scim__icontains=text)


def _active(value: Any) -> Q:
    if value is False:  # active is false exactly when the person has left
        return Q(person__status=Person.Status.LEFT)
    return Q(person__status=Person.Status.ACTIVE)


def _member(source_id: int) -> Callable[[str, Any], Q]:
    def lookup(suffix: str, value: Any) -> Q:
        people = DirectoryLink.objects.filter(
            source_id=source_id, kind=DirectoryLink.Kind.PERSON, present=True,
            **{f"external_id__{suffix}": value},
        ).values("person__department_id")  # fmt: skip
        return Q(department_id__in=people)

    return lookup


def user_rules() -> dict[str, Rule]:
    email = Rule(narrow=lambda v: _text_eq("person__email")(v) | _in_document(v))
    return {
        "id": Rule(column="external_id", case_exact=True, present=Q()),
        "username": Rule(column="scim_user_name", present=Q()),
        "externalid": Rule(
            column="scim_external_id",
            case_exact=True,
            present=Q(attributes__has_key="externalId"),
        ),
        "displayname": Rule(narrow=_text_eq("person__name")),
        "active": Rule(narrow=_active),
        "emails": email,
        "emails.value": email,
        "emails.type": Rule(),
        "emails.primary": Rule(),
        "meta.lastmodified": Rule(column="last_modified", when=True, present=Q()),
    }


def group_rules() -> dict[str, Rule]:
    return {
        "id": Rule(column="external_id", case_exact=True, present=Q()),
        "externalid": Rule(
            column="scim_external_id",
            case_exact=True,
            present=Q(attributes__has_key="externalId"),
        ),
        "displayname": Rule(column="department__name", present=Q()),
        "members": Rule(column="members", case_exact=True),
        "members.value": Rule(column="members", case_exact=True),
        "meta.lastmodified": Rule(column="changed_at", when=True, present=Q()),
    }


class _Translate(FilterVisitor[tuple[Q, bool]]):
    """A filter node -> (a Q the matching links satisfy, whether it is exactly them)."""

    def __init__(self, rules: dict[str, Rule], schema: str, source_id: int, prefix: str = ""):
        self.rules, self.schema, self.source_id, self.prefix = rules, schema, source_id, prefix

    def _rule(self, path: AttrPath) -> tuple[str, Rule]:
        if path.uri is not None and path.uri.lower() != self.schema.lower():
            raise _unsupported(path)
        name = ".".join(p for p in (self.prefix, path.attr, path.sub_attr) if p).lower()
        rule = self.rules.get(name)
        if rule is None:
            raise _unsupported(path)
        return name, rule

    def visit_comparison(self, node: Comparison) -> tuple[Q, bool]:
        name, rule = self._rule(node.attr_path)
        if rule.column is None or node.op == CompareOperator.ne:
            narrow = rule.narrow if node.op == CompareOperator.eq else None
            return (narrow(node.value) if narrow else Q()), False
        if rule.when:
            return self._when(rule.column, node)
        if node.op in _ORDERING or node.value is None or not isinstance(node.value, str):
            return Q(), False
        suffix = _LOOKUPS[node.op]
        if not rule.case_exact:
            suffix = f"i{suffix}"
        if rule.column == "members":
            return _member(self.source_id)(suffix, node.value), True
        return Q(**{f"{rule.column}__{suffix}": node.value}), True

    def _when(self, column: str, node: Comparison) -> tuple[Q, bool]:
        value = node.value if not isinstance(node.value, str) else parse_datetime(node.value)
        if value is None or node.op not in _LOOKUPS or node.op in _TEXT - {CompareOperator.eq}:
            raise InvalidFilterException(
                filter=str(node), detail=_("%(attribute)s is compared with a date and time.")
                % {"attribute": str(node.attr_path)},
            )  # fmt: skip
        return Q(**{f"{column}__{_LOOKUPS[node.op]}": value}), True

    def visit_present(self, node: Present) -> tuple[Q, bool]:
        _name, rule = self._rule(node.attr_path)
        return (rule.present, True) if rule.present is not None else (Q(), False)

    def visit_not(self, node: Not) -> tuple[Q, bool]:
        self.visit(node.expr)  # refuses what is not supported inside, too
        return Q(), False

    def visit_logical_expr(self, node: LogicalExpr) -> tuple[Q, bool]:
        parts = [self.visit(term) for term in node.terms]
        query = Q()
        for part, _exact in parts:
            query = (query & part) if node.op == LogicalOperator.and_ else (query | part)
        if node.op == LogicalOperator.or_ and any(not part for part, _e in parts):
            query = Q()  # one term matching everything: so does the whole
        return query, all(exact for _q, exact in parts)

    def visit_value_path(self, node: ValuePath) -> tuple[Q, bool]:
        name, _rule = self._rule(node.attr_path)
        inner = _Translate(self.rules, self.schema, self.source_id, prefix=name)
        query, exact = inner.visit(node.val_filter)
        return query, exact and name == "members"


def _unsupported(path: AttrPath) -> InvalidFilterException:
    return InvalidFilterException(
        filter=str(path),
        detail=_("Filtering by %(attribute)s is not supported.") % {"attribute": str(path)},
    )


def translate(
    node: FilterNode, *, rules: dict[str, Rule], schema: str, source_id: int
) -> tuple[Q, bool]:
    """The ``Q`` of a parsed filter and whether it is exact (else: a superset to check one by
    one). Raises InvalidFilterException for an attribute not searched."""
    return _Translate(rules, schema, source_id).visit(node)
