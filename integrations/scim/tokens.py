"""SCIM bearer tokens: made here, shown once, kept only as their SHA-256."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.models import DirectorySource, ScimToken
from org.models import User

# A recognisable start, so that a token pasted where it should not be is easy to spot.
MARK = "rdscim_"
DEFAULT_SOURCE = "SCIM"


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def scim_source(name: str | None = None) -> DirectorySource:
    """The SCIM source of that name; without a name the one named "SCIM", made if missing."""
    if name is None:
        source, _created = DirectorySource.objects.get_or_create(
            name=DEFAULT_SOURCE, defaults={"kind": DirectorySource.Kind.SCIM}
        )
    else:
        source = DirectorySource.objects.get(name=name)
    if source.kind != DirectorySource.Kind.SCIM:
        raise ValidationError(_("%(name)s is not a SCIM source.") % {"name": source.name})
    return source


@transaction.atomic
def token_create(
    *,
    source: DirectorySource,
    name: str,
    user: User | None = None,
    expires_at: dt.datetime | None = None,
) -> tuple[ScimToken, str]:
    """A new token for a SCIM source; returns it and its plain value, which is shown once and
    never stored."""
    if source.kind != DirectorySource.Kind.SCIM:
        raise ValidationError(_("%(name)s is not a SCIM source.") % {"name": source.name})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError(_("The expiry must be in the future."))
    plain = MARK + secrets.token_urlsafe(32)
    token = ScimToken.objects.create(
        source=source,
        name=name,
        key_hash=hash_token(plain),
        prefix=plain[len(MARK) : len(MARK) + 8],
        created_by=user,
        expires_at=expires_at,
    )
    return token, plain


def token_revoke(*, token: ScimToken) -> ScimToken:
    """Revoke a token (at once; revoking twice keeps the first time)."""
    ScimToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token
