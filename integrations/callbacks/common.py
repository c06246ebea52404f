"""What the DingTalk and WeCom callback endpoints share: finding the source, the body cap, the
freshness check and the refusals. A refused callback changes nothing and says why in a short
text (to the vendor's delivery log); it is logged with the source id, never with its content."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from integrations.directory import msgcrypt
from integrations.models import DirectorySource

logger = logging.getLogger("integrations.callbacks")

MAX_BODY_BYTES = 1024 * 1024


def enabled_source(source_id: int, kind: str) -> DirectorySource | None:
    """An enabled source of that kind (anything else: None, answered with ``not_found``)."""
    return DirectorySource.objects.filter(pk=source_id, kind=kind, enabled=True).first()


def not_found() -> HttpResponse:
    """A plain 404 (not the site's page: the caller is a machine)."""
    return HttpResponse(_("No such source."), status=404, content_type="text/plain; charset=utf-8")


def body_or_none(request: HttpRequest) -> bytes | None:
    """The request body, or None when it is over the cap (checked before it is read)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        return None
    body = request.body
    return None if len(body) > MAX_BODY_BYTES else body


def refuse(source: DirectorySource, status: int, reason: str) -> HttpResponse:
    logger.warning("directory source %s: callback refused (%s): %s", source.pk, status, reason)
    return HttpResponse(reason, status=status, content_type="text/plain; charset=utf-8")


def refusal(source: DirectorySource, error: msgcrypt.CryptError) -> HttpResponse:
    """The answer to an envelope we do not trust."""
    if isinstance(error, msgcrypt.NotConfigured):
        logger.warning("directory source %s: callback for a source not set up for it", source.pk)
        return not_found()
    if isinstance(error, msgcrypt.SignatureError):
        return refuse(source, 401, _("The callback's signature is wrong."))
    return refuse(source, 400, _("The callback cannot be decrypted, or is not for this app."))


def too_large(source: DirectorySource) -> HttpResponse:
    return refuse(source, 413, _("The callback is too large."))


def stale(source: DirectorySource, timestamp: str) -> HttpResponse | None:
    """A refusal when the callback's timestamp is not within five minutes of now."""
    if msgcrypt.is_fresh(timestamp):
        return None
    return refuse(source, 401, _("The callback is too old, or its time is missing."))
