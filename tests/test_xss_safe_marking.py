"""Stored XSS: no template or Python module marks user data safe outside an explicit allowlist
(the pages' checks: tests/test_xss.py)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.xss_helpers import ROOT

# --- no new way to mark user data safe ----------------------------------------------------------

ALLOWED: dict[tuple[str, str], tuple[int, str]] = {
    ("budgets/rendering.py", "mark_safe("): (
        1,
        "ledger rows written in Python; every value escaped",
    ),  # fmt: skip
    ("renewals/requests/tables.py", "mark_safe("): (
        2,
        "request rows written in Python; every value escaped",
    ),  # fmt: skip
    ("renewals/inventory/tables.py", "mark_safe("): (
        1,
        "subscription rows written in Python; every value escaped",
    ),  # fmt: skip
    ("contracts/tables.py", "mark_safe("): (
        1,
        "contract rows written in Python; every value escaped",
    ),  # fmt: skip
    ("core/charts.py", "mark_safe("): (
        1,
        "SVG charts; every text goes through the chart's escaper",
    ),  # fmt: skip
    ("core/rows.py", "format_html("): (
        1,
        "empty-row writer: a literal template, values as arguments",
    ),  # fmt: skip
    ("renewals/inventory/tables.py", "format_html("): (
        1,
        "vendor website link, http(s) only: a literal template, the value as argument",
    ),  # fmt: skip
    ("core/templatetags/money.py", "format_html("): (
        1,
        "short amount with the exact one as title: a literal template, values as arguments",
    ),  # fmt: skip
    ("core/columns.py", "mark_safe("): (
        1,
        "status badge column: badge_html escapes the label",
    ),  # fmt: skip
    ("core/templatetags/status.py", "format_html("): (
        1,
        "status badge: a literal template, values as arguments",
    ),  # fmt: skip
    ("renewals/risks/views.py", "format_html("): (
        1,
        "risk title link: a literal template, values as arguments",
    ),  # fmt: skip
    **{
        (f"templates/{name}", "autoescape off"): (
            1,
            "plain-text e-mail: nothing renders it as HTML",
        )  # fmt: skip
        for name in [
            "registration/password_reset_email.txt",
            "registration/password_reset_subject.txt",
            "renewals/email/suggestion-decided-body.txt",
            "renewals/email/risk-review-body.txt",
            "renewals/email/alert-body.txt",
            "renewals/email/renewal-done-body.txt",
            "renewals/email/request-event-body.txt",
            "renewals/email/cleanup-opened-body.txt",
            "renewals/email/briefing-body.txt",
            "renewals/email/seat-request-body.txt",
            "renewals/email/seat-request-subject.txt",
            "renewals/email/leaver-body.txt",
            "renewals/email/leaver-subject.txt",
            "integrations/email/idle-notice-body.txt",
            "integrations/email/idle-notice-subject.txt",
            "integrations/email/idle-revoked-body.txt",
            "integrations/email/idle-revoked-subject.txt",
        ]
    },
}
PATTERNS = {
    "|safe": re.compile(r"\|\s*safe(seq)?\b"),
    "mark_safe(": re.compile(r"\bmark_safe\("),
    "autoescape off": re.compile(r"{%\s*autoescape\s+off\s*%}"),
    "format_html(": re.compile(r"\bformat_html\("),
    "SafeString(": re.compile(r"\bSafe(String|Text)\("),
}
# format_html's template must be a literal with the values as arguments: an f-string or a
# .format()/% inside it escapes nothing.
FORMAT_HTML_MISUSE = re.compile(r"format_html\(\s*(f[\"']|[^,()]*\.format\(|[\"'][^\"']*[\"']\s*%)")


def _sources() -> list[Path]:
    files = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("templates/**/*.txt")]
    for app in ("core", "org", "budgets", "renewals", "contracts", "integrations", "config"):
        files += [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]
    return sorted(files)


def _uses() -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":  # imports and type hints are not uses
            text = "\n".join(
                line for line in text.splitlines()
                if not line.lstrip().startswith(("from ", "import ", "#"))
            )  # fmt: skip
        for kind, pattern in PATTERNS.items():
            if found := len(pattern.findall(text)):
                counts[(str(path.relative_to(ROOT)), kind)] = found
    return counts


def test_only_allowlisted_code_marks_text_safe() -> None:
    uses = _uses()
    unexpected = {key: n for key, n in uses.items() if key not in ALLOWED or n > ALLOWED[key][0]}
    assert not unexpected, f"new ways to bypass escaping (allowlist them with a reason): {unexpected}"  # fmt: skip
    stale = [key for key in ALLOWED if key not in uses]
    assert not stale, f"allowlist entries with no use left: {stale}"
    for path in _sources():
        if path.suffix == ".py":
            assert not FORMAT_HTML_MISUSE.search(path.read_text(encoding="utf-8")), path
    # Only plain-text templates turn escaping off.
    assert all(path.endswith(".txt") for path, kind in uses if kind == "autoescape off")


def test_the_static_check_catches_a_new_use(tmp_path: Path) -> None:
    assert PATTERNS["|safe"].search("{{ subscription.notes|safe }}")
    assert PATTERNS["mark_safe("].search("return mark_safe(user_text)")
    assert PATTERNS["autoescape off"].search("{% autoescape off %}{{ x }}{% endautoescape %}")
    assert FORMAT_HTML_MISUSE.search('format_html(f"<b>{name}</b>")')
    assert FORMAT_HTML_MISUSE.search('format_html("<b>{}</b>".format(name))')
    assert not FORMAT_HTML_MISUSE.search('format_html("<b>{}</b>", name)')
