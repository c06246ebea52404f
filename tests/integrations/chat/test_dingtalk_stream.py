"""DingTalk card clicks over Stream mode (#21: "a DingTalk app … or Stream mode"): no inbound
port. A stream-mode app is saved without a route key or callback secret and sends its cards with
callbackType STREAM; clicks arrive as Stream frames, built the documented way and read by the
SDK's own ``CallbackMessage.from_dict``, and are answered through the SDK's ``raw_process`` (our
handler's ``process`` runs the ORM in a thread, so these tests commit: ``transaction=True``).

An approve decides the step "via dingtalk" and the ack carries the card showing the outcome; the
same messageId again is a replay (one decision); an unknown card, a wrong nonce, another person
or a stranger is refused with only a toast and changes nothing; malformed data is acknowledged
without a decision."""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
from typing import Any

import dingtalk_stream
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation

from budgets.models import LedgerEntry
from integrations.chat import services as chat_services
from integrations.chat.models import ChatApp, ChatCard, ChatClick, ChatIdentity
from integrations.chat.platforms import dingtalk
from integrations.management.commands.chat_stream import CardClickHandler
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.requests import RequestEvent
from tests.conftest import Cast
from tests.fakes.dingtalk_chat import FakeDingTalkChat
from tests.integrations.chat.conftest import (
    card_of,
    deliver,
    ding_click,
    fake_calls,
    fund,
    snapshot,
    submit,
)

STEP = ApprovalStep.Status
TOPIC = dingtalk_stream.CallbackHandler.TOPIC_CARD_CALLBACK
OK = dingtalk_stream.AckMessage.STATUS_OK
NAME = "钉钉 Stream"


def stream_app(fake: FakeDingTalkChat, name: str = NAME) -> ChatApp:
    """Saved the way the page and ``chat_app add`` save it: no route key, no callback secret."""
    dingtalk._tokens.clear()
    return chat_services.chat_app_save(
        app=None, kind="dingtalk", name=name, base_url=fake.url,
        config={"app_key": fake.app_key, "card_template_id": "rd-approval.schema",
                "mode": "stream"},
        secrets={"app_secret": fake.app_secret},
    )  # fmt: skip


@pytest.fixture
def ready(
    cast: Cast, ding: FakeDingTalkChat, django_capture_on_commit_callbacks: Any
) -> dict[str, Any]:
    """A 20,000 CNY request (one step: the head of A, "head-d" on DingTalk, reads English) whose
    card went out through a stream-mode app; finance ("fin-1") is mapped on the app too."""
    fund(cast)
    app = stream_app(ding)
    ChatIdentity.objects.create(
        app=app, user=cast.head_a, platform_id="head-d", other_ids={"unionId": "u-head"}
    )
    ChatIdentity.objects.create(
        app=app, user=cast.finance, platform_id="fin-1", other_ids={"unionId": "u-fin"}
    )
    ding.users |= {"head-d", "fin-1"}
    request = submit(cast, "20000", capture=django_capture_on_commit_callbacks)
    deliver()
    card = card_of(app, cast.head_a)
    assert card.message_id and card.state == ChatCard.State.OPEN
    return {"request": request, "card": card, "app": app, "fake": ding,
            "handler": CardClickHandler(app.pk)}  # fmt: skip


def frame(
    out_track_id: str, user_id: str, params: dict[str, Any], *, message_id: str = "",
    data: str | None = None, topic: str = TOPIC,
) -> dict[str, Any]:  # fmt: skip
    """A Stream CALLBACK frame as DingTalk pushes it; its data is the click body, made by the
    SDK's own ``CardCallbackMessage.to_dict``."""
    click = dingtalk_stream.CardCallbackMessage()
    click.corp_id, click.user_id, click.card_instance_id = "dingfakecorp0001", user_id, out_track_id
    click.content = {"cardPrivateData": {"actionIds": ["btn"], "params": params}}
    return {
        "specVersion": "1.0",
        "type": "CALLBACK",
        "headers": {
            "appId": "fake-app",
            "connectionId": "fake-connection",
            "contentType": "application/json",
            "messageId": message_id or uuid.uuid4().hex,
            "time": str(int(time.time() * 1000)),
            "topic": topic,
        },  # fmt: skip
        "data": json.dumps(click.to_dict()) if data is None else data,
    }


def params(card: ChatCard, action: str = "approve", **value: Any) -> dict[str, Any]:
    carried = {"c": card.pk, "n": card.nonce, **value}
    return {"a": action, "value": json.dumps(carried), "comment": ""}


