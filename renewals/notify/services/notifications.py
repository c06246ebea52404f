"""The in-app notification centre and the personal calendar feed."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from org.models import User
from renewals.notify.models import CalendarFeed, Notification


def notification_mark_read(*, user: User, notification: Notification) -> None:
    """Mark one of the user's own notifications read (reading it twice changes nothing)."""
    Notification.objects.filter(pk=notification.pk, user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notification_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


@transaction.atomic
def calendar_feed_reset(*, user: User) -> CalendarFeed:
    """Create the user's secret feed address, or replace it (the old one stops working)."""
    feed, _created = CalendarFeed.objects.update_or_create(
        user=user, defaults={"token": secrets.token_urlsafe(32)}
    )
    return feed


def calendar_feed_revoke(*, user: User) -> None:
    CalendarFeed.objects.filter(user=user).delete()
