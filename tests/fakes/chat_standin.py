"""A local stand-in of the chat platforms for trying #21's approval cards by hand (``dev.py
start`` runs it beside the demo; ``manage.py demo_chat`` points the demo's chat apps at it):

    python -m tests.fakes.chat_standin --port 8091

It starts a ``FakeFeishuChat`` and a ``FakeDingTalkChat`` (tests/fakes/feishu_chat.py,
dingtalk_chat.py) on free ports of 127.0.0.1, and on ``--port`` a small "phone": plain HTML
pages (no JavaScript, forms only) showing each person's cards and to-dos as the fakes hold them,
with the cards' buttons working the way the platforms do.

The documented shapes it uses, all from the fakes (whose docstrings cite the pages):

- Feishu cards are the card JSON 2.0 the app sent (``im/v1/messages``, then PATCHed): header
  ``title`` / ``subtitle`` / ``template`` colour, body elements ``div``, ``column_set`` (label and
  value columns), ``button`` with a ``callback`` or ``open_url`` behaviour, ``form`` with an
  ``input`` and a submit button. A click is the ``card.action.trigger`` callback (schema 2.0,
  ``feishu_chat.card_action``: ``action.value`` as the button carries it, ``form_value.comment``
  for a form), encrypted and signed by ``feishu_chat.callback`` (``{"encrypt": ...}``,
  AES-256-CBC with key SHA-256(Encrypt Key); X-Lark-Signature = SHA-256(timestamp + nonce + Encrypt
  Key + body)) and POSTed to the callback address set in the console; its answer's ``toast`` is
  shown and its ``card`` (``{"type": "raw", "data": ...}``) replaces the card, as Feishu does.
  Setting the address sends the ``url_verification`` check first (encrypted, not signed) and
  keeps the address only when it answers the challenge, as Feishu's console does.
- DingTalk cards are the ``cardParamMap`` of the approval template (the variables listed in
  ``integrations/chat/platforms/dingtalk.py``: ``title``, ``subtitle``, ``fields`` a JSON array of
  ``{label, value}``, ``text``, ``outcome``, ``status``, ``show_*`` flags, labels, ``url``, ``value``,
  ``toast``). A click is the ``actionCallback`` body with ``content.cardPrivateData.params``
  ``{"a", "value", "comment"}``, signed by ``dingtalk_chat.card_click`` with the apiSecret the app
  registered for the card's ``callbackRouteKey`` and POSTed to that route's ``callbackUrl``; the
  answer's ``cardData.cardParamMap`` updates the card (by key with ``updateCardDataByKey``).
- To-dos: Feishu tasks (``task/v2``, done when ``completed_at`` is not "0") and DingTalk 待办
  (``/v1.0/todo``, ``done``), by the assignee's user id / unionId.

The "developer console" (JSON, for ``manage.py demo_chat``; demo credentials, nobody's secrets):
``GET /console`` (the fakes' addresses, app ids and secrets), ``POST /console/feishu-callback``
``{"url": ...}`` (Feishu's 回调配置), ``POST /console/users`` ``{"feishu": [{"user_id", "name"}],
"dingtalk": [{"user_id", "union_id", "name"}]}`` (the people in the apps' 可用范围 / 可见范围;
DingTalk delivers cards only to them). DingTalk's callback comes from the real register API.
Everything is in memory: a restart starts with no cards.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from tests.fakes import dingtalk_chat, feishu_chat
from tests.fakes.chat_phone import PLATFORM_NAMES, PhonePages

FEISHU = {
    "app_id": "cli_demo_renewal_desk",
    "app_secret": "demo-feishu-app-secret",
    "verification_token": "demo-verification-token",
    "encrypt_key": "demo-encrypt-key",
}
DINGTALK = {
    "app_key": "dingdemorenewaldesk",
    "app_secret": "demo-dingtalk-app-secret",
    # What the admin would make in the card builder and choose as the route (any will do here).
    "card_template_id": "renewal-desk-approval.schema",
    "callback_route_key": "renewal-desk-demo",
}
TIMEOUT = 30.0  # a click waits for Renewal Desk's answer (in tests it delivers the next card)


class ChatStandin(PhonePages):
    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self.feishu = feishu_chat.FakeFeishuChat(FEISHU["app_id"], FEISHU["app_secret"])
        self.ding = dingtalk_chat.FakeDingTalkChat(DINGTALK["app_key"], DINGTALK["app_secret"])
        self.feishu_callback = ""
        self.people: dict[tuple[str, str], dict[str, str]] = {}  # (platform, user id) -> info
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the stand-in first"
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> ChatStandin:
        self.feishu.start()
        self.ding.__enter__()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's names)
                standin._handle(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                standin._handle(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.feishu.stop()
        self.ding.__exit__()

    def __enter__(self) -> ChatStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- HTTP -----------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        path = parts.path.rstrip("/") or "/"
        try:
            status, kind, data, headers = self._route(method, path, query, raw)
        except Exception as exc:  # a broken page should say why, not hang the phone
            status, kind, data, headers = 500, "text/plain", f"stand-in error: {exc!r}", {}
        body = data.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", f"{kind}; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _route(
        self, method: str, path: str, query: dict[str, str], raw: bytes
    ) -> tuple[int, str, str, dict[str, str]]:
        if (method, path) == ("GET", "/"):
            return 200, "text/html", self.index_page(), {}
        if method == "GET" and path.startswith("/p/") and path.count("/") == 3:
            _, _, platform, user_id = path.split("/")
            if platform in PLATFORM_NAMES:
                page = self.person_page(platform, unquote(user_id), query)
                return 200, "text/html", page, {}
        if (method, path) == ("POST", "/click"):
            form = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
            where, toast, ok = self.click(form)
            target = f"{where}?{urlencode({'toast': toast, 'ok': '1' if ok else '0'})}"
            return 303, "text/plain", "", {"Location": target}
        if (method, path) == ("GET", "/console"):
            return 200, "application/json", json.dumps(self.console()), {}
        if method == "POST" and path in ("/console/feishu-callback", "/console/users"):
            try:
                asked = json.loads(raw or b"{}")
            except ValueError:
                return 400, "application/json", json.dumps({"error": "not JSON"}), {}
            if path == "/console/users":
                return 200, "application/json", json.dumps(self.add_users(asked)), {}
            status, answer = self.set_feishu_callback(str(asked.get("url") or ""))
            return status, "application/json", json.dumps(answer, ensure_ascii=False), {}
        return 404, "text/plain", "not found", {}

    # --- the console ----------------------------------------------------------------------------

    def console(self) -> dict[str, Any]:
        return {
            "feishu": {"base_url": self.feishu.url, **FEISHU, "callback_url": self.feishu_callback},
            "dingtalk": {"base_url": self.ding.url, **DINGTALK},
            "phone": self.url + "/",
        }

    def add_users(self, asked: dict[str, Any]) -> dict[str, Any]:
        for platform in PLATFORM_NAMES:
            for person in asked.get(platform) or []:
                user_id = str(person.get("user_id") or "")
                if not user_id:
                    continue
                self.people[(platform, user_id)] = {
                    "name": str(person.get("name") or ""),
                    "union_id": str(person.get("union_id") or ""),
                }
                if platform == "dingtalk":
                    with self.ding._lock:
                        self.ding.users.add(user_id)
        return {"people": len(self.people)}

    def set_feishu_callback(self, url: str) -> tuple[int, dict[str, Any]]:
        """Feishu checks the address at once: a url_verification it must answer."""
        if not url.startswith(("http://", "https://")):
            return 400, {"error": "Enter an http(s) address."}
        challenge = uuid.uuid4().hex
        payload = feishu_chat.url_check(challenge, token=FEISHU["verification_token"])
        body, headers = feishu_chat.callback(payload, FEISHU["encrypt_key"], signed=False)
        status, answer = _post(url, body, headers)
        if status != 200 or not isinstance(answer, dict) or answer.get("challenge") != challenge:
            return 400, {"error": f"The address did not answer the check (HTTP {status}).",
                         "answer": str(answer)[:300]}  # fmt: skip
        self.feishu_callback = url
        return 200, {"callback_url": url, "verified": True}

    # --- clicks ---------------------------------------------------------------------------------

    def click(self, form: dict[str, str]) -> tuple[str, str, bool]:
        """(the page to go back to, the toast, whether it went well)."""
        platform, user_id = form.get("platform", ""), form.get("user", "")
        where = f"/p/{quote(platform, safe='')}/{quote(user_id, safe='')}"
        if platform == "feishu":
            return (where, *self._feishu_click(form, user_id))
        if platform == "dingtalk":
            return (where, *self._ding_click(form, user_id))
        return "/", "Unknown platform.", False

    def _feishu_click(self, form: dict[str, str], user_id: str) -> tuple[str, bool]:
        message_id = form.get("message", "")
        if message_id not in self.feishu.messages:
            return "No such card.", False
        if not self.feishu_callback:
            return "No callback address is set in Feishu's console (回调配置).", False
        value = json.loads(form.get("value") or "{}")
        payload = feishu_chat.card_action(
            value, token=FEISHU["verification_token"], message_id=message_id,
            user_id=user_id, open_id=f"ou_{user_id}", union_id=f"on_{user_id}",
            form_value={"comment": form.get("comment", "")} if "comment" in form else None,
            app_id=FEISHU["app_id"],
        )  # fmt: skip
        body, headers = feishu_chat.callback(payload, FEISHU["encrypt_key"])
        status, answer = _post(self.feishu_callback, body, headers)
        if status != 200 or not isinstance(answer, dict):
            return f"Renewal Desk answered HTTP {status}: {str(answer)[:200]}", False
        card = answer.get("card")
        if (
            isinstance(card, dict)
            and card.get("type") == "raw"
            and isinstance(card.get("data"), dict)
        ):
            with self.feishu._lock:  # as Feishu: the card in the answer replaces the card
                self.feishu.messages[message_id]["card"] = card["data"]
        toast = answer.get("toast")
        toast = toast if isinstance(toast, dict) else {}
        content = str(toast.get("content") or "")
        return content, toast.get("type") == "success"

    def _ding_click(self, form: dict[str, str], user_id: str) -> tuple[str, bool]:
        out_track_id = form.get("message", "")
        card = self.ding.cards.get(out_track_id)
        if card is None:
            return "No such card.", False
        route = self.ding.routes.get(card.get("route") or DINGTALK["callback_route_key"])
        if route is None:
            return "The card's callbackRouteKey is not registered.", False
        params = {"a": form.get("action", ""), "value": card["data"].get("value", "{}"),
                  "comment": form.get("comment", "")}  # fmt: skip
        headers, body = dingtalk_chat.card_click(
            str(route["apiSecret"]), out_track_id, user_id, params
        )
        status, answer = _post(str(route["callbackUrl"]), body, headers)
        if status != 200 or not isinstance(answer, dict):
            return f"Renewal Desk answered HTTP {status}: {str(answer)[:200]}", False
        data = (answer.get("cardData") or {}).get("cardParamMap")
        if isinstance(data, dict):
            by_key = (answer.get("cardUpdateOptions") or {}).get("updateCardDataByKey") is True
            with self.ding._lock:
                card["data"] = {**card["data"], **data} if by_key else dict(data)
                card["updates"] += 1
        toast = str((data or {}).get("toast") or "") or "Sent."
        return toast, (data or {}).get("toast_ok", "true") == "true"


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    """POST a callback to Renewal Desk: (HTTP status, the JSON answer or its text)."""
    request = urllib.request.Request(  # noqa: S310 - the configured callback address
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        return 0, f"could not reach {url}: {exc}"
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.chat_standin")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda _s, _f: stopping.set())
    signal.signal(signal.SIGINT, lambda _s, _f: stopping.set())
    with ChatStandin(port=args.port, host=args.host) as standin:
        print(f"Chat platforms stand-in: {standin.url}/ (Feishu API {standin.feishu.url}, "
              f"DingTalk API {standin.ding.url})", flush=True)  # fmt: skip
        stopping.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
