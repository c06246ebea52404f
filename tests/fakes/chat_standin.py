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
import html
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
PLATFORM_NAMES = {"feishu": "Feishu 飞书", "dingtalk": "DingTalk 钉钉"}
TIMEOUT = 30.0  # a click waits for Renewal Desk's answer (in tests it delivers the next card)
COLOURS = {"blue": "#3370ff", "wathet": "#5fb3f5", "green": "#34a853", "grey": "#8f959e",
           "open": "#3370ff", "info": "#5fb3f5", "decided": "#34a853", "changed": "#8f959e"}  # fmt: skip
STYLE = """
body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;
background:#f2f3f5;color:#1f2329}main{max-width:34rem;margin:auto;padding:.8rem}
h1{font-size:1.2rem}h2{font-size:1rem;margin:1.2rem 0 .4rem}a{color:#245bdb}
.card{background:#fff;border-radius:.6rem;margin:.6rem 0;overflow:hidden;
box-shadow:0 1px 3px #0002}.head{color:#fff;padding:.6rem .8rem}.head small{display:block;opacity:.9}
.body{padding:.6rem .8rem}.row{display:flex;gap:.6rem;padding:.15rem 0}.row .l{flex:1;color:#646a73}
.row .v{flex:2}.heading{font-weight:600;font-size:1.05rem}.toast{padding:.6rem .8rem;
border-radius:.4rem;margin:.6rem 0}.ok{background:#e4f5e9}.bad{background:#fde7e7}
form{margin:.4rem 0}input[type=text]{width:100%;box-sizing:border-box;padding:.5rem;margin:.2rem 0}
button{padding:.5rem .9rem;margin:.2rem .2rem .2rem 0;border-radius:.4rem;border:1px solid #bbb;
background:#fff;font-size:1rem}button.primary{background:#3370ff;color:#fff;border-color:#3370ff}
button.danger{color:#d83931;border-color:#d83931}.todo{background:#fff;padding:.5rem .8rem;
margin:.3rem 0;border-radius:.4rem}.done{color:#34a853}.waiting{color:#de7802}.muted{color:#8f959e}
"""


def e(text: object) -> str:
    return html.escape(str(text), quote=True)


