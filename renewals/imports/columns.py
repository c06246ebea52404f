"""Column types of import files: how a header is recognised, how a cell is checked in SQL and
how the checked text becomes a typed value in SQL.

Every check works on the trimmed cell text in the staging table; ``{c}`` in the SQL snippets is
replaced by that expression. Column names come from our specs only, never from the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from renewals.inventory.rules import MESSAGES as RULES

# Error codes -> message shown to the user, in their language. Parameters come from the column.
ERROR_MESSAGES = {
    "required": _("A value is required."),
    "formula": _("Formulas are not accepted; enter the value itself."),
    "too_long": _("Longer than %(max_length)s characters."),
    "not_a_number": _("Not a whole number."),
    "not_a_decimal": _("Not a number (use digits and a decimal point, e.g. 1234.50)."),
    "negative": _("Cannot be negative."),
    "too_large": _("Too large (at most %(max_value)s)."),
    "too_many_decimals": _("At most two decimal places."),
    "not_a_date": _(
        "Not a date; use YYYY-MM-DD (also accepted: YYYY/MM/DD, YYYY.MM.DD, YYYY年M月D日)."
    ),
    "not_a_month": _("Not a month; use YYYY-MM (also accepted: YYYY/MM, YYYY年M月 or a date)."),
    "not_a_boolean": _("Use yes/no (also accepted: true/false, 1/0, 是/否)."),
    "not_a_currency": _("Use a three-letter currency code such as CNY, USD or EUR."),
    "not_an_email": _("Not an e-mail address."),
    "already_holds_seat": _("This person already holds an active seat of this subscription."),
    "unknown_choice": _("Not one of: %(choices)s."),
    "duplicate_row": _("The same record appears more than once in this file."),
    "unknown_department": _("No department with this code or name."),
    "ambiguous_department": _(
        "More than one department answers to this (one by its code, another by its name); "
        "use the department's code."
    ),
    "department_not_allowed": _("You may not import data for this department."),
    "unknown_user": _("No user with this username."),
    "owner_outside": RULES["owner_outside"],
    "unknown_currency": _("No exchange rate for this currency; add one first."),
    "end_before_start": RULES["end_before_start"],
    "seats_too_few": RULES["seats_too_few"],
    "notice_too_long": RULES["notice_shorter_than_term"],
    "duplicate_product": _("This department already has this product under another reference."),
    "left_needs_date": _("A person who left needs a leaving date."),
    "person_not_allowed": _("This person belongs to a department you may not change."),
    "unknown_subscription": _("No subscription with this reference."),
    "unknown_person": _("No person with this employee number."),
    "unknown_module": _("This subscription has no module of this name."),
    "bad_module_list": _(
        "List modules as name or name=price, separated by semicolons (e.g. Gantt;Automation=120.00)."
    ),
    "revoked_before_assigned": _("A seat cannot be revoked before it was assigned."),
    "unknown_seat": _("No active seat of this subscription for this account."),
    "seat_limit": _(
        "More seats than purchased: the subscription has only %(value)s free seats for the "
        "seats this file adds. Revoke seats or ask for more first."
    ),
}

# Always-valid ISO dates and months (days up to 28, so no month can overflow); a fast path that
# avoids calling the parsing functions for the usual case.
ISO_DATE = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$"
ISO_MONTH = "^[0-9]{4}-(0[1-9]|1[0-2])$"

TRUE_WORDS = ("yes", "y", "true", "t", "1", "是", "对")
FALSE_WORDS = ("no", "n", "false", "f", "0", "否", "不")


def _sql_list(values: tuple[str, ...] | list[str]) -> str:
    # Only ever called with our own constant words, never with file content.
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


@dataclass(frozen=True)
class Column:
    """One column an import file may have."""

    name: str
    kind: str = "text"  # text, email, currency, int, decimal, date, month, bool, choice
    required: bool = True
    aliases: tuple[str, ...] = ()
    max_length: int = 200
    max_value: int = 1_000_000_000
    # For kind "choice": accepted words (lower case) -> stored value.
    choices: dict[str, str] = field(default_factory=dict)

    @property
    def stage(self) -> str:
        """The staging-table column holding this column's raw text."""
        return f"c_{self.name}"

    @property
    def cell(self) -> str:
        return f"nullif(btrim(s.{self.stage}), '')"

    def message_params(self) -> dict[str, object]:
        return {
            "max_length": self.max_length,
            "max_value": self.max_value,
            "choices": ", ".join(sorted(set(self.choices.values()))),
        }

    def fast_accept(self, c: str) -> str | None:
        """A cheap condition true for the usual valid cell, tried before the detailed checks."""
        if self.kind == "int" and self.max_value >= 999_999_999:
            # Digits only, at most nine (^[0-9]{1,9}$ on a non-empty cell), without the regular
            # expression engine: half the time on a million cells.
            return f"(ltrim({c}, '0123456789') = '' AND length({c}) <= 9)"
        if self.kind == "month":
            return f"{c} ~ '{ISO_MONTH}'"
        if self.kind == "date":
            return f"{c} ~ '{ISO_DATE}'"
        return None

    def checks(self, cell: str | None = None) -> list[tuple[str, str]]:
        """(error code, SQL condition that is true for a bad non-empty cell), first match wins.

        ``cell`` is the SQL of the trimmed cell (default: trimmed from the staging table).
        """
        c = cell or self.cell
        checks: list[tuple[str, str]] = [("formula", f"left({c}, 1) = '='")]
        if self.kind in ("text", "email"):
            checks.append(("too_long", f"char_length({c}) > {self.max_length}"))
        if self.kind == "email":
            checks.append(
                ("not_an_email", f"{c} !~ '^[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:]]+$'")
            )
        elif self.kind == "currency":
            checks.append(("not_a_currency", f"{c} !~ '^[A-Za-z]{{3}}$'"))
        elif self.kind == "int":
            checks += [
                ("negative", f"{c} ~ '^-\\s*[0-9]+$'"),
                ("not_a_number", f"{c} !~ '^\\+?[0-9]+$'"),
                (
                    "too_large",
                    f"length(ltrim({c}, '+0')) > 10 OR ltrim({c}, '+')::numeric > {self.max_value}",
                ),
            ]
        elif self.kind == "decimal":
            checks += [
                ("negative", f"{c} ~ '^-\\s*[0-9]+(\\.[0-9]+)?$'"),
                ("not_a_decimal", f"{c} !~ '^\\+?[0-9]+(\\.[0-9]+)?$'"),
                ("too_large", f"length(ltrim(split_part({c}, '.', 1), '+0')) > 10"),
                ("too_many_decimals", f"length(split_part({c}, '.', 2)) > 2"),
            ]
        elif self.kind == "date":
            checks.append(
                ("not_a_date", f"{c} !~ '{ISO_DATE}' AND renewals_parse_date({c}) IS NULL")
            )
        elif self.kind == "month":
            checks.append(
                ("not_a_month", f"{c} !~ '{ISO_MONTH}' AND renewals_parse_month({c}) IS NULL")
            )
        elif self.kind == "bool":
            words = _sql_list(TRUE_WORDS + FALSE_WORDS)
            checks.append(("not_a_boolean", f"lower({c}) NOT IN ({words})"))
        elif self.kind == "choice":
            checks.append(
                ("unknown_choice", f"lower({c}) NOT IN ({_sql_list(list(self.choices))})")
            )
        return checks

    def value(self) -> str:
        """SQL turning a checked cell into its typed value (NULL when empty)."""
        c = self.cell
        if self.kind == "currency":
            return f"upper({c})"
        if self.kind == "int":
            return f"({c})::bigint"
        if self.kind == "decimal":
            return f"({c})::numeric"
        # The common ISO forms are cast directly; the SQL functions handle every other format.
        if self.kind == "date":
            return (
                f"(CASE WHEN {c} ~ '{ISO_DATE}' THEN ({c})::date ELSE renewals_parse_date({c}) END)"
            )
        if self.kind == "month":
            return f"(CASE WHEN {c} ~ '{ISO_MONTH}' THEN ({c} || '-01')::date ELSE renewals_parse_month({c}) END)"
        if self.kind == "bool":
            return f"(lower({c}) IN ({_sql_list(TRUE_WORDS)}))"
        if self.kind == "choice":
            cases = " ".join(
                f"WHEN {_sql_list([word])} THEN {_sql_list([stored])}"
                for word, stored in self.choices.items()
            )
            return f"(CASE lower({c}) {cases} END)"
        return c


def normalise_header(text: str) -> str:
    """' Employee No. ' -> 'employee_no'; Chinese headers pass through unchanged."""
    cleaned = text.replace("\ufeff", "").strip().lower()
    for ch in " -./":
        cleaned = cleaned.replace(ch, "_")
    while "__" in cleaned:
        cleaned = cleaned.replace("__", "_")
    return cleaned.strip("_")
