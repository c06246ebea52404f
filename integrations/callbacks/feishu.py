"""The Feishu / Lark event callback (事件订阅, Webhook mode): one URL per directory source,
``callbacks/feishu/<source id>/``, entered as the app's request URL (请求地址).

Answers: the URL check's challenge; 200 ``{"msg": "success"}`` for an event applied, replayed,
stale or of a type we do not follow (Feishu stops sending it); 400 / 401 / 403 with a short JSON
error, and nothing changed, for a callback that is malformed, undecryptable, too old, wrongly
signed or for a source without event keys; 404 for an unknown, disabled or non-Feishu source;
413 above 1 MB. Verification and decryption: ``integrations.directory.feishu``.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.directory import feishu
from integrations.models import DirectorySource

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


@csrf_exempt
@require_POST
def receive(request: HttpRequest, source_id: int) -> JsonResponse:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return _error(413, _("The callback is too large."))
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _error(413, _("The callback is too large."))
    source = DirectorySource.objects.filter(
        pk=source_id, kind=DirectorySource.Kind.FEISHU, enabled=True
    ).first()
    if source is None:
        return _error(404, _("No such source."))
    try:
        event = feishu.parse_event(source, body, request.headers)
    except feishu.EventRefused as exc:
        logger.info("feishu callback for source %s refused: %s", source.pk, exc)
        return _error(exc.status, str(exc))
    if event.challenge is not None:
        return JsonResponse({"challenge": event.challenge})
    outcome = feishu.apply_event(source, event)
    if outcome is not None and outcome.status not in ("applied", "unchanged"):
        logger.info(
            "feishu event %s (%s) for source %s: %s",
            event.event_id,
            event.event_type,
            source.pk,
            outcome.status,
        )
    return JsonResponse({"msg": "success"})


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)
