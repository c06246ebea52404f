"""WeCom approval cards (#21): the adapter against a fake qyapi.weixin.qq.com
(tests/fakes/wecom_chat.py), its click parser against callbacks sealed from the documentation
(tests/fakes/errcode_http.py), the documented worked example (90968), and, where installed,
``wechatpy``'s own WeCom crypto (``wechatpy.enterprise.crypto.WeChatCrypto``)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography.fernet import Fernet
from defusedxml import ElementTree
from django.http import HttpRequest
from django.test import RequestFactory

from integrations.chat.models import ChatApp
from integrations.chat.platform import (
    Button,
    CallbackRefused,
    Card,
    Challenge,
    Click,
    Ignored,
    RateLimited,
    Refused,
    Retry,
    Sent,
    Unsupported,
)
from integrations.chat.platforms import platform_for, wecom
from integrations.directory import msgcrypt
from tests.fakes.wecom_chat import FakeWeComChat, callback, card_event, url_check

TOKEN = "fakeWeComCallbackToken"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aQ"
AGENT = 1000002
P = wecom.PLATFORM
REASONS = (("price", "价格过高"), ("seats", "席位过多"))


@pytest.fixture(autouse=True)
def _keys(settings: Any) -> None:
    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]


@pytest.fixture
def fake() -> Iterator[FakeWeComChat]:
    with FakeWeComChat(agent_id=AGENT) as server:
        server.add_user("WangLei", "王磊")
        yield server


def make_app(base_url: str, corp_id: str, secret: str, **config: Any) -> ChatApp:
    wecom._tokens.clear()
    app = ChatApp.objects.create(
        name=f"WeCom {time.monotonic_ns()}", kind="wecom", base_url=base_url,
        config={"corp_id": corp_id, "agent_id": AGENT, **config},
    )  # fmt: skip
    app.set_secrets({"secret": secret, "token": TOKEN, "encoding_aes_key": AES_KEY})
    app.save()
    return app


@pytest.fixture
def app(fake: FakeWeComChat) -> ChatApp:
    return make_app(fake.base_url, fake.corp_id, fake.corp_secret)


def make_card(**overrides: Any) -> Card:
    values: dict[str, Any] = {
        "key": "rd-812-s2-r1-wanglei", "recipient_id": "WangLei", "language": "zh-hans",
        "title": "续费审批：Figma 企业版", "subtitle": "第 2 步 · 部门负责人",
        "fields": tuple((f"项{i}", f"值{i}") for i in range(1, 9)),
        "text": "闲置 6 席，可省 ¥12,960",
        "buttons": (
            Button("approve", "批准", style="primary"), Button("return", "退回"),
            Button("reject", "拒绝", style="danger"),
            Button("link", "查看", url="https://rd.example/r/812"),
        ),
        "reasons": REASONS, "comment_label": "原因", "url": "https://rd.example/r/812",
        "value": {"c": 812, "n": "nonce-AbC_123"},
    }  # fmt: skip
    values.update(overrides)
    return Card(**values)


def post(app: ChatApp, query: dict[str, str], body: bytes) -> HttpRequest:
    path = f"/integrations/chat/{app.pk}/callback/?{urlencode(query)}"
    return RequestFactory().post(path, data=body, content_type="text/xml")


def sent_card(fake: FakeWeComChat) -> dict[str, Any]:
    card: dict[str, Any] = fake.api_calls("/cgi-bin/message/send")[-1][3]["template_card"]
    return card


def keys_of(card: dict[str, Any]) -> dict[str, str]:
    return {b["text"]: b["key"] for b in card["button_list"] if b.get("type") == 0}


def test_module_shape() -> None:
    assert platform_for("wecom") is P and P.kind == "wecom"
    assert [s.key for s in wecom.SETTINGS] == [
        "corp_id", "agent_id", "secret", "token", "encoding_aes_key"]  # fmt: skip
    agent = wecom.SETTINGS[1]
    assert (agent.kind, agent.max_value, agent.required) == ("int", 2**31 - 1, True)
    assert [s.key for s in wecom.SETTINGS if s.secret] == ["secret", "token", "encoding_aes_key"]
    assert wecom.DEFAULT_BASE_URL == "https://qyapi.weixin.qq.com"


# --- send -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_send_builds_the_documented_button_card(app: ChatApp, fake: FakeWeComChat) -> None:
    card = make_card()
    sent = P.send(app, card)
    _m, _p, query, body = fake.api_calls("/cgi-bin/message/send")[0]
    assert query["access_token"].startswith("token-")
    assert (body["touser"], body["msgtype"], body["agentid"]) == ("WangLei", "template_card", AGENT)
    assert isinstance(body["agentid"], int)
    tc = body["template_card"]
    assert tc["card_type"] == "button_interaction" and tc["task_id"] == card.key
    assert tc["source"] == {"desc": "Renewal Desk", "desc_color": 0}
    assert tc["main_title"] == {"title": card.title, "desc": card.subtitle}
    assert tc["horizontal_content_list"] == [
        {"keyname": f"项{i}", "value": f"值{i}"} for i in range(1, 7)
    ]
    assert tc["sub_title_text"] == "闲置 6 席，可省 ¥12,960\n项7: 值7\n项8: 值8"
    assert tc["card_action"] == {"type": 1, "url": "https://rd.example/r/812"}
    assert [(b["text"], b["style"], b["type"]) for b in tc["button_list"]] == [
        ("批准", 1, 0), ("退回", 2, 0), ("拒绝", 3, 0), ("查看", 2, 1)]  # fmt: skip
    assert tc["button_list"][3]["url"] == "https://rd.example/r/812"
    for text, action in (("批准", "approve"), ("退回", "return"), ("拒绝", "reject")):
        key = keys_of(tc)[text]
        assert len(key.encode()) <= 1024 and re.fullmatch(r"[A-Za-z0-9_\-@]+", key)
        assert wecom.parse_button_key(key) == (
            action,
            {"c": 812, "n": "nonce-AbC_123", "a": action},
        )
    selection = tc["button_selection"]
    assert selection["question_key"] == "reason" and selection["title"] == "原因"
    assert selection["selected_id"] == "none" == selection["option_list"][0]["id"]
    options = selection["option_list"][1:]
    assert [o["text"] for o in options] == ["价格过高", "席位过多"]
    assert [wecom.option_label(o["id"]) for o in options] == ["价格过高", "席位过多"]
    assert all(len(o["id"].encode()) <= 128 for o in options)
    assert sent == Sent(message_id=card.key, response_code=sent.response_code)
    assert fake.codes[sent.response_code] == card.key  # the code WeCom issued for this task


@pytest.mark.django_db
def test_send_limits_and_keys(app: ChatApp, fake: FakeWeComChat) -> None:
    many = tuple((f"r{i}", "很长的原因" * 12 + str(i)) for i in range(12))
    card = make_card(key="rd.812:s2/wanglei", reasons=many)
    sent = P.send(app, card)
    tc = sent_card(fake)
    assert re.fullmatch(r"k-[0-9a-f]{40}", tc["task_id"]) and sent.message_id == tc["task_id"]
    assert wecom.task_id(card.key) == tc["task_id"]  # the same key, the same task_id
    options = tc["button_selection"]["option_list"]
    assert len(options) == 10 and all(len(o["id"].encode()) <= 128 for o in options)
    assert "很长的原因" * 2 in wecom.option_label(options[1]["id"])
    # The same key again: WeCom refuses the task_id, no second card.
    with pytest.raises(Refused):
        P.send(app, card)
    assert len(fake.tasks) == 1


@pytest.mark.django_db
def test_send_a_notice_is_a_text_notice(app: ChatApp, fake: FakeWeComChat) -> None:
    card = make_card(state="info", buttons=(Button("link", "打开", url="https://rd.example/x"),))
    P.send(app, card)
    tc = sent_card(fake)
    assert tc["card_type"] == "text_notice" and "button_list" not in tc
    assert tc["jump_list"] == [{"type": 1, "title": "打开", "url": "https://rd.example/x"}]


@pytest.mark.django_db
def test_token_is_cached_and_fetched_again_once_expired(app: ChatApp, fake: FakeWeComChat) -> None:
    P.send(app, make_card(key="k1"))
    P.send(app, make_card(key="k2"))
    assert fake.token_requests == 1
    fake.expire_tokens()  # WeCom revoked it early: 42001, a new token, the call again
    P.send(app, make_card(key="k3"))
    assert fake.token_requests == 2
    sends = fake.api_calls("/cgi-bin/message/send")
    assert [c[3]["template_card"]["task_id"] for c in sends] == ["k1", "k2", "k3", "k3"]
    assert sends[2][2]["access_token"] != sends[3][2]["access_token"]
    app.save()  # the app's settings changed: its token is asked again
    P.send(app, make_card(key="k4"))
    assert fake.token_requests == 3


@pytest.mark.django_db
def test_failures_are_mapped(app: ChatApp, fake: FakeWeComChat) -> None:
    fake.rate_limited = 1
    with pytest.raises(RateLimited) as limited:
        P.send(app, make_card(key="a1"))
    assert limited.value.seconds == 60 and "45009" in str(limited.value)
    fake.system_busy = 1
    with pytest.raises(Retry, match="-1"):
        P.send(app, make_card(key="a2"))
    fake.down = True
    with pytest.raises(Retry, match="503"):
        P.send(app, make_card(key="a3"))
    fake.down = False
    with pytest.raises(Refused, match="81013") as refused:
        P.send(app, make_card(key="a4", recipient_id="nobody"))
    assert "token-" not in str(refused.value)
    P.send(app, make_card(key="a5"))  # and all is well again
    assert list(fake.tasks) == ["a5"]


@pytest.mark.django_db
def test_unreachable_is_retry_and_bad_secret_is_refused(fake: FakeWeComChat) -> None:
    gone = make_app("http://127.0.0.1:9", fake.corp_id, fake.corp_secret)
    with pytest.raises(Retry):
        P.send(gone, make_card())
    wrong = make_app(fake.base_url, fake.corp_id, "wrong-secret-value")
    with pytest.raises(Refused, match="40001") as refused:
        P.send(wrong, make_card())
    assert "wrong-secret-value" not in str(refused.value)
    assert fake.api_calls("/cgi-bin/message/send") == []


# --- update and to-dos ------------------------------------------------------------------------


@pytest.mark.django_db
def test_update_replaces_the_card_with_the_outcome(app: ChatApp, fake: FakeWeComChat) -> None:
    sent = P.send(app, make_card())
    decided = make_card(state="decided", outcome="已由 王磊 于 14:02 批准")
    P.update(app, sent, decided)
    _m, _p, _q, body = fake.api_calls("/cgi-bin/message/update_template_card")[0]
    assert body["userids"] == ["WangLei"] and body["agentid"] == AGENT
    assert body["response_code"] == sent.response_code
    tc = body["template_card"]
    assert tc["card_type"] == "text_notice"
    assert tc["main_title"] == {"title": decided.title, "desc": "已由 王磊 于 14:02 批准"}
    assert tc["card_action"] == {"type": 1, "url": "https://rd.example/r/812"}
    assert "button_list" not in tc and "button_selection" not in tc and "task_id" not in tc
    assert tc["sub_title_text"].startswith("第 2 步 · 部门负责人\n")
    with pytest.raises(Refused):  # a response_code works once
        P.update(app, sent, decided)
    with pytest.raises(Refused):
        P.update(app, Sent(message_id=sent.message_id), decided)


@pytest.mark.django_db
def test_todos_are_unsupported(app: ChatApp) -> None:
    with pytest.raises(Unsupported):
        P.open_todo(app, make_card())
    with pytest.raises(Unsupported):
        P.close_todo(app, "x", make_card())


# --- callbacks --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_click_round_trip(app: ChatApp, fake: FakeWeComChat) -> None:
    card = make_card()
    sent = P.send(app, card)
    tc = sent_card(fake)
    reason = tc["button_selection"]["option_list"][2]["id"]
    xml = card_event(fake, corp_id=fake.corp_id, user="WangLei", task_id=sent.message_id,
                     event_key=keys_of(tc)["拒绝"], options=(reason,), created=1700000000)  # fmt: skip
    query, body = callback(xml, token=TOKEN, aes_key=AES_KEY, corp_id=fake.corp_id)
    click = P.parse_callback(app, post(app, query, body), body)
    assert isinstance(click, Click)
    assert click.event_id == f"WangLei:1700000000:{card.key}:r"
    assert click.user_ids == ("WangLei", "wanglei") and click.message_id == card.key
    assert click.action == "reject" and click.value == {**card.value, "a": "reject"}
    assert click.comment == "席位过多"
    assert click.response_code in fake.codes
    response = P.click_response(app, click, card, "已拒绝", True)
    assert (response.status_code, response.content) == (200, b"")
    # The click's own code updates the card (the core does this after the click).
    P.update(app, Sent(sent.message_id, click.response_code), make_card(state="decided"))
    assert len(fake.tasks[card.key]["updates"]) == 1


@pytest.mark.django_db
def test_comments_only_for_return_and_reject(app: ChatApp, fake: FakeWeComChat) -> None:
    key = wecom.button_key("approve", {"c": 1, "n": "x"})
    reason = wecom.option_id(1, "价格过高")
    cases = ((key, (reason,), "approve", ""),
             (wecom.button_key("return", {"c": 1, "n": "x"}), ("none",), "return", ""),
             (wecom.button_key("return", {"c": 1, "n": "x"}), (reason,), "return", "价格过高"))  # fmt: skip
    for event_key, options, action, comment in cases:
        xml = card_event(None, corp_id=fake.corp_id, user="u1", task_id="t1", event_key=event_key,
                         options=options)  # fmt: skip
        query, body = callback(xml, token=TOKEN, aes_key=AES_KEY, corp_id=fake.corp_id)
        click = P.parse_callback(app, post(app, query, body), body)
        assert isinstance(click, Click) and (click.action, click.comment) == (action, comment)


@pytest.mark.django_db
def test_other_events_are_ignored(app: ChatApp, fake: FakeWeComChat) -> None:
    enter = (f"<xml><ToUserName><![CDATA[{fake.corp_id}]]></ToUserName><FromUserName>u1"
             "</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType>"
             f"<Event>enter_agent</Event><AgentID>{AGENT}</AgentID></xml>")  # fmt: skip
    foreign = card_event(None, corp_id=fake.corp_id, user="u1", task_id="t", event_key="other")
    for xml in (enter, foreign):
        query, body = callback(xml, token=TOKEN, aes_key=AES_KEY, corp_id=fake.corp_id)
        result = P.parse_callback(app, post(app, query, body), body)
        assert isinstance(result, Ignored)
        assert (result.response.status_code, result.response.content) == (200, b"")


@pytest.mark.django_db
def test_url_check(app: ChatApp, fake: FakeWeComChat) -> None:
    query = url_check("echo-12345", token=TOKEN, aes_key=AES_KEY, corp_id=fake.corp_id)
    request = RequestFactory().get(f"/integrations/chat/{app.pk}/callback/", query)
    result = P.parse_callback(app, request, b"")
    assert isinstance(result, Challenge) and result.response.content == b"echo-12345"
    query["msg_signature"] = "0" * 40
    request = RequestFactory().get(f"/integrations/chat/{app.pk}/callback/", query)
    with pytest.raises(CallbackRefused) as refused:
        P.parse_callback(app, request, b"")
    assert refused.value.status == 401


@pytest.mark.django_db
def test_the_documented_worked_example(monkeypatch: pytest.MonkeyPatch) -> None:
    """90968's example (token QDG6eK, corp wx5823bf96d3bd56c7), answered at its own time."""
    doc = make_app("http://127.0.0.1:9", "wx5823bf96d3bd56c7", "s")
    doc.set_secrets({"secret": "s", "token": "QDG6eK",
                     "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"})  # fmt: skip
    doc.save()
    monkeypatch.setattr(msgcrypt, "time", SimpleNamespace(time=lambda: 1409659589.0))
    query = {"msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
             "timestamp": "1409659589", "nonce": "263014780",
             "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE"
                        "7OaBO+FZXvnaqQ=="}  # fmt: skip
    result = P.parse_callback(doc, RequestFactory().get("/cb/", query), b"")
    assert isinstance(result, Challenge) and result.response.content == b"1616140317555161061"


