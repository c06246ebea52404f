"""Writing chat apps and people's mappings (IT admins: the pages and ``manage.py chat_app``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from integrations.chat.models import ChatApp, ChatIdentity
from integrations.chat.platforms import module_for


@transaction.atomic
def chat_app_save(
    *,
    app: ChatApp | None,
    kind: str,
    name: str,
    base_url: str,
    config: dict[str, Any],
    secrets: dict[str, str],
    **flags: Any,
) -> ChatApp:
    """Create or update a chat app. Secrets are write-only: an empty one keeps what is stored;
    a required one must be stored after the save."""
    if app is None:
        app = ChatApp(kind=kind)
    else:
        app = ChatApp.objects.select_for_update().get(pk=app.pk)
    app.name, app.base_url = name, base_url
    app.config = {**(app.config or {}), **config}
    for key, value in flags.items():
        if key not in ("directory", "approvals", "notices", "todos", "enabled"):
            raise TypeError(key)
        setattr(app, key, value)
    app.set_secrets(secrets)
    needed = required_settings(app.kind, app.config)
    missing = [
        str(s.label)
        for s in module_for(app.kind).SETTINGS
        if s.key in needed and not (app.secrets.get(s.key) if s.secret else app.config.get(s.key))
    ]
    if missing:
        raise ValidationError(_("Missing: %(names)s.") % {"names": ", ".join(missing)})
    app.full_clean()
    app.save()
    return app


def required_settings(kind: str, config: dict[str, Any]) -> set[str]:
    """The keys an app of ``kind`` with ``config`` must have: what its platform module's
    ``required_settings(config)`` says when it has one (DingTalk in Stream mode needs no route
    key or callback secret), else every setting marked ``required``."""
    module = module_for(kind)
    hook = getattr(module, "required_settings", None)
    return set(hook(config)) if hook else {s.key for s in module.SETTINGS if s.required}


def chat_app_remove(*, app: ChatApp) -> None:
    """Removing an app forgets its cards and jobs (nothing more is sent through it)."""
    app.delete()


def identity_save(*, app: ChatApp, user: Any, platform_id: str, union_id: str = "") -> ChatIdentity:
    other = {"unionId": union_id} if union_id else {}
    try:
        with transaction.atomic():
            identity, _created = ChatIdentity.objects.update_or_create(
                app=app, user=user, defaults={"platform_id": platform_id, "other_ids": other}
            )
    except IntegrityError:
        raise ValidationError(_("Another user is already mapped to this id on the app.")) from None
    return identity


def identity_remove(*, app: ChatApp, identity_id: int) -> bool:
    return bool(ChatIdentity.objects.filter(app=app, pk=identity_id).delete()[0])
