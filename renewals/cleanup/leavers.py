"""A leaver is acted on at once (issue #19): the directory sync (integrations) marks people as
left, commits, and queues ``renewals.tasks.leavers_act`` with their ids. Here every seat they
still hold is flagged, the software admins (of the subscription's department and the ones above
it) and the owner are told by bell, e-mail and the department's chat, the departed-holder risk
is raised and an open clean-up campaign gets the seats.

Once, however often it runs (a retried task, two syncs reporting one leaver, two workers at once):
- a flag is a ``LeaverNotice`` row per seat, inserted with ON CONFLICT DO NOTHING RETURNING: the
  call whose INSERT succeeds tells the people about that seat; a parallel INSERT of the same
  seat waits for that commit and finds it taken (seats in id order, so two calls cannot
  deadlock). The flags commit before anything is sent, so a slow mail server or chat robot holds
  no lock; a worker dying in between leaves flags without ``notified_at`` (at most once, as the
  requests' notices);
- campaign items are inserted ON CONFLICT (campaign, seat) DO NOTHING under a share lock of the
  open campaign row (as a decision takes it: a close waits for the insert, and an insert after
  the close finds no open campaign);
- the risk refresh is itself safe to run in parallel.
Call it outside a transaction (the task does): the flags must commit before the notices go out.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from org.models import Department, Person, User
from org.roles import Role
from renewals.cleanup.models import CleanupCampaign, CleanupItem, LeaverNotice
from renewals.cleanup.selectors import checklist_seats
from renewals.inventory.models import Subscription
from renewals.notify import outlets
from renewals.notify.services import messaging
from renewals.risks import services as risk_services
from renewals.usage.models import Seat

logger = logging.getLogger(__name__)

TEMPLATE = "renewals/email/leaver"
SOURCE_MAX = LeaverNotice._meta.get_field("source").max_length or 100

# The flags this call wins, in seat order (see the module docstring).
FLAG_SQL = """
INSERT INTO renewals_leavernotice (seat_id, flagged_on, source, created_at)
SELECT seat, %s, %s, %s FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(seat, n) ORDER BY n
ON CONFLICT (seat_id) DO NOTHING
RETURNING seat_id
"""
# The open campaign, share-locked: decisions take the same lock, the close waits for both.
LOCK_CAMPAIGN_SQL = "SELECT id FROM renewals_cleanupcampaign WHERE status = %s FOR SHARE"
ITEMS_SQL = """
INSERT INTO renewals_cleanupitem (
    campaign_id, seat_id, department_id, reason, last_active_on, decision, keep_reason
) VALUES {values}
ON CONFLICT (campaign_id, seat_id) DO NOTHING
RETURNING id
"""


@dataclass(frozen=True)
class LeaverResult:
    """What one call did (a second call about the same leavers finds it done: all zero)."""

    seats_flagged: int = 0  # active seats of the leavers this call flagged
    notices_sent: int = 0  # people told (a bell and an e-mail each), once per leaver
    chat_posts: int = 0  # posts accepted by the departments' chat channels
    campaign_items: int = 0  # seats added to the open clean-up campaign

    def __str__(self) -> str:
        return (
            f"{self.seats_flagged} seats flagged, {self.notices_sent} told, "
            f"{self.chat_posts} chat, {self.campaign_items} campaign items"
        )


def leavers_act(
    *, person_ids: list[int], source: str = "", today: dt.date | None = None
) -> LeaverResult:
    """Act on people who have just been marked as left: flag each active seat they hold, tell
    each subscription's software admins and owner (once per leaver and subscription), raise the
    departed-holder risk, and add the seats to an open clean-up campaign. Ids of people who are
    active again, or gone, are ignored."""
    today = today or timezone.localdate()
    seats = _leaver_seats(person_ids)
    if not seats:
        return LeaverResult()
    source = " ".join((source or "").split())[:SOURCE_MAX]
    flagged = _flag(seats, source=source, today=today)
    items = _add_to_campaign({seat.pk for seat in seats}, today=today)
    _refresh_risks_on_commit()
    told, posted = _tell([seat for seat in seats if seat.pk in flagged], source=source)
    if flagged:
        LeaverNotice.objects.filter(seat_id__in=flagged).update(notified_at=timezone.now())
    return LeaverResult(
        seats_flagged=len(flagged), notices_sent=told, chat_posts=posted, campaign_items=items
    )


def _leaver_seats(person_ids: list[int]) -> list[Seat]:
    """The active seats of those of ``person_ids`` who have left (now), in id order."""
    ids = sorted({int(pk) for pk in person_ids})
    if not ids:
        return []
    return list(
        Seat.objects.filter(
            revoked_on__isnull=True, person_id__in=ids, person__status=Person.Status.LEFT
        )
        .select_related(
            "person", "subscription", "subscription__vendor", "subscription__department",
            "subscription__owner",
        )
        .order_by("pk")
    )  # fmt: skip


def _flag(seats: list[Seat], *, source: str, today: dt.date) -> set[int]:
    """Flag the seats not flagged yet; the ones this call flagged (committed on return)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(FLAG_SQL, [today, source, timezone.now(), [seat.pk for seat in seats]])
        return {row[0] for row in cursor.fetchall()}