@pytest.mark.django_db
def test_wechatpy_built_callbacks_are_accepted(app: ChatApp, fake: FakeWeComChat) -> None:
    from wechatpy.enterprise import crypto  # a test dependency (pyproject.toml)

    theirs = crypto.WeChatCrypto(TOKEN, AES_KEY, fake.corp_id)
    key = wecom.button_key("return", {"c": 9, "n": "n9"})
    xml = card_event(None, corp_id=fake.corp_id, user="WangLei", task_id="rd-9",
                     event_key=key, options=(wecom.option_id(2, "席位过多"),))  # fmt: skip
    timestamp, nonce = str(int(time.time())), "wxnonce1"
    sealed = ElementTree.fromstring(theirs.encrypt_message(xml, nonce, timestamp))
    encrypt = sealed.findtext("Encrypt")
    body = (f"<xml><ToUserName><![CDATA[{fake.corp_id}]]></ToUserName><AgentID>{AGENT}</AgentID>"
            f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>").encode()  # fmt: skip
    query = {"msg_signature": sealed.findtext("MsgSignature"), "timestamp": timestamp,
             "nonce": nonce}  # fmt: skip
    click = P.parse_callback(app, post(app, query, body), body)
    assert isinstance(click, Click)
    assert (click.action, click.value, click.comment) == (
        "return",
        {"c": 9, "n": "n9", "a": "return"},
        "席位过多",
    )
    # And wechatpy reads the envelope our fake builds (both sides agree on the scheme).
    query, body = callback(xml, token=TOKEN, aes_key=AES_KEY, corp_id=fake.corp_id)
    plain = theirs.decrypt_message(body, query["msg_signature"], query["timestamp"], query["nonce"])
    assert plain.decode() == xml if isinstance(plain, bytes) else plain == xml


BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b"<xml><Encrypt>&lol3;</Encrypt></xml>"
)


