"""Departments' chat robots for alerts (IT admins)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from renewals.notify.models import ChatChannel


@transaction.atomic
def chat_channel_save(*, channel: ChatChannel | None, data: dict[str, Any]) -> ChatChannel:
    """Create or update a channel from checked form data. The secret is write-only: an empty one
    keeps what is stored."""
    if channel is None:
        channel = ChatChannel()
    else:
        channel = ChatChannel.objects.select_for_update().get(pk=channel.pk)
    for field in ("department", "name", "kind", "url", "is_active"):
        setattr(channel, field, data[field])
    if data.get("secret"):
        channel.secret = data["secret"]
    channel.full_clean()
    channel.save()
    return channel


def chat_channel_delete(*, channel: ChatChannel) -> None:
    """Deleting a channel also removes its delivery records (they name the channel)."""
    channel.delete()