def _add_to_campaign(seat_ids: set[int], *, today: dt.date) -> int:
    """Add the seats to the open campaign's checklist (as its opening listed departed seats:
    ``checklist_seats``), each once; 0 when no campaign is open."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(LOCK_CAMPAIGN_SQL, [CleanupCampaign.Status.OPEN])
            row = cursor.fetchone()
        if row is None:
            return 0
        rows = [r for r in checklist_seats(today=today) if r[0] in seat_ids]
        if not rows:
            return 0
        campaign_id = row[0]
        # A seat listed as idle when the campaign opened, still to decide: its holder has left.
        CleanupItem.objects.filter(
            campaign_id=campaign_id, seat_id__in=[r[0] for r in rows],
            decision=CleanupItem.Decision.PENDING, reason=CleanupItem.Reason.IDLE,
        ).update(reason=CleanupItem.Reason.DEPARTED)  # fmt: skip
        values, params = [], []
        for seat, department, reason, last in rows:
            values.append("(%s, %s, %s, %s, %s, %s, %s)")
            params += [
                campaign_id,
                seat,
                department,
                reason,
                last,
                CleanupItem.Decision.PENDING,
                "",
            ]
        with connection.cursor() as cursor:
            cursor.execute(ITEMS_SQL.format(values=", ".join(values)), params)
            return len(cursor.fetchall())


def _refresh_risks_on_commit() -> None:
    """Raise the departed-holder risk now (the daily refresh would raise it tomorrow). A failed
    refresh is logged: the flags and notices stand, the daily refresh catches up."""

    def refresh() -> None:
        try:
            risk_services.risks_refresh()
        except Exception:  # noqa: BLE001 - the daily refresh catches up
            logger.exception("risks_refresh after leavers were flagged failed")

    transaction.on_commit(refresh)


# --- Telling ----------------------------------------------------------------------------------


def _with_ancestors(department_ids: set[int]) -> dict[int, list[int]]:
    """Each department and the departments above it (the tree is small: one query)."""
    parents = dict(Department.objects.values_list("pk", "parent_id"))
    chains: dict[int, list[int]] = {}
    for pk in department_ids:
        chain: list[int] = []
        current: int | None = pk
        while current is not None and current not in chain:
            chain.append(current)
            current = parents.get(current)
        chains[pk] = chain
    return chains


def admins_by_department(department_ids: set[int]) -> dict[int, list[User]]:
    """The active software admins of each department and of the departments above it."""
    chains = _with_ancestors(department_ids)
    above = {pk for chain in chains.values() for pk in chain}
    admins: dict[int, list[User]] = defaultdict(list)
    through = Department.software_admins.through.objects.filter(
        department_id__in=above, user__is_active=True
    ).select_related("user")
    for link in through:
        admins[link.department_id].append(link.user)
    return {
        pk: list({u.pk: u for d in chain for u in admins.get(d, [])}.values())
        for pk, chain in chains.items()
    }


def _recipients(
    subscription: Subscription, admins: list[User], person: Person, it_admins: list[User]
) -> list[User]:
    """The subscription's software admins and its owner, not the leaver's own account; the IT
    admins when nobody else would hear of it."""
    users = [*admins]
    if subscription.owner is not None and subscription.owner.is_active:
        users.append(subscription.owner)
    users = [u for u in users if u.pk != person.user_id]
    return users or it_admins


def _line(subscription: Subscription) -> dict[str, Any]:
    path = reverse("renewals:subscription-detail", args=[subscription.pk])
    return {
        "name": subscription.display_name,
        "department": subscription.department.name,
        "url": settings.SITE_URL + path,
        "path": path,
    }


def _tell(seats: list[Seat], *, source: str) -> tuple[int, int]:
    """Per leaver: each recipient one message listing that leaver's subscriptions they look
    after; each department's chat one post listing its subscriptions. (People told, chat posts.)"""
    if not seats:
        return 0, 0
    departments = {seat.subscription.department_id for seat in seats}
    admins = admins_by_department(departments)
    it_admins = list(User.objects.filter(is_active=True, groups__name=Role.IT_ADMIN).distinct())
    by_person: dict[int, list[Seat]] = defaultdict(list)
    for seat in seats:
        by_person[seat.person_id].append(seat)
    told = posted = 0
    for person_seats in by_person.values():
        person = person_seats[0].person
        per_user: dict[int, tuple[User, list[Subscription]]] = {}
        per_department: dict[int, list[Subscription]] = defaultdict(list)
        for seat in sorted(person_seats, key=lambda s: s.subscription.display_name):
            subscription = seat.subscription
            per_department[subscription.department_id].append(subscription)
            users = _recipients(
                subscription, admins.get(subscription.department_id, []), person, it_admins
            )
            for user in users:
                per_user.setdefault(user.pk, (user, []))[1].append(subscription)
        for user, subscriptions in per_user.values():
            told += _tell_user(user, person, subscriptions, source)
        for subscriptions in per_department.values():
            posted += _post(person, subscriptions, source)
    return told, posted


