"""Permission-matrix rows of the account clean-up campaign (#8)."""

from __future__ import annotations

from django.utils import timezone

from renewals.cleanup.models import CleanupCampaign, CleanupItem
from renewals.cleanup.services import campaign_open
from tests.conftest import Cast
from tests.factories import PersonFactory, SeatFactory
from tests.matrix_common import DIRECTORY, LOGIN, ROLES, Row


def _campaign(c: Cast) -> CleanupCampaign:
    """An open campaign with one departed account of department A (once per test)."""
    existing = getattr(c, "_campaign", None)
    if existing is None:
        left = PersonFactory.create(
            department=c.dept_a, status="left", left_on=timezone.localdate()
        )
        SeatFactory.create(subscription=c.subscription_a, person=left)
        existing = campaign_open(user=c.finance, name="清理", due_on=timezone.localdate())
        c._campaign = existing  # type: ignore[attr-defined]
    return existing


def _item(c: Cast) -> dict[str, object]:
    campaign = _campaign(c)
    # Each role starts from an undecided item: the previous role's decision is taken back.
    CleanupItem.objects.filter(campaign=campaign).update(
        decision="pending", keep_reason="", revoked_on=None, decided_by=None, decided_at=None
    )
    return {"pk": campaign.pk, "item_pk": campaign.items.get().pk}


def _closed_campaign(c: Cast) -> dict[str, object]:
    """A fresh open campaign for each role (the one before was closed by the previous role)."""
    CleanupCampaign.objects.filter(status="open").update(status="closed", closed_at=timezone.now())
    campaign = campaign_open(user=c.finance, name="清理", due_on=timezone.localdate())
    return {"pk": campaign.pk}


RUNNERS = {r: 403 for r in ROLES} | {"anonymous": LOGIN}
CAMPAIGN_READ = {"anonymous": LOGIN, **DIRECTORY}

ROWS: dict[str, Row] = {
    "renewals:cleanup-list": Row(CAMPAIGN_READ),
    # Finance and IT open a campaign (a second one while one runs is refused with a message,
    # still a redirect).
    "renewals:cleanup-open": Row(
        RUNNERS | {"finance": 302, "it_admin": 302},
        method="post",
        data=lambda c: {"name": "数字办公日", "due_on": timezone.localdate().isoformat()},
    ),
    "renewals:cleanup-detail": Row(CAMPAIGN_READ, kwargs=lambda c: {"pk": _campaign(c).pk}),
    "renewals:cleanup-close": Row(
        RUNNERS | {"finance": 302, "it_admin": 302}, method="post", kwargs=_closed_campaign
    ),
    # The report holds only the reader's departments (head B: an empty report of A's campaign).
    "renewals:cleanup-report": Row(CAMPAIGN_READ, kwargs=lambda c: {"pk": _campaign(c).pk}),
    "renewals:cleanup-report-pdf": Row(CAMPAIGN_READ, kwargs=lambda c: {"pk": _campaign(c).pk}),
    # Department A's checklist: head B gets 404; heads, finance and auditors read it.
    "renewals:cleanup-checklist": Row(
        CAMPAIGN_READ | {"head_b": 404},
        kwargs=lambda c: {"pk": _campaign(c).pk, "department_pk": c.dept_a.pk},
    ),
    # Deciding: A's software admin and IT admins; readers 403, head B 404 (not A's business).
    "renewals:cleanup-decide": Row(
        {r: 403 for r in ROLES}
        | {"anonymous": LOGIN, "head_b": 404, "software_admin": 302, "it_admin": 302},
        method="post",
        kwargs=_item,
        data=lambda c: {"decision": "revoke", "seen": "pending"},
    ),
}