def ack(handler: CardClickHandler, raw: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """(code, response) of the ack the SDK sends back for ``raw``, as it goes on the wire."""
    message = dingtalk_stream.CallbackMessage.from_dict(raw)
    sent = asyncio.run(handler.raw_process(message)).to_dict()
    assert sent["headers"]["messageId"] == raw["headers"]["messageId"]
    return sent["code"], json.loads(sent["data"])["response"]


def only_toast(response: dict[str, Any]) -> bool:
    shown = response["cardData"]["cardParamMap"]
    return (
        set(shown) == {"toast", "toast_ok"}
        and bool(shown["toast"])
        and not json.loads(shown["toast_ok"])
    )


@pytest.mark.django_db(transaction=True)
def test_an_approve_over_stream_decides_once(cast: Cast, ready: dict[str, Any]) -> None:
    request, card, handler = ready["request"], ready["card"], ready["handler"]
    approve = frame(card.message_id, "head-d", params(card), message_id="msg-approve-1")

    code, response = ack(handler, approve)

    assert code == OK
    shown = response["cardData"]["cardParamMap"]
    assert response["cardUpdateOptions"] == {"updateCardDataByKey": True}
    assert shown["outcome"].startswith("Approved by") and shown["status"] == "decided"
    assert (shown["toast"], shown["toast_ok"], shown["show_approve"]) == (
        "Approved.", "true", "false")  # fmt: skip
    step = request.steps.get()
    assert (step.status, step.decided_by, step.via) == (STEP.APPROVED, cast.head_a, "dingtalk")
    assert list(ChatClick.objects.values_list("event_id", "outcome")) == [
        ("msg-approve-1", "decided")
    ]
    # The same message again (DingTalk redelivering it, or a replay): one decision.
    code, response = ack(handler, approve)
    assert code == OK and only_toast(response)
    assert ChatClick.objects.get(event_id="msg-approve-1").outcome == "decided"
    kinds = ["approved", "rejected", "returned"]
    assert RequestEvent.objects.filter(request=request, kind__in=kinds).count() == 1
    assert LedgerEntry.objects.filter(kind="commitment").count() == 1
    # The card is then updated in place (and the to-do closed) by the delivery, as for HTTP.
    deliver()
    sent = ready["fake"].cards[card.message_id]
    assert sent["data"]["outcome"].startswith("Approved by") and sent["updates"] == 1
    assert all(task["done"] for task in ready["fake"].tasks.values())


@pytest.mark.django_db(transaction=True)
def test_stream_clicks_not_for_this_card_and_person_change_nothing(
    cast: Cast, ready: dict[str, Any]
) -> None:
    request, card, handler = ready["request"], ready["card"], ready["handler"]
    before, calls = snapshot(request), fake_calls(ready["fake"])
    refused = {
        "unknown card": (card.message_id, "head-d", params(card, c=card.pk + 1000), "not_ours"),
        "wrong nonce": (card.message_id, "head-d", params(card, n="0" * 32), "not_ours"),
        "another card id": ("rd-someone-else", "head-d", params(card), "not_ours"),
        "another person": (card.message_id, "fin-1", params(card), "forged"),
        "a stranger": (card.message_id, "nobody-9", params(card), "unknown_user"),
    }
    for name, (out_track_id, user_id, carried, outcome) in refused.items():
        code, response = ack(handler, frame(out_track_id, user_id, carried, message_id=name))
        assert code == OK and only_toast(response), name
        assert ChatClick.objects.get(event_id=name).outcome == outcome, name
    deliver()
    assert snapshot(request) == before
    assert fake_calls(ready["fake"]) == calls
    assert request.steps.get().status == STEP.PENDING
    # None of them used the card up: its own recipient still decides.
    code, response = ack(handler, frame(card.message_id, "head-d", params(card, "reject")))
    assert code == OK and response["cardData"]["cardParamMap"]["toast_ok"] == "false"
    assert "Say why" in response["cardData"]["cardParamMap"]["toast"]  # reject needs a comment
    code, response = ack(handler, frame(card.message_id, "head-d", params(card)))
    assert code == OK and response["cardData"]["cardParamMap"]["toast_ok"] == "true"
    assert request.steps.get().status == STEP.APPROVED


@pytest.mark.django_db(transaction=True)
def test_malformed_stream_messages_are_acknowledged_without_a_decision(
    ready: dict[str, Any],
) -> None:
    request, card, handler = ready["request"], ready["card"], ready["handler"]
    before = snapshot(request)
    good = json.loads(frame(card.message_id, "head-d", params(card))["data"])
    bad_data = {
        "not an object": json.dumps(["outTrackId"]),
        "no card": json.dumps({**good, "outTrackId": ""}),
        "no person": json.dumps({k: v for k, v in good.items() if k != "userId"}),
        "content not JSON": json.dumps({**good, "content": "{not json"}),
        "no params": json.dumps({**good, "content": json.dumps({"cardPrivateData": {}})}),
        "not a decision": json.dumps({**good, "content": json.dumps(
            {"cardPrivateData": {"params": {"a": "link", "value": "{}"}}})}),
        "value not JSON": json.dumps({**good, "content": json.dumps(
            {"cardPrivateData": {"params": {"a": "approve", "value": "{c"}}})}),
        "another kind of callback": json.dumps({**good, "type": "somethingElse"}),
    }  # fmt: skip
    for name, data in bad_data.items():
        code, response = ack(handler, frame("x", "y", {}, message_id=name, data=data))
        assert (code, response) == (OK, {}), name
    code, response = ack(handler, frame(card.message_id, "head-d", params(card), topic="/other"))
    assert (code, response) == (OK, {})
    assert not ChatClick.objects.exists()
    assert snapshot(request) == before


@pytest.mark.django_db
def test_a_stream_app_needs_no_route_or_callback_secret_and_sends_stream_cards(
    cast: Cast, ding: FakeDingTalkChat, django_capture_on_commit_callbacks: Any
) -> None:
    fund(cast)
    app = stream_app(ding)
    assert app.config["mode"] == "stream" and "callback_route_key" not in app.config
    assert not app.secrets.get("callback_secret")
    ChatIdentity.objects.create(
        app=app, user=cast.head_a, platform_id="head-d", other_ids={"unionId": "u-head"}
    )
    ding.users.add("head-d")
    submit(cast, "20000", capture=django_capture_on_commit_callbacks)
    deliver()
    card = card_of(app, cast.head_a)
    (body,) = [c[4] for c in ding.api_calls("/v1.0/card/instances/createAndDeliver")]
    assert body["callbackType"] == "STREAM" and "callbackRouteKey" not in body
    assert ding.cards[card.message_id]["callback_type"] == "STREAM" and not ding.routes
    # The HTTP callback address takes no click for it: there is no secret to check one by.
    response = ding_click(Client(), app, card, "approve")
    assert response.status_code == 403
    assert card_of(app, cast.head_a).state == ChatCard.State.OPEN
    # An HTTP-mode app still needs both (the test client's request left another language on).
    with translation.override("en"), pytest.raises(ValidationError, match="route key.*secret"):
        chat_services.chat_app_save(
            app=None, kind="dingtalk", name="钉钉 HTTP", base_url=ding.url,
            config={"app_key": ding.app_key, "card_template_id": "t.schema", "mode": "http"},
            secrets={"app_secret": ding.app_secret},
        )  # fmt: skip


@pytest.mark.django_db
def test_the_commands_for_a_stream_app(
    ding: FakeDingTalkChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``chat_app add`` asks for no callback secret and registers nothing; ``chat_stream``
    gives the SDK's client the app's credentials and our handler on the card topic (the
    connection to DingTalk's cloud itself is not made here)."""
    monkeypatch.setenv("CHAT_APP_APP_SECRET", ding.app_secret)
    monkeypatch.setattr("getpass.getpass", lambda prompt: pytest.fail(f"asked for {prompt}"))
    out = io.StringIO()
    call_command("chat_app", "add", "dingtalk", "--name", NAME, "--url", ding.url,
                 "--set", f"app_key={ding.app_key}", "--set", "card_template_id=t.schema",
                 "--set", "mode=stream", stdout=out)  # fmt: skip
    assert "chat_stream --app" in out.getvalue() and "/callback/" not in out.getvalue()
    with pytest.raises(CommandError, match="mode must be one of http, stream"):
        call_command("chat_app", "add", "dingtalk", "--name", "x", "--set", "mode=Stream")
    out = io.StringIO()
    call_command("chat_app", "register-callback", NAME, stdout=out)
    assert "no callback address to register" in out.getvalue()
    assert not ding.api_calls("/v1.0/card/callbacks/register")
    out = io.StringIO()
    call_command("chat_app", "list", stdout=out)
    assert "Stream mode (no callback to register)" in out.getvalue()

    started: list[dingtalk_stream.DingTalkStreamClient] = []
    monkeypatch.setattr(
        dingtalk_stream.DingTalkStreamClient, "start_forever", lambda client: started.append(client)
    )
    with pytest.raises(CommandError, match="No DingTalk chat app"):
        call_command("chat_stream", app="nope")
    call_command("chat_stream", app=NAME, stdout=io.StringIO())
    (client,) = started
    assert (client.credential.client_id, client.credential.client_secret) == (
        ding.app_key, ding.app_secret)  # fmt: skip
    handler = client.callback_handler_map[TOPIC]
    assert isinstance(handler, CardClickHandler)
    assert handler.app_id == ChatApp.objects.get(name=NAME).pk
    ChatApp.objects.filter(name=NAME).update(config={"app_key": ding.app_key, "mode": "http"})
    with pytest.raises(CommandError, match="set its mode to Stream"):
        call_command("chat_stream", app=NAME)
