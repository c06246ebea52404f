"""Who calls /scim/v2/: ``Authorization: Bearer <token>``, a ScimToken of an enabled SCIM
source, neither revoked nor expired. The token decides the source."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from scim2_models import UnauthorizedException

from integrations.models import DirectorySource, ScimToken
from integrations.scim.tokens import hash_token

# last_used_at is written at most this often per token (each write is an audited UPDATE).
TOUCH_EVERY = dt.timedelta(minutes=1)


def authenticate(header: str | None) -> ScimToken:
    """The token of an Authorization header; raises UnauthorizedException (401) otherwise.
    The token is found by the SHA-256 of its value (a unique index lookup: no comparison of
    secrets in Python, so no timing to measure)."""
    scheme, _sep, plain = (header or "").strip().partition(" ")
    plain = plain.strip()
    if scheme.lower() != "bearer" or not plain:
        raise UnauthorizedException(detail=_("A bearer token is required."))
    token = ScimToken.objects.select_related("source").filter(key_hash=hash_token(plain)).first()
    now = timezone.now()
    if (
        token is None
        or token.revoked_at is not None
        or (token.expires_at is not None and token.expires_at <= now)
        or token.source.kind != DirectorySource.Kind.SCIM
        or not token.source.enabled
    ):
        raise UnauthorizedException(detail=_("The token is unknown, revoked or expired."))
    _touch(token, now)
    return token


def _touch(token: ScimToken, now: dt.datetime) -> None:
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    ScimToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_EVERY)
    ).update(last_used_at=now)
    token.last_used_at = now
