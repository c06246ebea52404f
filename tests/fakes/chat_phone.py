"""The stand-in's "phone" pages (tests/fakes/chat_standin.py): the people who got cards, and
each person's Feishu and DingTalk cards and to-dos as the fakes hold them, drawn as plain HTML
(escaped, no JavaScript) with forms for the cards' buttons."""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import quote

PLATFORM_NAMES = {"feishu": "Feishu 飞书", "dingtalk": "DingTalk 钉钉"}
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


class PhonePages:
    """The pages of ``ChatStandin`` (which holds ``feishu`` and ``ding``, the two fakes, and ``people``)."""

    feishu: Any
    ding: Any
    people: Any

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
