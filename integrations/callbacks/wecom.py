"""The endpoint a WeCom app's "接收消息" callback calls (``callbacks/wecom/<source id>/``).

GET, when the URL is saved: ``msg_signature``, ``timestamp``, ``nonce``, ``echostr``; the
answer is the decrypted echostr, as plain text. POST, for each event: the same query and an XML
body ``<xml><ToUserName/><Encrypt/><AgentID/></xml>``; ``change_contact`` events are applied
(``integrations.directory.wecom.apply_message``) and the answer is an empty 200 (WeCom needs no
reply message). Refused, and nothing changed: an unknown, disabled or non-WeCom source, or one
without callback secrets (404); a body over 1 MB (413); a stale timestamp (more than five
minutes off) or a bad signature (401); an undecryptable message, a message for another corp
(its receive id is not our corp id) or malformed XML (400). A change whose person or department
cannot be read from WeCom right now answers 503, so WeCom tries again.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from integrations.callbacks import common
from integrations.directory import wecom
from integrations.directory.entries import SourceError
from integrations.directory.msgcrypt import CryptError
from integrations.models import DirectorySource


@csrf_exempt
@require_http_methods(["GET", "POST"])
def receive(request: HttpRequest, source_id: int) -> HttpResponse:
    source = common.enabled_source(source_id, DirectorySource.Kind.WECOM)
    if source is None:
        return common.not_found()
    body = common.body_or_none(request)
    if body is None:
        return common.too_large(source)
    params = request.GET
    timestamp = params.get("timestamp") or ""
    refused = common.stale(source, timestamp)
    if refused is not None:
        return refused
    signed = {
        "signature": params.get("msg_signature") or "",
        "timestamp": timestamp,
        "nonce": params.get("nonce") or "",
    }
    try:
        if request.method == "GET":
            echo = wecom.verify_url(source, echostr=params.get("echostr") or "", **signed)
            return HttpResponse(echo, content_type="text/plain; charset=utf-8")
        fields, plain = wecom.open_callback(source, body=body, **signed)
    except CryptError as error:
        return common.refusal(source, error)
    try:
        wecom.apply_message(source, fields, plain)
    except SourceError as error:
        return common.refuse(source, 503, str(error))
    return HttpResponse("", content_type="text/plain; charset=utf-8")
