"""DingTalk approval cards (#21): the adapter against a fake api.dingtalk.com
(tests/fakes/dingtalk_chat.py), its click parser against callbacks signed with DingTalk's
published code, and both checked against the official ``dingtalk_stream`` SDK's own code."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

import dingtalk_stream
import pytest
from cryptography.fernet import Fernet
from dingtalk_stream import card_replier
from dingtalk_stream import stream as sdk_stream
from django.test import RequestFactory

from integrations.chat.models import ChatApp
from integrations.chat.platform import (
    Button,
    CallbackRefused,
    Card,
    Click,
    Ignored,
    RateLimited,
    Refused,
    Retry,
    Sent,
)
from integrations.chat.platforms import dingtalk, platform_for
from tests.fakes.dingtalk_chat import FakeDingTalkChat, calc_signature, card_click

SECRET = "cb-secret-0123456789"
ROUTE = "renewal-desk-test"
TEMPLATE = "abcd-1234.schema"
P = dingtalk.PLATFORM


@pytest.fixture(autouse=True)
def _keys(settings: Any) -> None:
    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]


@pytest.fixture
def fake() -> Iterator[FakeDingTalkChat]:
    with FakeDingTalkChat() as server:
        server.users.add("manager1234")
        server.routes[ROUTE] = {"callbackUrl": "https://rd.example/cb", "apiSecret": SECRET}
        yield server


@pytest.fixture
def app(fake: FakeDingTalkChat) -> ChatApp:
    dingtalk._tokens.clear()
    chat_app = ChatApp.objects.create(
        name="DingTalk", kind="dingtalk", base_url=fake.url,
        config={"app_key": fake.app_key, "card_template_id": TEMPLATE, "callback_route_key": ROUTE},
    )  # fmt: skip
    chat_app.set_secrets({"app_secret": fake.app_secret, "callback_secret": SECRET})
    chat_app.save()
    return chat_app


def make_card(**overrides: Any) -> Card:
    values: dict[str, Any] = {
        "key": "rd-step-812-user-45-r2", "recipient_id": "manager1234",
        "other_ids": {"unionId": "union-manager1234"}, "language": "zh-hans",
        "title": "Adobe CC 续费", "subtitle": "58,000 CNY · T2",
        "fields": (("金额", "58,000 CNY"), ("预算", "IT 2026")), "text": "请审批。",
        "buttons": (Button("approve", "同意", style="primary"), Button("return", "退回"),
                    Button("reject", "拒绝", style="danger"),
                    Button("link", "打开", url="https://rd.example/r/812")),
        "comment_label": "意见", "url": "https://rd.example/r/812",
        "value": {"c": 812, "n": "nonce-abc"}, "todo_title": "审批：Adobe CC 续费",
    }  # fmt: skip
    values.update(overrides)
    return Card(**values)


def test_module_contract() -> None:
    assert platform_for("dingtalk") is P and P.kind == "dingtalk"
    assert dingtalk.DEFAULT_BASE_URL == "https://api.dingtalk.com"
    assert [(s.key, s.secret, s.required) for s in dingtalk.SETTINGS] == [
        ("app_key", False, True), ("card_template_id", False, True), ("mode", False, False),
        ("callback_route_key", False, False), ("app_secret", True, True),
        ("callback_secret", True, False),
    ]  # fmt: skip
    # The route key and callback secret are required in HTTP mode only (services asks the hook).
    base = {"app_key", "card_template_id", "app_secret"}
    assert dingtalk.required_settings({"mode": "stream"}) == base
    assert dingtalk.required_settings({}) == base | {"callback_route_key", "callback_secret"}


# --- sending and updating --------------------------------------------------------------------


@pytest.mark.django_db
def test_send_creates_and_delivers_one_card(fake: FakeDingTalkChat, app: ChatApp) -> None:
    card = make_card()
    assert P.send(app, card) == Sent(message_id=card.key)
    [call] = fake.api_calls("/v1.0/card/instances/createAndDeliver")
    method, _, _, token, body = call
    assert method == "POST" and token in fake.tokens
    assert body["cardTemplateId"] == TEMPLATE and body["outTrackId"] == card.key
    assert (body["callbackType"], body["callbackRouteKey"]) == ("HTTP", ROUTE)
    assert body["openSpaceId"] == "dtv1.card//IM_ROBOT.manager1234"
    assert body["imRobotOpenDeliverModel"] == {"spaceType": "IM_ROBOT", "robotCode": fake.app_key}
    assert body["userIdType"] == 1 and body["imRobotOpenSpaceModel"]["supportForward"] is False
    params = body["cardData"]["cardParamMap"]
    assert all(isinstance(v, str) for v in params.values())
    assert params["title"] == "Adobe CC 续费" and params["status"] == "open"
    assert json.loads(params["fields"]) == [
        {"label": "金额", "value": "58,000 CNY"}, {"label": "预算", "value": "IT 2026"}]  # fmt: skip
    assert json.loads(params["value"]) == {"c": 812, "n": "nonce-abc"}
    assert (params["show_approve"], params["show_return"], params["show_reject"]) == ("true",) * 3
    assert (params["approve_label"], params["reject_label"], params["comment_label"]) == (
        "同意",
        "拒绝",
        "意见",
    )
    assert params["show_comment"] == "true" and params["url"] == "https://rd.example/r/812"
    assert fake.cards[card.key]["user_id"] == "manager1234"
    # The same key again: DingTalk says the card exists; still one card, and "sent".
    assert P.send(app, card) == Sent(message_id=card.key)
    assert (
        len(fake.cards) == 1 and len(fake.api_calls("/v1.0/card/instances/createAndDeliver")) == 2
    )


@pytest.mark.django_db
def test_update_shows_the_outcome_without_buttons(fake: FakeDingTalkChat, app: ChatApp) -> None:
    card = make_card()
    sent = P.send(app, card)
    done = make_card(state="decided", outcome="王磊 已同意 14:02")
    P.update(app, sent, done)
    [(method, _, _, _, body)] = fake.api_calls("/v1.0/card/instances")[1:]
    assert method == "PUT" and body["outTrackId"] == card.key
    assert body["cardUpdateOptions"] == {"updateCardDataByKey": True}
    data = fake.cards[card.key]["data"]
    assert (data["status"], data["outcome"]) == ("decided", "王磊 已同意 14:02")
    assert (
        data["show_approve"],
        data["show_return"],
        data["show_reject"],
        data["show_comment"],
    ) == ("false",) * 4
    assert data["show_link"] == "true" and data["url"] == "https://rd.example/r/812"


@pytest.mark.django_db
def test_long_fields_fit_in_one_kilobyte(fake: FakeDingTalkChat, app: ChatApp) -> None:
    card = make_card(
        fields=tuple((f"字段{i}", "很长的值" * 10) for i in range(30)), text="长" * 2000
    )
    P.send(app, card)  # the fake refuses any value over 1 KB
    params = fake.cards[card.key]["data"]
    rows = json.loads(params["fields"])
    assert 0 < len(rows) < 30 and rows[-1]["label"] == "…"
    assert len(params["text"].encode()) <= 1024 and params["text"].endswith("…")


@pytest.mark.django_db
def test_token_is_cached_and_fetched_again_once_on_401(
    fake: FakeDingTalkChat, app: ChatApp
) -> None:
    P.send(app, make_card(key="k1"))
    P.send(app, make_card(key="k2"))
    assert fake.token_requests == 1
    fake.expire_tokens()
    P.send(app, make_card(key="k3"))
    assert fake.token_requests == 2 and "k3" in fake.cards
    [token_call] = [c for c in fake.calls if c[1] == "/v1.0/oauth2/accessToken"][:1]
    assert token_call[4] == {"appKey": fake.app_key, "appSecret": fake.app_secret}


@pytest.mark.django_db
def test_wrong_app_secret_is_refused_without_the_secret(
    fake: FakeDingTalkChat, app: ChatApp
) -> None:
    app.set_secrets({"app_secret": "wrong-secret-value"})
    app.save()
    with pytest.raises(Refused) as err:
        P.send(app, make_card())
    assert "invalidClientIdOrSecret" in str(err.value) and "wrong-secret-value" not in str(
        err.value
    )


@pytest.mark.django_db
def test_failures_are_mapped(fake: FakeDingTalkChat, app: ChatApp) -> None:
    fake.rate_limited = 1
    with pytest.raises(RateLimited) as limited:
        P.send(app, make_card())
    assert limited.value.seconds == 1.0 and "QpsLimitForAppkeyAndApi" in str(limited.value)
    fake.quota_exhausted = True
    with pytest.raises(Refused) as quota:
        P.send(app, make_card())
    assert "ApiCountLimitForOrg" in str(quota.value) and not isinstance(quota.value, RateLimited)
    fake.quota_exhausted, fake.busy = False, 1
    with pytest.raises(Retry, match="system.busy"):
        P.send(app, make_card())
    fake.down = True
    with pytest.raises(Retry):
        P.send(app, make_card())
    fake.down = False
    with pytest.raises(Refused, match="param.userIdNotExist"):
        P.send(app, make_card(recipient_id="nobody"))
    with pytest.raises(Refused, match="param.cardNotExist"):
        P.update(app, Sent("never-sent"), make_card(key="never-sent"))
    fake.fail_delivery = "SYSTEM_ERROR"
    with pytest.raises(Refused, match="SYSTEM_ERROR"):
        P.send(app, make_card(key="undeliverable"))


@pytest.mark.django_db
def test_unreachable_platform_is_retried(app: ChatApp) -> None:
    app.base_url = "http://127.0.0.1:9"  # discard port: nothing listens
    app.save()
    with pytest.raises(Retry):
        P.send(app, make_card())


# --- to-dos and the callback route -------------------------------------------------------------


@pytest.mark.django_db
def test_todo_opened_and_closed_with_the_union_id(fake: FakeDingTalkChat, app: ChatApp) -> None:
    due = dt.datetime(2026, 9, 1, 10, 0, tzinfo=dt.UTC)
    card = make_card(due=due)
    task_id = P.open_todo(app, card)
    [(method, path, query, _, body)] = fake.api_calls("/v1.0/todo/")
    assert (method, path, query) == ("POST", "/v1.0/todo/users/union-manager1234/tasks",
                                     {"operatorId": "union-manager1234"})  # fmt: skip
    assert body["sourceId"] == card.key and body["subject"] == "审批：Adobe CC 续费"
    assert body["executorIds"] == ["union-manager1234"]
    assert body["detailUrl"] == {
        "appUrl": "https://rd.example/r/812",
        "pcUrl": "https://rd.example/r/812",
    }
    assert body["dueTime"] == 1788256800000
    assert fake.tasks[task_id]["done"] is False
    P.close_todo(app, task_id, card)
    method, path, query, _, body = fake.api_calls("/v1.0/todo/")[-1]
    assert (method, path, query, body) == (
        "PUT", f"/v1.0/todo/users/union-manager1234/tasks/{task_id}",
        {"operatorId": "union-manager1234"}, {"done": True})  # fmt: skip
    assert fake.tasks[task_id]["done"] is True
    with pytest.raises(Refused, match="task exist"):
        P.open_todo(app, card)  # the sourceId is DingTalk's idempotency key


@pytest.mark.django_db
def test_todo_without_union_id_is_refused_before_any_call(
    fake: FakeDingTalkChat, app: ChatApp
) -> None:
    with pytest.raises(Refused, match="unionId"):
        P.open_todo(app, make_card(other_ids={}))
    assert fake.calls == []


@pytest.mark.django_db
def test_register_callback(fake: FakeDingTalkChat, app: ChatApp) -> None:
    dingtalk.register_callback(app, "https://rd.example/integrations/chat/7/callback/")
    [(_, _, _, _, body)] = fake.api_calls("/v1.0/card/callbacks/register")
    assert body == {"callbackRouteKey": ROUTE, "callbackUrl": "https://rd.example/integrations/chat/7/callback/",
                    "apiSecret": SECRET, "forceUpdate": True}  # fmt: skip
    assert fake.routes[ROUTE]["callbackUrl"].endswith("/chat/7/callback/")


# --- clicks ------------------------------------------------------------------------------------


def _request(headers: dict[str, str], body: bytes) -> Any:
    return RequestFactory().post(
        "/integrations/chat/1/callback/",
        data=body,
        content_type="application/json",
        headers=headers,
    )


def _click_params(action: str = "return", comment: str = "预算不足") -> dict[str, Any]:
    return {"a": action, "value": json.dumps({"c": 812, "n": "nonce-abc"}), "comment": comment}


@pytest.mark.django_db
def test_signed_click_is_read(app: ChatApp) -> None:
    headers, body = card_click(SECRET, "rd-step-812-user-45-r2", "manager1234", _click_params())
    click = P.parse_callback(app, _request(headers, body), body)
    assert isinstance(click, Click)
    assert (click.action, click.comment, click.message_id) == (
        "return",
        "预算不足",
        "rd-step-812-user-45-r2",
    )
    assert click.user_ids == ("manager1234",)
    assert click.value == {"c": 812, "n": "nonce-abc", "a": "return"}
    assert len(click.event_id) == 64
    # The official SDK reads the same body the same way.
    sdk = dingtalk_stream.CardCallbackMessage.from_dict(json.loads(body))
    assert (sdk.card_instance_id, sdk.user_id) == (click.message_id, click.user_ids[0])
    sdk_params = sdk.content["cardPrivateData"]["params"]
    assert (sdk_params["a"], sdk_params["comment"]) == (click.action, click.comment)
    assert {**json.loads(sdk_params["value"]), "a": sdk_params["a"]} == click.value


@pytest.mark.django_db
def test_our_signature_is_dingtalks(app: ChatApp) -> None:
    ts = 1595925864847
    assert dingtalk.calc_signature(SECRET, str(ts)) == calc_signature(SECRET, ts)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "case", ["wrong", "missing", "stale", "future", "other secret", "not a number"]
)
def test_bad_signatures_are_refused(app: ChatApp, case: str) -> None:
    now = int(time.time() * 1000)
    stamp = {"stale": now - 301_000, "future": now + 301_000}.get(case)
    secret = "another-secret" if case == "other secret" else SECRET
    headers, body = card_click(secret, "k", "manager1234", _click_params(), timestamp=stamp)
    if case == "wrong":
        # A signature of another moment than the header's (never the header's own).
        signed_at = int(headers["x-ddpaas-signature-timestamp"]) + 1
        headers["x-ddpaas-signature"] = calc_signature(SECRET, signed_at)
    elif case == "missing":
        headers.pop("x-ddpaas-signature")
    elif case == "not a number":
        headers["x-ddpaas-signature-timestamp"] = "12ab"
    with pytest.raises(CallbackRefused) as err:
        P.parse_callback(app, _request(headers, body), body)
    assert err.value.status == 401


@pytest.mark.django_db
def test_a_signed_stale_click_is_refused_even_with_a_good_body(app: ChatApp) -> None:
    stamp = int(time.time() * 1000) - 600_000
    headers, body = card_click(SECRET, "k", "manager1234", _click_params(), timestamp=stamp)
    with pytest.raises(CallbackRefused, match="too old"):
        P.parse_callback(app, _request(headers, body), body)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b"not json",
        lambda b: json.dumps({**json.loads(b), "content": "{broken"}).encode(),
        lambda b: json.dumps(
            {**json.loads(b), "content": json.dumps({"cardPrivateData": {}})}
        ).encode(),
        lambda b: json.dumps({**json.loads(b), "outTrackId": ""}).encode(),
        lambda b: json.dumps({**json.loads(b), "userId": None}).encode(),
    ],
)
def test_malformed_clicks_are_400(app: ChatApp, mutate: Any) -> None:
    headers, body = card_click(SECRET, "k", "manager1234", _click_params())
    body = mutate(body)
    with pytest.raises(CallbackRefused) as err:
        P.parse_callback(app, _request(headers, body), body)
    assert err.value.status == 400


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{"a": "delete", "value": "{}"}, {"a": "approve", "value": "[1]"},
                                    {"a": "approve", "value": "{oops"}])  # fmt: skip
def test_bad_button_params_are_400(app: ChatApp, params: dict[str, Any]) -> None:
    headers, body = card_click(SECRET, "k", "manager1234", params)
    with pytest.raises(CallbackRefused) as err:
        P.parse_callback(app, _request(headers, body), body)
    assert err.value.status == 400


@pytest.mark.django_db
def test_other_callback_types_are_ignored(app: ChatApp) -> None:
    headers, body = card_click(SECRET, "k", "manager1234", _click_params())
    body = json.dumps({**json.loads(body), "type": "dynamicDataCallback"}).encode()
    assert isinstance(P.parse_callback(app, _request(headers, body), body), Ignored)


@pytest.mark.django_db
def test_click_response_shows_the_card_as_it_now_is(app: ChatApp) -> None:
    headers, body = card_click(SECRET, "k", "manager1234", _click_params("approve", ""))
    click = P.parse_callback(app, _request(headers, body), body)
    assert isinstance(click, Click)
    card = make_card(state="decided", outcome="你已同意")
    answer = json.loads(P.click_response(app, click, card, "已提交", True).content)
    assert answer["cardUpdateOptions"] == {"updateCardDataByKey": True}
    params = answer["cardData"]["cardParamMap"]
    assert all(isinstance(v, str) for v in params.values())
    assert (params["toast"], params["toast_ok"], params["outcome"]) == (
        "已提交",
        "true",
        "你已同意",
    )
    assert params["show_approve"] == "false"
    assert json.loads(P.click_response(app, click, None, "不是你的卡片", False).content) == {}


# --- the official SDK's requests against the fake --------------------------------------------------


@pytest.mark.django_db
def test_sdk_card_requests_are_accepted_by_the_fake(
    fake: FakeDingTalkChat, app: ChatApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CardReplier's own createAndDeliver / put_card_data (DINGTALK_OPENAPI_ENDPOINT is read at
    import time, so the modules' copies are pointed at the fake) pass the fake's checks, and use
    the field names ours uses."""
    monkeypatch.setattr(card_replier, "DINGTALK_OPENAPI_ENDPOINT", fake.url)
    monkeypatch.setattr(sdk_stream, "DINGTALK_OPENAPI_ENDPOINT", fake.url)
    client = dingtalk_stream.DingTalkStreamClient(
        dingtalk_stream.Credential(fake.app_key, fake.app_secret)
    )
    message = dingtalk_stream.ChatbotMessage()
    message.conversation_type, message.sender_staff_id, message.sender_id = "1", "manager1234", "x"
    replier = dingtalk_stream.CardReplier(client, message)
    sdk_id = replier.create_and_deliver_card(
        TEMPLATE, {"title": "SDK card"}, callback_type="HTTP", callback_route_key=ROUTE,
        imRobotOpenDeliverModel={"spaceType": "IM_ROBOT", "robotCode": fake.app_key}, userIdType=1,
    )  # fmt: skip
    assert fake.cards[sdk_id]["data"] == {"title": "SDK card"}
    replier.put_card_data(
        sdk_id, {"status": "decided"}, cardUpdateOptions={"updateCardDataByKey": True}
    )
    assert fake.cards[sdk_id]["data"] == {"title": "SDK card", "status": "decided"}
    P.send(app, make_card())
    sdk_body, our_body = (c[4] for c in fake.api_calls("/v1.0/card/instances/createAndDeliver"))
    shared = (
        "cardTemplateId",
        "callbackType",
        "callbackRouteKey",
        "openSpaceId",
        "imRobotOpenDeliverModel",
        "userIdType",
    )
    assert {k: sdk_body[k] for k in shared} == {k: our_body[k] for k in shared}