@pytest.mark.django_db
def test_refusals(app: ChatApp, fake: FakeWeComChat) -> None:
    corp = fake.corp_id
    event = card_event(None, corp_id=corp, user="u1", task_id="t1",
                       event_key=wecom.button_key("approve", {"c": 1, "n": "x"}))  # fmt: skip

    def status(query: dict[str, str], body: bytes) -> int:
        with pytest.raises(CallbackRefused) as refused:
            P.parse_callback(app, post(app, query, body), body)
        return refused.value.status

    good_query, good_body = callback(event, token=TOKEN, aes_key=AES_KEY, corp_id=corp)
    assert isinstance(P.parse_callback(app, post(app, good_query, good_body), good_body), Click)
    assert status({**good_query, "msg_signature": "f" * 40}, good_body) == 401
    assert status(*callback(event, token="other-token", aes_key=AES_KEY, corp_id=corp)) == 401
    stale = str(int(time.time()) - 600)
    assert status(*callback(event, token=TOKEN, aes_key=AES_KEY, corp_id=corp,
                            timestamp=stale)) == 401  # fmt: skip
    assert status(*callback(event, token=TOKEN, aes_key=AES_KEY, corp_id=corp,
                            receive_id="wwanothercorp")) == 400  # fmt: skip
    other_corp = event.replace(corp, "wwanothercorp")
    assert status(*callback(other_corp, token=TOKEN, aes_key=AES_KEY, corp_id=corp)) == 403
    wrong_agent = event.replace(f"<AgentID>{AGENT}</AgentID>", "<AgentID>1000099</AgentID>")
    assert status(*callback(wrong_agent, token=TOKEN, aes_key=AES_KEY, corp_id=corp)) == 403
    assert status(*callback(event, token=TOKEN, aes_key=AES_KEY, corp_id=corp,
                            agent_id=1000099)) == 403  # fmt: skip
    assert status(good_query, b"<xml><Encrypt>") == 400
    assert status(good_query, b"<xml><ToUserName>x</ToUserName></xml>") == 400
    assert status(good_query, BOMB) == 400
    # A bomb inside a correctly signed and sealed message is refused as well.
    assert status(*callback(BOMB, token=TOKEN, aes_key=AES_KEY, corp_id=corp)) == 400
    app.set_secrets({"encoding_aes_key": "not-43-characters"})  # not set up for callbacks
    app.save()
    assert status(good_query, good_body) == 403
