"""The endpoint DingTalk's HTTP event push calls (``callbacks/dingtalk/<source id>/``).

DingTalk POSTs ``{"encrypt": ...}`` with ``msg_signature`` (or ``signature``), ``timestamp``
(milliseconds) and ``nonce`` in the query string, and waits for the encrypted "success"
(``{"msg_signature", "timeStamp", "nonce", "encrypt"}``); its URL check is a ``check_url``
event answered the same way. Refused, and nothing changed: an unknown, disabled or non-DingTalk
source, or one without callback secrets (404); a body over 1 MB (413); a stale timestamp (more
than five minutes off) or a bad signature (401); an undecryptable message or one for another
app / corp (400). A contact event whose person or department cannot be read from DingTalk right
now answers 503, so DingTalk delivers it again. Stream mode (``manage.py dingtalk_stream``)
needs no public URL and applies the same events the same way.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.callbacks import common
from integrations.directory import dingtalk
from integrations.directory.entries import SourceError
from integrations.directory.msgcrypt import CryptError
from integrations.models import DirectorySource


@csrf_exempt
@require_POST
def receive(request: HttpRequest, source_id: int) -> HttpResponse:
    source = common.enabled_source(source_id, DirectorySource.Kind.DINGTALK)
    if source is None:
        return common.not_found()
    body = common.body_or_none(request)
    if body is None:
        return common.too_large(source)
    params = request.GET
    timestamp = params.get("timestamp") or params.get("timeStamp") or ""
    refused = common.stale(source, timestamp)
    if refused is not None:
        return refused
    try:
        event, plain = dingtalk.open_callback(
            source,
            signature=params.get("msg_signature") or params.get("signature") or "",
            timestamp=timestamp,
            nonce=params.get("nonce") or "",
            body=body,
        )
    except CryptError as error:
        return common.refusal(source, error)
    try:
        dingtalk.handle_callback(source, event, plain)
    except SourceError as error:
        return common.refuse(source, 503, str(error))
    return JsonResponse(dingtalk.success_reply(source))