class ChatStandin:
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

    # --- pages ----------------------------------------------------------------------------------

    def _everyone(self) -> list[tuple[str, str]]:
        found = dict.fromkeys(self.people)
        with self.feishu._lock:
            found.update(
                dict.fromkeys(("feishu", m["receive_id"]) for m in self.feishu.messages.values())
            )
        with self.ding._lock:
            found.update(
                dict.fromkeys(("dingtalk", c["user_id"]) for c in self.ding.cards.values())
            )
        return sorted(found)

    def index_page(self) -> str:
        rows = []
        for platform, user_id in self._everyone():
            cards, todos = self._cards(platform, user_id), self._todos(platform, user_id)
            waiting = sum(1 for t in todos if not t["done"])
            name = self.people.get((platform, user_id), {}).get("name", "")
            rows.append(
                f'<div class="todo"><a href="/p/{platform}/{quote(user_id, safe="")}">'
                f"<b>{e(name or user_id)}</b></a> <span class=muted>{e(user_id)} · "
                f"{e(PLATFORM_NAMES[platform])}</span><br>{len(cards)} card(s), "
                f"{waiting} open to-do(s)</div>"
            )
        people = "".join(rows) or "<p class=muted>Nobody yet: run manage.py demo_chat.</p>"
        intro = ("<p>Whose phone is this? Pick a person to see the cards and to-dos their chat app "
                 "received. <a href='/'>Reload</a> when a new card is due.</p>")  # fmt: skip
        return _page("Chat platforms stand-in", intro + people)

    def person_page(self, platform: str, user_id: str, query: dict[str, str]) -> str:
        here = f"/p/{platform}/{quote(user_id, safe='')}"
        parts = [f"<p><a href='/'>← everyone</a> · <a href='{e(here)}'>Reload</a></p>"]
        if query.get("toast"):
            kind = "ok" if query.get("ok") == "1" else "bad"
            parts.append(f'<div class="toast {kind}">{e(query["toast"])}</div>')
        parts.append("<h2>Cards</h2>")
        cards = self._cards(platform, user_id)
        render = self._feishu_card if platform == "feishu" else self._ding_card
        parts.extend(render(user_id, key, card) for key, card in reversed(cards))
        if not cards:
            parts.append("<p class=muted>No card yet.</p>")
        label = "Tasks (任务)" if platform == "feishu" else "待办 (to-dos)"
        parts.append(f"<h2>{label}</h2>")
        for todo in reversed(self._todos(platform, user_id)):  # the newest first, as the cards
            state = (
                "<span class=done>✓ done</span>"
                if todo["done"]
                else "<span class=waiting>○ open</span>"
            )
            parts.append(f'<div class="todo">{state} {e(todo["title"])}</div>')
        if not self._todos(platform, user_id):
            parts.append("<p class=muted>No to-do.</p>")
        name = self.people.get((platform, user_id), {}).get("name", "")
        title = f"{name or user_id} — {PLATFORM_NAMES[platform]}"
        return _page(title, "".join(parts))

    def _cards(self, platform: str, user_id: str) -> list[tuple[str, dict[str, Any]]]:
        if platform == "feishu":
            with self.feishu._lock:
                return [(k, json.loads(json.dumps(m["card"]))) for k, m in self.feishu.messages.items()
                        if m["receive_id"] == user_id]  # fmt: skip
        with self.ding._lock:
            return [
                (k, dict(c["data"])) for k, c in self.ding.cards.items() if c["user_id"] == user_id
            ]

    def _todos(self, platform: str, user_id: str) -> list[dict[str, Any]]:
        if platform == "feishu":
            with self.feishu._lock:
                return [{"title": t.get("summary", ""), "done": str(t.get("completed_at") or "0") != "0"}
                        for t in self.feishu.tasks.values()
                        if any(m.get("id") == user_id for m in t.get("members") or [])]  # fmt: skip
        union_id = self.people.get(("dingtalk", user_id), {}).get("union_id", "")
        with self.ding._lock:
            return [{"title": t.get("subject", ""), "done": bool(t.get("done"))}
                    for t in self.ding.tasks.values() if union_id and t["owner"] == union_id]  # fmt: skip

    def _feishu_card(self, user_id: str, message_id: str, card: dict[str, Any]) -> str:
        header = card.get("header") or {}
        colour = COLOURS.get(str(header.get("template")), "#3370ff")
        head = e((header.get("title") or {}).get("content", ""))
        if header.get("subtitle"):
            head += f"<small>{e(header['subtitle'].get('content', ''))}</small>"
        hidden = {"platform": "feishu", "user": user_id, "message": message_id}
        elements = (card.get("body") or {}).get("elements") or []
        inner = "".join(_feishu_element(el, hidden) for el in elements)
        return (f'<div class="card"><div class="head" style="background:{colour}">{head}</div>'
                f'<div class="body">{inner}</div></div>')  # fmt: skip

    def _ding_card(self, user_id: str, out_track_id: str, data: dict[str, str]) -> str:
        colour = COLOURS.get(data.get("status", ""), "#3370ff")
        head = e(data.get("title", ""))
        if data.get("subtitle"):
            head += f"<small>{e(data['subtitle'])}</small>"
        inner = []
        if data.get("toast"):
            good = data.get("toast_ok", "true") == "true"
            inner.append(f'<div class="toast {"ok" if good else "bad"}">{e(data["toast"])}</div>')
        if data.get("outcome"):
            inner.append(f'<p class="heading">{e(data["outcome"])}</p>')
        try:
            fields = json.loads(data.get("fields") or "[]")
        except ValueError:
            fields = []
        for row in fields if isinstance(fields, list) else []:
            inner.append(_row(str(row.get("label", "")), str(row.get("value", ""))))
        if data.get("text"):
            inner.append(f"<p>{e(data['text']).replace(chr(10), '<br>')}</p>")
        buttons = [(a, data.get(f"{a}_label") or a) for a in ("approve", "return", "reject")
                   if data.get(f"show_{a}") == "true"]  # fmt: skip
        if buttons:
            fields_html = _hidden(
                {"platform": "dingtalk", "user": user_id, "message": out_track_id}
            )
            if data.get("show_comment") == "true":
                fields_html += (f'<input type="text" name="comment" '
                                f'placeholder="{e(data.get("comment_label", ""))}">')  # fmt: skip
            styles = {"approve": "primary", "reject": "danger"}
            fields_html += "".join(
                f'<button class="{styles.get(a, "")}" name="action" value="{e(a)}">{e(label)}</button>'
                for a, label in buttons
            )
            inner.append(f'<form method="post" action="/click">{fields_html}</form>')
        if data.get("show_link") == "true" and data.get("url"):
            inner.append(
                f'<p><a href="{e(data["url"])}">{e(data.get("link_label") or "↗")}</a></p>'
            )
        return (f'<div class="card"><div class="head" style="background:{colour}">{head}</div>'
                f'<div class="body">{"".join(inner)}</div></div>')  # fmt: skip