def _tell_user(user: User, person: Person, subscriptions: list[Subscription], source: str) -> int:
    """A bell (linking to the first subscription's page) and an e-mail, in the user's language."""
    lines = [_line(s) for s in subscriptions]
    _card(user, person, lines, source)
    return messaging.notify_users(
        [user], template=TEMPLATE,
        context={"person": person, "subscriptions": lines, "source": source,
                 "url": lines[0]["url"]},
        url=lines[0]["path"], subscription=subscriptions[0] if len(subscriptions) == 1 else None,
    )  # fmt: skip


def _card(user: User, person: Person, lines: list[dict[str, Any]], source: str) -> None:
    """The same notice as a card in the user's own chat (integrations.chat), once per leaver."""
    language = user.language or settings.LANGUAGE_CODE
    context = {"person": person, "subscriptions": lines, "source": source, "url": ""}
    subject, text, _html = messaging.render_message(TEMPLATE, {**context, "user": user}, language)
    with translation.override(language):
        action = _("Open clean-up")
    outlets.notice_on_commit(
        outlets.PersonalNotice(
            key=f"leaver-{person.pk}-u{user.pk}",
            user_id=user.pk,
            title=subject[:200],
            text=text.strip()[:2000],
            url=settings.SITE_URL + reverse("renewals:cleanup-list"),
            action=str(action),
        )
    )


def _post(person: Person, subscriptions: list[Subscription], source: str) -> int:
    """One post to the department's active chat channels, in the site's language."""
    lines = [_line(s) for s in subscriptions]
    context = {"person": person, "subscriptions": lines, "source": source, "url": lines[0]["url"]}
    subject, text, _html = messaging.render_message(TEMPLATE, context, settings.LANGUAGE_CODE)
    data = {
        "event": "leaver",
        "person": person.pk,
        "subscriptions": [s.pk for s in subscriptions],
        "url": lines[0]["url"],
    }
    return messaging.chat_post(
        subscriptions[0].department, text=f"{subject}\n{text}".strip(), data=data
    )
