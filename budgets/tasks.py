"""django-q2 entry points of the budgets app."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from budgets.models import Budget
from budgets.selectors import total_mismatches
from org.models import User
from org.roles import Role

logger = logging.getLogger(__name__)


def _finance() -> list[User]:
    return list(
        User.objects.filter(groups__name=Role.FINANCE, is_active=True).exclude(email="").distinct()
    )


def _mail_finance(template: str, context: dict[str, object]) -> int:
    """``budgets/email/<template>-subject.txt`` and ``-body.txt`` to every active finance user,
    each in their own language."""
    sent = 0
    for user in _finance():
        with translation.override(user.language or settings.LANGUAGE_CODE):
            ctx = {**context, "user": user}
            subject = render_to_string(f"budgets/email/{template}-subject.txt", ctx).strip()
            body = render_to_string(f"budgets/email/{template}-body.txt", ctx)
        sent += send_mail(subject, body, None, [user.email])
    return sent


def quarterly_review_reminder() -> int:
    """First day of each quarter: remind finance to review and re-forecast the budgets."""
    url = settings.SITE_URL + reverse("budgets:overview")
    return _mail_finance("quarterly-review", {"url": url, "today": timezone.localdate()})


def reconcile_ledger_totals() -> int:
    """Daily: compare the totals the database keeps per (budget, kind) with the sums of the
    ledger entries; log and e-mail finance every difference. Returns how many there are.

    The totals are only written by the ledger's trigger, so a difference means someone disabled
    the triggers or edited the database by hand: it is reported, not repaired, so that a person
    looks at it."""
    mismatches = total_mismatches()
    if not mismatches:
        logger.info("ledger totals reconcile with the entries")
        return 0
    budgets = Budget.objects.select_related("department").in_bulk({m.budget_id for m in mismatches})
    rows = []
    for m in mismatches:
        budget = budgets.get(m.budget_id)
        logger.error(
            "ledger totals do not reconcile: budget %s (%s) kind %s kept %s summed %s",
            m.budget_id,
            budget,
            m.kind,
            m.kept,
            m.summed,
        )
        rows.append({"budget": budget, "budget_id": m.budget_id, "mismatch": m})
    _mail_finance(
        "totals-mismatch",
        {
            "rows": rows,
            "url": settings.SITE_URL + reverse("budgets:overview"),
            "today": timezone.localdate(),
        },
    )
    return len(mismatches)