# --- rendering Feishu's card JSON 2.0 ---------------------------------------------------------


def _text(node: object) -> str:
    return str(node.get("content", "")) if isinstance(node, dict) else ""


def _row(label: str, value: str) -> str:
    return (
        f'<div class="row"><span class="l">{e(label)}</span><span class="v">{e(value)}</span></div>'
    )


def _hidden(fields: dict[str, str]) -> str:
    return "".join(f'<input type="hidden" name="{e(k)}" value="{e(v)}">' for k, v in fields.items())


def _feishu_button(button: dict[str, Any], hidden: dict[str, str], extra: str = "") -> str:
    label = e(_text(button.get("text")))
    style = e(button.get("type", ""))
    for behaviour in button.get("behaviors") or []:
        if behaviour.get("type") == "open_url":
            return f'<p><a href="{e(behaviour.get("default_url", ""))}">{label}</a></p>'
        if behaviour.get("type") == "callback":
            value = behaviour.get("value") or {}
            fields = {**hidden, "value": json.dumps(value, ensure_ascii=False)}
            action = e(value.get("a", "")) if isinstance(value, dict) else ""
            return (f'<form method="post" action="/click">{_hidden(fields)}{extra}'
                    f'<button class="{style}" name="action" value="{action}">{label}</button></form>')  # fmt: skip
    return f"<button disabled>{label}</button>"


def _feishu_element(el: dict[str, Any], hidden: dict[str, str]) -> str:
    tag = el.get("tag")
    if tag in ("div", "markdown"):
        content = _text(el.get("text")) if tag == "div" else str(el.get("content", ""))
        heading = (el.get("text") or {}).get("text_size") == "heading" if tag == "div" else False
        return (
            f'<p class="{"heading" if heading else ""}">{e(content).replace(chr(10), "<br>")}</p>'
        )
    if tag == "column_set":
        texts = [" ".join(_text(x.get("text")) for x in col.get("elements") or [])
                 for col in el.get("columns") or []]  # fmt: skip
        if len(texts) == 2:
            return _row(*texts)
        return "".join(f"<p>{e(t)}</p>" for t in texts)
    if tag == "button":
        return _feishu_button(el, hidden)
    if tag == "form":  # an input and its submit button: one form
        inputs = [x for x in el.get("elements") or [] if x.get("tag") == "input"]
        extra = "".join(
            f'<input type="text" name="{e(x.get("name", "comment"))}" '
            f'placeholder="{e(_text(x.get("placeholder")))}"{" required" if x.get("required") else ""}>'
            for x in inputs
        )
        buttons = [x for x in el.get("elements") or [] if x.get("tag") == "button"]
        return "".join(_feishu_button(b, hidden, extra) for b in buttons)
    return ""


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{e(title)}</h1>{body}</main></body></html>"
    )


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
