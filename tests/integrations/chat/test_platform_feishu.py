"""The Feishu approval cards (#21): send / update / task calls against a fake open platform
(tests/fakes/feishu_chat.py), and the click callback checked against the official SDK's own
verification (lark_oapi's EventDispatcherHandler)."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
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
)
from integrations.chat.platforms import feishu, platform_for
from tests.fakes import feishu_chat
from tests.fakes.feishu_chat import FakeFeishuChat

ENCRYPT_KEY = "fake-encrypt-key"
TOKEN = "fake-verification-token"
URL = "https://desk.example/requests/7"
DUE = dt.datetime(2027, 1, 15, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def secrets_key(settings: Any) -> None:
    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]


@pytest.fixture(autouse=True)
def no_tokens() -> Iterator[None]:
    feishu._TOKENS.clear()
    yield
    feishu._TOKENS.clear()


@pytest.fixture
def fake() -> Iterator[FakeFeishuChat]:
    with FakeFeishuChat() as server:
        yield server


def make_app(fake: FakeFeishuChat, *, app_secret: str | None = None) -> ChatApp:
    app = ChatApp.objects.create(
        name="Feishu", kind="feishu", base_url=fake.url, config={"app_id": fake.app_id}
    )
    app.set_secrets(
        {
            "app_secret": fake.app_secret if app_secret is None else app_secret,
            "verification_token": TOKEN,
            "encrypt_key": ENCRYPT_KEY,
        }
    )
    app.save()
    return app


def make_card(**changes: Any) -> Card:
    values: dict[str, Any] = {
        "key": "card-7-u1-r1",
        "recipient_id": "u1",
        "language": "zh-hans",
        "title": "审批：Figma 续费",
        "subtitle": "¥12,000 / 年",
        "fields": (("供应商", "Figma"), ("金额", "¥12,000")),
        "text": "请在周五前决定。",
        "buttons": (
            Button("approve", "同意", style="primary"),
            Button("return", "退回"),
            Button("reject", "拒绝", style="danger"),
            Button("link", "打开", url=URL),
        ),
        "comment_label": "请写明原因",
        "url": URL,
        "value": {"c": 7, "n": "nonce-1"},
        "todo_title": "审批 Figma 续费",
        "due": DUE,
    }
    return Card(**{**values, **changes})


def walk(element: Any) -> Iterator[dict[str, Any]]:
    """Every component of a card, nested ones too."""
    if isinstance(element, dict):
        if "tag" in element:
            yield element
        for child in element.values():
            yield from walk(child)
    elif isinstance(element, list):
        for child in element:
            yield from walk(child)


def texts(card: dict[str, Any]) -> list[str]:
    return [e["content"] for e in walk(card) if e.get("tag") == "plain_text"]


# --- calls ------------------------------------------------------------------------------------


def test_the_module_is_the_feishu_platform() -> None:
    assert platform_for("feishu") is feishu.PLATFORM and feishu.PLATFORM.kind == "feishu"
    assert [s.key for s in feishu.SETTINGS] == [
        "app_id",
        "app_secret",
        "verification_token",
        "encrypt_key",
    ]
    assert [s.secret for s in feishu.SETTINGS] == [False, True, True, True]


@pytest.mark.django_db
def test_send_posts_an_interactive_card_once_per_key(fake: FakeFeishuChat) -> None:
    app = make_app(fake)
    sent = feishu.PLATFORM.send(app, make_card())
    assert sent.message_id in fake.messages
    (call,) = [c for c in fake.calls if c[1] == "/open-apis/im/v1/messages"]
    _method, _path, query, body = call
    assert query == {"receive_id_type": "user_id"}
    assert body["receive_id"] == "u1" and body["msg_type"] == "interactive"
    assert body["uuid"] == "card-7-u1-r1"
    assert isinstance(body["content"], str)
    card = json.loads(body["content"])
    assert card["schema"] == "2.0" and card["config"]["update_multi"] is True
    assert card["header"]["title"]["content"] == "审批：Figma 续费"
    assert card["header"]["subtitle"]["content"] == "¥12,000 / 年"
    assert {"供应商", "Figma", "金额", "¥12,000", "请在周五前决定。"} <= set(texts(card))

    buttons = {e["text"]["content"]: e for e in walk(card) if e["tag"] == "button"}
    assert buttons["同意"]["type"] == "primary"
    assert buttons["同意"]["behaviors"] == [
        {"type": "callback", "value": {"c": 7, "n": "nonce-1", "a": "approve"}}
    ]
    assert buttons["打开"]["behaviors"] == [{"type": "open_url", "default_url": URL}]
    forms = [e for e in card["body"]["elements"] if e["tag"] == "form"]
    assert [f["name"] for f in forms] == ["form_return", "form_reject"]
    for form, action in zip(forms, ("return", "reject"), strict=True):
        field, submit = form["elements"]
        assert field["tag"] == "input" and field["name"] == "comment" and field["required"]
        assert field["placeholder"]["content"] == "请写明原因"
        assert submit["form_action_type"] == "submit"
        assert submit["behaviors"][0]["value"] == {"c": 7, "n": "nonce-1", "a": action}

    again = feishu.PLATFORM.send(app, make_card())  # the same key: Feishu's uuid de-duplicates
    assert again == sent and len(fake.messages) == 1


@pytest.mark.django_db
def test_update_patches_the_card_to_show_the_outcome(fake: FakeFeishuChat) -> None:
    app = make_app(fake)
    sent = feishu.PLATFORM.send(app, make_card())
    decided = make_card(state="decided", outcome="王磊 14:02 已同意")
    feishu.PLATFORM.update(app, sent, decided)
    (body,) = fake.bodies("PATCH", f"/open-apis/im/v1/messages/{sent.message_id}")
    assert set(body) == {"content"} and isinstance(body["content"], str)
    card = fake.messages[sent.message_id]["card"]
    assert card == json.loads(body["content"])
    assert card["config"]["update_multi"] is True
    assert card["body"]["elements"][0]["text"]["content"] == "王磊 14:02 已同意"
    with pytest.raises(Refused, match="230001"):
        feishu.PLATFORM.update(app, Sent(message_id="om_unknown"), decided)


def test_a_decided_card_has_no_decision_buttons_and_shows_the_outcome() -> None:
    for state in ("decided", "changed"):
        card = feishu.card_json(make_card(state=state, outcome="已由王磊同意"))
        components = list(walk(card))
        assert not [e for e in components if e["tag"] in ("form", "input")]
        assert not [e for e in components if "callback" in json.dumps(e.get("behaviors", []))]
        assert card["body"]["elements"][0]["text"]["content"] == "已由王磊同意"
        (link,) = [e for e in components if e["tag"] == "button"]
        assert link["behaviors"] == [{"type": "open_url", "default_url": URL}]
    # no link button of its own: one to the card's page is added
    card = feishu.card_json(make_card(state="decided", outcome="done", buttons=()))
    (link,) = [e for e in walk(card) if e["tag"] == "button"]
    assert link["behaviors"][0]["default_url"] == URL


@pytest.mark.django_db
def test_a_task_is_opened_once_and_completed(fake: FakeFeishuChat) -> None:
    app = make_app(fake)
    card = make_card()
    guid = feishu.PLATFORM.open_todo(app, card)
    (_m, _p, query, body), *_ = [c for c in fake.calls if c[1] == "/open-apis/task/v2/tasks"]
    assert query == {"user_id_type": "user_id"}
    assert body["summary"] == "审批 Figma 续费" and body["client_token"] == "card-7-u1-r1"
    assert body["members"] == [{"id": "u1", "type": "user", "role": "assignee"}]
    assert URL in body["description"]
    assert body["due"] == {"timestamp": "1800007200000", "is_all_day": False}
    assert feishu.PLATFORM.open_todo(app, card) == guid and len(fake.tasks) == 1

    before = int(time.time() * 1000)
    feishu.PLATFORM.close_todo(app, guid, card)
    (patch,) = fake.bodies("PATCH", f"/open-apis/task/v2/tasks/{guid}")
    assert patch["update_fields"] == ["completed_at"]
    assert before <= int(patch["task"]["completed_at"]) <= int(time.time() * 1000)
    assert fake.tasks[guid]["completed_at"] == patch["task"]["completed_at"]
    assert [c[2] for c in fake.calls if c[0] == "PATCH"] == [{"user_id_type": "user_id"}]


@pytest.mark.django_db
def test_the_token_is_kept_and_fetched_anew_once_feishu_expires_it(fake: FakeFeishuChat) -> None:
    app = make_app(fake)
    feishu.PLATFORM.send(app, make_card(key="k-1"))
    feishu.PLATFORM.send(app, make_card(key="k-2"))
    assert fake.token_requests == 1
    fake.expire_tokens()
    feishu.PLATFORM.send(app, make_card(key="k-3"))
    assert fake.token_requests == 2 and len(fake.messages) == 3
    # the refused call, then the same call with the new token
    assert [b["uuid"] for b in fake.bodies("POST", "/open-apis/im/v1/messages")][-2:] == [
        "k-3",
        "k-3",
    ]
    app.save()  # changed settings (updated_at): a token of their own
    feishu.PLATFORM.send(app, make_card(key="k-4"))
    assert fake.token_requests == 3


@pytest.mark.django_db
def test_rate_limited_down_and_refused(fake: FakeFeishuChat) -> None:
    app = make_app(fake)
    fake.rate_limited = 1
    with pytest.raises(RateLimited) as limited:
        feishu.PLATFORM.send(app, make_card())
    assert limited.value.seconds == 7.0
    assert feishu.PLATFORM.send(app, make_card()).message_id  # the limit has passed

    fake.down = True
    with pytest.raises(Retry, match="503"):
        feishu.PLATFORM.open_todo(app, make_card())
    fake.down = False

    fake.users = {"someone-else"}
    with pytest.raises(Refused, match="230013"):
        feishu.PLATFORM.send(app, make_card(key="k-other"))


@pytest.mark.django_db
def test_bad_credentials_are_refused_without_the_secret(fake: FakeFeishuChat) -> None:
    app = make_app(fake, app_secret="wrong-secret-value")
    with pytest.raises(Refused) as refused:
        feishu.PLATFORM.send(app, make_card())
    assert "10014" in str(refused.value) and "wrong-secret-value" not in str(refused.value)
    assert not fake.messages


@pytest.mark.django_db
def test_an_unreachable_feishu_is_retried(fake: FakeFeishuChat) -> None:
    app = make_app(fake)
    fake.stop()
    with pytest.raises(Retry):
        feishu.PLATFORM.send(app, make_card())


# --- callbacks, checked against the SDK -------------------------------------------------------


def request(body: bytes, headers: dict[str, str]) -> HttpRequest:
    return RequestFactory().post(
        "/integrations/chat/1/callback/",
        data=body,
        content_type="application/json",
        headers=headers,
    )


def sdk_accepts(body: bytes, headers: dict[str, str]) -> tuple[bool, dict[str, Any]]:
    """What the official SDK makes of the callback: accepted, and its answer."""
    from lark_oapi.core.model import RawRequest
    from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTriggerResponse
    from lark_oapi.event.dispatcher_handler import EventDispatcherHandler

    handler = (
        EventDispatcherHandler.builder(ENCRYPT_KEY, TOKEN)
        .register_p2_card_action_trigger(lambda _data: P2CardActionTriggerResponse({}))
        .build()
    )
    raw = RawRequest()
    raw.uri, raw.body, raw.headers = "/", body, headers
    response = handler.do(raw)
    return response.status_code == 200, json.loads(response.content or b"{}")


def ours(app: ChatApp, body: bytes, headers: dict[str, str]) -> Challenge | Ignored | Click | int:
    try:
        return feishu.PLATFORM.parse_callback(app, request(body, headers), body)
    except CallbackRefused as refused:
        return refused.status


@pytest.mark.django_db
def test_callbacks_are_accepted_exactly_as_the_sdk_accepts_them(fake: FakeFeishuChat) -> None:
    from lark_oapi.core.utils import AESCipher

    app = make_app(fake)
    encrypted = feishu_chat.encrypt("飞书 ✓", ENCRYPT_KEY)
    assert AESCipher(ENCRYPT_KEY).decrypt_str(encrypted) == "飞书 ✓"  # the fake's encryption

    value = {"c": 7, "n": "nonce-1", "a": "return"}
    click = feishu_chat.card_action(
        value, token=TOKEN, message_id="om_7", form_value={"comment": " 价格太高 "}, event_id="ev1"
    )
    good = feishu_chat.callback(click, ENCRYPT_KEY)
    body, headers = good
    bad_signature = (body, {**headers, "X-Lark-Signature": "0" * 64})
    wrong_token = feishu_chat.callback(
        {**click, "header": {**click["header"], "token": "x"}}, ENCRYPT_KEY
    )
    challenge = feishu_chat.callback(feishu_chat.url_check("ch-1", token=TOKEN), ENCRYPT_KEY)
    bad_challenge = feishu_chat.callback(feishu_chat.url_check("ch-2", token="x"), ENCRYPT_KEY)
    cases = {
        "good": (good, True),
        "wrong signature": (bad_signature, False),
        "wrong verification token": (wrong_token, False),
        "challenge": (challenge, True),
        "challenge with a wrong token": (bad_challenge, False),
    }
    for name, ((case_body, case_headers), accepted) in cases.items():
        sdk, _answer = sdk_accepts(case_body, case_headers)
        result = ours(app, case_body, case_headers)
        assert sdk is accepted, name
        assert (not isinstance(result, int)) is accepted, (name, result)

    assert ours(app, *bad_signature) == 401
    assert ours(app, *wrong_token) == 403
    assert ours(app, *bad_challenge) == 403
    answered = ours(app, *challenge)
    assert isinstance(answered, Challenge)
    assert (
        json.loads(answered.response.content) == sdk_accepts(*challenge)[1] == {"challenge": "ch-1"}
    )

    result = ours(app, body, headers)
    assert result == Click(
        event_id="ev1",
        user_ids=("u1", "ou_u1", "on_u1"),
        message_id="om_7",
        action="return",
        value=value,
        comment="价格太高",
        raw=result.raw if isinstance(result, Click) else {},
    )
    assert isinstance(result, Click) and result.raw["token"].startswith("c-")


@pytest.mark.django_db
def test_stale_undecryptable_and_unknown_callbacks_are_refused(fake: FakeFeishuChat) -> None:
    app = make_app(fake)
    click = feishu_chat.card_action({"c": 7, "n": "x", "a": "approve"}, token=TOKEN)
    stale = feishu_chat.callback(click, ENCRYPT_KEY, timestamp=int(time.time()) - 301)
    assert sdk_accepts(*stale)[0]  # the SDK has no time window: ours
    assert ours(app, *stale) == 401
    assert (
        ours(app, *feishu_chat.callback(click, ENCRYPT_KEY, timestamp=int(time.time()) + 301))
        == 401
    )
    assert ours(app, *feishu_chat.callback(click, ENCRYPT_KEY, signed=False)) == 401

    other_key = feishu_chat.callback(
        click, ENCRYPT_KEY, body_key="another-key"
    )  # signed, unreadable
    assert ours(app, *other_key) == 400
    for garbage in (b"not json", b'{"encrypt": "bm90IGFlcw=="}', b"[]"):
        stamp, nonce = str(int(time.time())), "n-1"
        signed = {
            "X-Lark-Request-Timestamp": stamp,
            "X-Lark-Request-Nonce": nonce,
            "X-Lark-Signature": feishu_chat.sign(stamp, nonce, ENCRYPT_KEY, garbage),
        }
        assert ours(app, garbage, signed) == 400, garbage

    unknown = feishu_chat.card_action({"c": 7, "a": "delete"}, token=TOKEN)
    assert ours(app, *feishu_chat.callback(unknown, ENCRYPT_KEY)) == 400
    elsewhere = feishu_chat.card_action({"c": 7, "a": "approve"}, token=TOKEN, app_id="cli_other")
    assert ours(app, *feishu_chat.callback(elsewhere, ENCRYPT_KEY)) == 403

    other_event = {**click, "header": {**click["header"], "event_type": "im.message.receive_v1"}}
    ignored = ours(app, *feishu_chat.callback(other_event, ENCRYPT_KEY))
    assert isinstance(ignored, Ignored)
    assert ignored.response.status_code == 200
    assert json.loads(ignored.response.content) == {"msg": "success"}


@pytest.mark.django_db
def test_the_click_response_shows_a_toast_and_the_card(fake: FakeFeishuChat) -> None:
    app = make_app(fake)
    click = Click(event_id="e", user_ids=("u1",), message_id="om_7", action="approve", value={})
    card = make_card(state="decided", outcome="已同意")
    response = feishu.PLATFORM.click_response(app, click, card, "已同意", True)
    answer = json.loads(response.content)
    assert response.status_code == 200
    assert answer["toast"] == {"type": "success", "content": "已同意"}
    assert answer["card"] == {"type": "raw", "data": feishu.card_json(card)}
    refused = json.loads(feishu.PLATFORM.click_response(app, click, None, "已过期", False).content)
    assert refused == {"toast": {"type": "error", "content": "已过期"}}
