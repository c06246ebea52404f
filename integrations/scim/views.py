"""/scim/v2/: the SCIM 2.0 service provider (RFC 7644) identity providers push people and
departments to. scim2-server's handler speaks the protocol; this view authenticates (a bearer
token, which decides the source), refuses a body over 1 MB before reading it, and turns the
answer into a response. No session, no CSRF token: the bearer token is the only credential."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from scim2_models import (
    Context,
    InvalidSyntaxException,
    PatchOp,
    PayloadTooLargeException,
    Resource,
    ResourceType,
    ResponseParameters,
    SCIMException,
)
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim2_server.responses import SCIM_MEDIA_TYPE, ScimResponse
from scim2_server.service import ScimService, is_json_media_type

from integrations.scim.auth import authenticate
from integrations.scim.resources import PROVIDER, Group
from integrations.scim.storage import DirectoryStorage

logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024


class Service(ScimService):
    """scim2-server's protocol, with two answers of our own (below)."""

    def patch_response(
        self,
        base_url: str,
        resource: Resource[Any],
        response_parameters: ResponseParameters[Any],
    ) -> ScimResponse:
        """A PATCH of a User answers the User (Okta and Entra ID show it); a PATCH of a Group
        answers 204 (Entra ID advises against sending every member back)."""
        if isinstance(resource, Group):
            return super().patch_response(base_url, resource, response_parameters)
        return self.resource_response(
            self.publish(base_url, resource), Context.RESOURCE_PATCH_RESPONSE, response_parameters
        )

    def read_patch(
        self, resource_type: ResourceType, body: bytes, content_type: str | None
    ) -> PatchOp[Any]:
        """The PATCH body, Entra ID's removal values cleaned of their nulls first."""
        return super().read_patch(resource_type, _unassigned_left_out(body), content_type)


def _unassigned_left_out(body: bytes) -> bytes:
    """Entra ID removes a member with {"op": "Remove", "path": "members", "value": [{"$ref":
    null, "value": "<id>"}]}: a null is an unassigned sub-attribute (RFC 7643 section 2.5), not
    one that must be null, so it does not take part in choosing what to remove."""
    try:
        patch = json.loads(body)
        for operation in patch.get("Operations") or []:
            if str(operation.get("op", "")).lower() == "remove" and isinstance(
                operation.get("value"), list
            ):
                operation["value"] = [
                    {k: v for k, v in entry.items() if v is not None}
                    if isinstance(entry, dict)
                    else entry
                    for entry in operation["value"]
                ]
    except (ValueError, AttributeError, TypeError):
        return body  # the service answers what is wrong with it
    return json.dumps(patch).encode()


SERVICE = Service(PROVIDER)
_WITH_BODY = {"POST", "PUT", "PATCH"}


def _response(answer: ScimResponse) -> HttpResponse:
    body = b"" if answer.body is None else json.dumps(answer.body, ensure_ascii=False).encode()
    response = HttpResponse(body, status=int(answer.status))
    for name, value in answer.headers.items():
        if name.lower() != "content-type":
            response[name] = value
    if answer.body is None:
        del response["Content-Type"]
    else:
        response["Content-Type"] = f"{SCIM_MEDIA_TYPE}; charset=utf-8"
    # Directory data and no reason for any cache to keep it.
    response["Cache-Control"] = "no-store"
    return response


def _error(exc: SCIMException) -> HttpResponse:
    return _response(SERVICE.error_response(exc))


def _read_body(request: HttpRequest) -> bytes:
    """At most MAX_BODY bytes: a larger body (by its Content-Length, or once read) is a 413,
    answered before anything parses it. Malformed JSON is a 400 invalidSyntax."""
    too_large = PayloadTooLargeException(
        detail=_("The request body is larger than %(size)s bytes.") % {"size": MAX_BODY}
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY:
        raise too_large
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise too_large
    content_type = request.META.get("CONTENT_TYPE")
    json_body = not content_type or is_json_media_type(content_type)  # else: a 415, later
    if request.method in _WITH_BODY and json_body and body.strip():
        try:
            json.loads(body)
        except ValueError as exc:
            raise InvalidSyntaxException(
                detail=_("The body is not valid JSON: %(error)s") % {"error": exc}
            ) from None
    return body


@csrf_exempt
def endpoint(request: HttpRequest, path: str = "") -> HttpResponse:
    try:
        token = authenticate(request.headers.get("Authorization"))
        body = _read_body(request)
    except SCIMException as exc:
        return _error(exc)
    scim_request = ScimRequest(
        method=request.method or "GET",
        base_url=request.build_absolute_uri(reverse("scim:endpoint", args=[""])).rstrip("/"),
        path="/" + path,
        query={key: request.GET.get(key, "") for key in request.GET},
        headers=list(request.headers.items()),
        body=body,
        subject=token,
    )
    handler = ScimHandler(SERVICE, DirectoryStorage(token.source))
    try:
        answer = handler.handle(scim_request)
    except SCIMException as exc:
        logger.info("scim %s %s: %s %s", request.method, path, exc.status, exc)
        answer = SERVICE.error_response(exc)
    except Exception as exc:  # a bug: a SCIM 500, the traceback in the log
        logger.exception("scim %s %s failed", request.method, path)
        answer = SERVICE.error_response(exc)
    return _response(answer)
