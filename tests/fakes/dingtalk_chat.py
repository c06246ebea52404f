"""A fake DingTalk new-API server (api.dingtalk.com) on 127.0.0.1 for the chat cards of #21,
and DingTalk's signed card-click callbacks, for tests of ``integrations.chat.platforms.dingtalk``.

``FakeDingTalkChat`` answers, in the documented shapes (errors: an HTTP status with
``{"code", "message", "requestid"}``):

- ``POST /v1.0/oauth2/accessToken`` ``{appKey, appSecret}`` → ``{accessToken, expireIn: 7200}``
  (a wrong pair: 400 ``invalidClientIdOrSecret``); every other call needs the header
  ``x-acs-dingtalk-access-token``: an unknown or expired one (``expire_tokens()``) → 401
  ``InvalidAuthentication``;
- ``POST /v1.0/card/instances/createAndDeliver``: cardTemplateId, outTrackId, openSpaceId
  (``dtv1.card//IM_ROBOT.<userId>`` to a known user), cardData.cardParamMap (strings only, each
  ≤ 1 KB, else 400 ``param.invalid``); callbackType ``HTTP`` needs a registered
  callbackRouteKey, ``STREAM`` none (clicks go down the app's Stream connection; kept as the
  card's ``callback_type``), anything else → 400 ``param.invalid``; an outTrackId seen before →
  400 ``param.cardAlreadyExist``; → ``{success, result: {outTrackId, deliverResults}}``;
- ``PUT /v1.0/card/instances`` (``param.cardNotExist``; data merged by key when
  ``cardUpdateOptions.updateCardDataByKey``, else replaced) → ``{success, result}``;
- ``POST /v1.0/card/callbacks/register`` (an existing route without forceUpdate: 500
  ``param.callbackRouteKeyExist``);
- ``POST /v1.0/todo/users/{unionId}/tasks?operatorId=`` (a sourceId seen before: 400
  ``todo.taskCreate.paramError`` "task exist") → ``{id, done: false, sourceId, …}``;
  ``PUT …/tasks/{taskId}?operatorId=`` → ``{"result": true}`` (unknown:
  ``todo.taskUpdate.paramError``).

Knobs: ``rate_limited = N`` (the next N calls: 403
``Forbidden.AccessDenied.QpsLimitForAppkeyAndApi``), ``quota_exhausted`` (403
``Forbidden.AccessDenied.ApiCountLimitForOrg``), ``busy = N`` (500 ``system.busy``), ``down``
(503 with an HTML page). ``calls`` records (method, path, query, token, body) of every request.

``card_click`` builds an HTTP card callback the documented way: the actionCallback body with
``content`` a JSON string, and the ``x-ddpaas-signature-timestamp`` (milliseconds) /
``x-ddpaas-signature`` headers signed by ``calc_signature``, DingTalk's published Python code.

Documentation followed:
- https://open.dingtalk.com/document/orgapp/obtain-the-access_token-of-an-internal-app
- https://open.dingtalk.com/document/development/create-and-deliver-cards
- https://open.dingtalk.com/document/development/interactive-card-update-interface
- https://open.dingtalk.com/document/development/instructions-for-filling-in-api-card-data
- https://open.dingtalk.com/document/development/register-card-callback-address
- https://open.dingtalk.com/document/development/event-callback-card (body, signature code)
- https://open.dingtalk.com/document/development/add-dingtalk-to-do-task
- https://open.dingtalk.com/document/development/updates-dingtalk-to-do-tasks
- https://open.dingtalk.com/document/development/how-to-process-api-throttling-on-the-dingtalk-server
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

Call = tuple[str, str, dict[str, str], str, dict[str, Any]]


def calc_signature(api_secret: str, ts: int) -> str:
    # DingTalk's published code ("回调签名验证", event-callback-card), its four lines verbatim
    # but for the try/except around them:
    key = api_secret.encode("utf-8")
    message = str(ts).encode("utf-8")
    digest = hmac.new(key, message, digestmod=hashlib.sha256).digest()
    return base64.b64encode(digest).decode("utf-8")


def card_click(
    secret: str,
    out_track_id: str,
    user_id: str,
    params: dict[str, Any],
    *,
    corp_id: str = "dingfakecorp0001",
    action_id: str = "btn",
    timestamp: int | None = None,
) -> tuple[dict[str, str], bytes]:
    """(headers, body) of a card click as DingTalk POSTs it to the registered callback URL."""
    ts = int(time.time() * 1000) if timestamp is None else timestamp
    content = {"cardPrivateData": {"actionIds": [action_id], "params": params}}
    body = {"type": "actionCallback", "outTrackId": out_track_id, "corpId": corp_id,
            "userId": user_id, "content": json.dumps(content, ensure_ascii=False)}  # fmt: skip
    headers = {"x-ddpaas-signature-timestamp": str(ts),
               "x-ddpaas-signature": calc_signature(secret, ts)}  # fmt: skip
    return headers, json.dumps(body, ensure_ascii=False).encode()


class FakeDingTalkChat:
    def __init__(
        self, app_key: str = "dingfakeappkey0001", app_secret: str = "fake-secret"
    ) -> None:
        self.app_key, self.app_secret = app_key, app_secret
        self.users: set[str] = set()
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.cards: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.routes: dict[str, dict[str, Any]] = {}
        self.rate_limited = 0
        self.busy = 0
        self.quota_exhausted = False
        self.down = False
        self.fail_delivery = ""  # an errorMsg: the card is made but not delivered
        self.calls: list[Call] = []
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first (with fake: ...)"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def api_calls(self, path_start: str) -> list[Call]:
        return [c for c in self.calls if c[1].startswith(path_start)]

    # --- answers ----------------------------------------------------------------------------

    @staticmethod
    def error(status: int, code: str, message: str = "") -> tuple[int, dict[str, Any]]:
        return status, {"code": code, "message": message or code, "requestid": "fake-request"}

    def _answer(self, method: str, raw_path: str, token: str, raw: bytes) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return self.error(400, "param.invalid", "body is not JSON")
        with self._lock:
            self.calls.append((method, unquote(parts.path), query, token, body))
            if self.down:
                return 503, b"<html><body>503 Service Temporarily Unavailable</body></html>"
            if parts.path == "/v1.0/oauth2/accessToken" and method == "POST":
                return self._token(body)
            if token not in self.tokens:
                return self.error(401, "InvalidAuthentication", "不合法的access_token")
            if self.rate_limited > 0:
                self.rate_limited -= 1
                return self.error(403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
                                  "调用该接口触发该应用的限流")  # fmt: skip
            if self.quota_exhausted:
                return self.error(403, "Forbidden.AccessDenied.ApiCountLimitForOrg",
                                  "企业调用次数超过月度上限")  # fmt: skip
            if self.busy > 0:
                self.busy -= 1
                return self.error(500, "system.busy", "系统繁忙")
            return self._route(method, unquote(parts.path), query, body)

    def _token(self, body: dict[str, Any]) -> tuple[int, Any]:
        self.token_requests += 1
        if (body.get("appKey"), body.get("appSecret")) != (self.app_key, self.app_secret):
            return self.error(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        token = f"token-{next(self._numbers)}"
        self.tokens.add(token)
        return 200, {"accessToken": token, "expireIn": 7200}

    def _route(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any]:
        if (method, path) == ("POST", "/v1.0/card/instances/createAndDeliver"):
            return self._create_and_deliver(body)
        if (method, path) == ("PUT", "/v1.0/card/instances"):
            return self._update_card(body)
        if (method, path) == ("POST", "/v1.0/card/callbacks/register"):
            return self._register(body)
        segments = path.split("/")
        if path.startswith("/v1.0/todo/users/") and len(segments) in (6, 7):
            union_id = segments[4]
            if query.get("operatorId", union_id) != union_id:
                return self.error(400, "todo.paramError", "operatorId must be the unionId")
            if method == "POST" and len(segments) == 6:
                return self._create_task(union_id, body)
            if method == "PUT" and len(segments) == 7:
                return self._update_task(union_id, segments[6], body)
        return self.error(404, "resource.notFound", "请求的URI地址不存在")

    @staticmethod
    def _bad_params(data: Any) -> bool:
        params = (data or {}).get("cardParamMap", {}) if isinstance(data, dict) else None
        return not isinstance(params, dict) or any(
            not isinstance(v, str) or len(v.encode()) > 1024 or len(k.encode()) > 100
            for k, v in params.items()
        )

    def _create_and_deliver(self, body: dict[str, Any]) -> tuple[int, Any]:
        for key in ("cardTemplateId", "outTrackId", "openSpaceId"):
            if not body.get(key):
                return self.error(400, f"param.{key}Empty")
        if self._bad_params(body.get("cardData")):
            return self.error(400, "param.invalid", "cardParamMap values must be strings")
        prefix = "dtv1.card//IM_ROBOT."
        space = str(body["openSpaceId"])
        if not space.startswith(prefix):
            return self.error(400, "param.openSpaceIdInvalid")
        if not isinstance(body.get("imRobotOpenDeliverModel"), dict):
            return self.error(400, "param.openDeliverModelEmpty")
        if body.get("callbackType") == "HTTP" and body.get("callbackRouteKey") not in self.routes:
            return self.error(400, "param.invalid", "callbackRouteKey is not registered")
        if body.get("callbackType") not in (None, "HTTP", "STREAM"):
            return self.error(400, "param.invalid", "callbackType is HTTP or STREAM")
        user_id = space[len(prefix) :]
        if user_id not in self.users:
            return self.error(400, "param.userIdNotExist")
        if body["outTrackId"] in self.cards:
            return self.error(400, "param.cardAlreadyExist")
        self.cards[body["outTrackId"]] = {
            "template": body["cardTemplateId"], "user_id": user_id,
            "data": dict(body["cardData"]["cardParamMap"]), "updates": 0,
            "route": body.get("callbackRouteKey") or "",  # where its clicks go (chat_standin)
            "callback_type": body.get("callbackType") or "",
        }  # fmt: skip
        delivered = {"spaceType": "IM_ROBOT", "spaceId": user_id, "success": not self.fail_delivery,
                     "carrierId": f"carrier-{next(self._numbers)}", "errorMsg": self.fail_delivery}  # fmt: skip
        return 200, {"success": True,
                     "result": {"outTrackId": body["outTrackId"], "deliverResults": [delivered]}}  # fmt: skip

    def _update_card(self, body: dict[str, Any]) -> tuple[int, Any]:
        if not body.get("outTrackId"):
            return self.error(400, "param.outTrackIdEmpty")
        card = self.cards.get(body["outTrackId"])
        if card is None:
            return self.error(400, "param.cardNotExist")
        if "cardData" not in body and "privateData" not in body:
            return self.error(400, "param.cardDataAndPrivateDataBothEmpty")
        if self._bad_params(body.get("cardData")):
            return self.error(400, "param.invalid", "cardParamMap values must be strings")
        new = dict(body["cardData"]["cardParamMap"])
        by_key = (body.get("cardUpdateOptions") or {}).get("updateCardDataByKey") is True
        card["data"] = {**card["data"], **new} if by_key else new
        card["updates"] += 1
        return 200, {"success": True, "result": True}

    def _register(self, body: dict[str, Any]) -> tuple[int, Any]:
        route, url = body.get("callbackRouteKey"), body.get("callbackUrl")
        if not route:
            return self.error(400, "param.callbackRouteKeyEmpty")
        if not url:
            return self.error(400, "param.callbackUrlEmpty")
        if route in self.routes and not body.get("forceUpdate"):
            return self.error(500, "param.callbackRouteKeyExist")
        self.routes[route] = {"callbackUrl": url, "apiSecret": body.get("apiSecret", "")}
        return 200, {"success": True, "result": dict(self.routes[route])}

    def _create_task(self, union_id: str, body: dict[str, Any]) -> tuple[int, Any]:
        if not body.get("subject") or not body.get("executorIds"):
            return self.error(400, "todo.taskCreate.paramError", "subject/executorIds empty")
        source = body.get("sourceId")
        if source and any(t["sourceId"] == source for t in self.tasks.values()):
            return self.error(400, "todo.taskCreate.paramError", "task exist")
        task_id = f"task{next(self._numbers):06d}"
        self.tasks[task_id] = {"id": task_id, "owner": union_id, "done": False, **body}
        return 200, {"id": task_id, "subject": body["subject"], "sourceId": source or "",
                     "done": False, "executorIds": body["executorIds"],
                     "createdTime": int(time.time() * 1000)}  # fmt: skip

    def _update_task(self, union_id: str, task_id: str, body: dict[str, Any]) -> tuple[int, Any]:
        task = self.tasks.get(task_id)
        if task is None or task["owner"] != union_id:
            return self.error(400, "todo.taskUpdate.paramError", "task not exist")
        task.update(body)
        return 200, {"result": True}

    # --- the server -------------------------------------------------------------------------

    def __enter__(self) -> FakeDingTalkChat:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                token = self.headers.get("x-acs-dingtalk-access-token") or ""
                status, data = fake._answer(method, self.path, token, self.rfile.read(length))
                raw = (
                    data
                    if isinstance(data, bytes)
                    else json.dumps(data, ensure_ascii=False).encode()
                )
                self.send_response(status)
                kind = "text/html" if isinstance(data, bytes) else "application/json"
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self) -> None:  # noqa: N802 (http.server's names)
                self._reply("POST")

            def do_PUT(self) -> None:  # noqa: N802
                self._reply("PUT")

            def do_GET(self) -> None:  # noqa: N802
                self._reply("GET")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
