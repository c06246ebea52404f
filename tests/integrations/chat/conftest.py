"""What the chat apps' tests share: the Feishu and DingTalk fakes (one server each per test),
apps pointed at them with the head of department A on Feishu and finance on DingTalk, a funded
department, a request submitted at an amount, and clicks posted to our callback the way each
platform signs them."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from budgets import services as budget_services
from integrations.chat import outbox
from integrations.chat.models import ChatApp, ChatCard, ChatIdentity
from integrations.chat.platforms import dingtalk
from integrations.chat.platforms import wecom as wecom_platform
from renewals.requests import services
from renewals.requests.models.requests import RenewalRequest
from tests.conftest import Cast
from tests.fakes import dingtalk_chat, feishu_chat, wecom_chat

FEISHU_SECRETS = {
    "app_secret": "fake-app-secret",
    "verification_token": "vt-123",
    "encrypt_key": "ek-456",
}
DINGTALK_SECRET = "cb-secret-789"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def feishu() -> Iterator[feishu_chat.FakeFeishuChat]:
    with feishu_chat.FakeFeishuChat() as fake:
        yield fake


@pytest.fixture
def ding() -> Iterator[dingtalk_chat.FakeDingTalkChat]:
    with dingtalk_chat.FakeDingTalkChat() as fake:
        yield fake


def feishu_app(fake: feishu_chat.FakeFeishuChat, name: str = "飞书审批") -> ChatApp:
    app = ChatApp(name=name, kind="feishu", base_url=fake.url, config={"app_id": fake.app_id})
    app.set_secrets(FEISHU_SECRETS)
    app.save()
    return app


def dingtalk_app(fake: dingtalk_chat.FakeDingTalkChat, name: str = "钉钉审批") -> ChatApp:
    app = ChatApp(
        name=name, kind="dingtalk", base_url=fake.url,
        config={"app_key": fake.app_key, "card_template_id": "rd-approval.schema",
                "callback_route_key": "renewal-desk"},
    )  # fmt: skip
    app.set_secrets({"app_secret": fake.app_secret, "callback_secret": DINGTALK_SECRET})
    app.save()
    dingtalk.register_callback(app, "https://desk.example.cn/integrations/chat/1/callback/")
    return app


@pytest.fixture
def apps(
    cast: Cast, feishu: feishu_chat.FakeFeishuChat, ding: dingtalk_chat.FakeDingTalkChat
) -> dict[str, ChatApp]:
    """The head of A on Feishu (user id "head-a", reads English), finance on DingTalk ("fin-1",
    unionId "u-fin", reads Chinese)."""
    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("1000000"), user=cast.finance, memo="年度预算"
    )
    cast.head_a.language = "en"  # each card in its reader's language (finance: Chinese)
    cast.head_a.save()
    f, d = feishu_app(feishu), dingtalk_app(ding)
    ChatIdentity.objects.create(
        app=f, user=cast.head_a, platform_id="head-a", other_ids={"open_id": "ou_head"}
    )
    ChatIdentity.objects.create(
        app=d, user=cast.finance, platform_id="fin-1", other_ids={"unionId": "u-fin"}
    )
    ding.users |= {"fin-1"}
    return {"feishu": f, "dingtalk": d}


def submit(cast: Cast, amount: str, *, capture: Any) -> RenewalRequest:
    """Subscription A's request, its quote costing ``amount`` CNY for the term, submitted by
    A's software admin (its notices, and so its cards, run on commit)."""
    request = services.request_create(subscription=cast.subscription_a, user=cast.software_admin)
    assert request.chosen_quote is not None
    services.quote_save(
        request=request, user=cast.software_admin, quote=request.chosen_quote,
        data={"seats": 1, "unit_price": Decimal(amount), "term_months": 12},
    )  # fmt: skip
    with capture(execute=True):
        services.request_submit(request=request, user=cast.software_admin)
    request.refresh_from_db()
    return request


def deliver() -> outbox.Outcome:
    return outbox.deliver()


def card_of(app: ChatApp, user: Any) -> ChatCard:
    return ChatCard.objects.get(app=app, recipient=user)


def feishu_click(
    client: Client, app: ChatApp, card: ChatCard, action: str, *, comment: str | None = None,
    user_id: str = "head-a", event_id: str | None = None, value: dict[str, Any] | None = None,
    timestamp: int | None = None, capture: Any = None,
) -> Any:  # fmt: skip
    payload = feishu_chat.card_action(
        value if value is not None else {"c": card.pk, "n": card.nonce, "a": action},
        token=FEISHU_SECRETS["verification_token"], message_id=card.message_id,
        user_id=user_id, open_id=f"ou_{user_id}", union_id=f"on_{user_id}",
        form_value={"comment": comment} if comment is not None else None,
        app_id=app.config["app_id"], event_id=event_id,
    )  # fmt: skip
    body, headers = feishu_chat.callback(
        payload, FEISHU_SECRETS["encrypt_key"], timestamp=timestamp
    )
    return post(client, app, body, headers, capture=capture)


def ding_click(
    client: Client, app: ChatApp, card: ChatCard, action: str, *, comment: str = "",
    user_id: str = "fin-1", capture: Any = None,
) -> Any:  # fmt: skip
    params = {"a": action, "value": json.dumps({"c": card.pk, "n": card.nonce}), "comment": comment}
    headers, body = dingtalk_chat.card_click(DINGTALK_SECRET, card.message_id, user_id, params)
    return post(client, app, body, headers, capture=capture)


def post(
    client: Client, app: ChatApp, body: bytes, headers: dict[str, str], *, capture: Any = None
) -> Any:
    url = reverse("integrations:chat-callback", args=[app.pk])
    if capture is None:
        return client.post(url, body, content_type="application/json", headers=headers)
    with capture(execute=True):
        return client.post(url, body, content_type="application/json", headers=headers)


# --- refusals, races, notices, WeCom (#21 "Bad input and races") ------------------------------

WECOM_TOKEN = "fakeWeComCallbackToken"
WECOM_AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aQ"
WECOM_AGENT = 1000002


@pytest.fixture
def wecom() -> Iterator[wecom_chat.FakeWeComChat]:
    with wecom_chat.FakeWeComChat(agent_id=WECOM_AGENT) as fake:
        yield fake


def wecom_app(fake: wecom_chat.FakeWeComChat, name: str = "企业微信审批") -> ChatApp:
    wecom_platform._tokens.clear()
    app = ChatApp(
        name=name, kind="wecom", base_url=fake.base_url,
        config={"corp_id": fake.corp_id, "agent_id": WECOM_AGENT},
    )  # fmt: skip
    app.set_secrets(
        {"secret": fake.corp_secret, "token": WECOM_TOKEN, "encoding_aes_key": WECOM_AES_KEY}
    )
    app.save()
    return app


def fund(cast: Cast) -> None:
    """Department A's 2027 budget, and the head reading English (as ``apps`` does)."""
    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("1000000"), user=cast.finance, memo="年度预算"
    )
    cast.head_a.language = "en"
    cast.head_a.save()


def signed_feishu(body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """Headers signing any ``body`` as Feishu signs a callback with the app's encrypt key."""
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    nonce = uuid.uuid4().hex
    signature = feishu_chat.sign(stamp, nonce, FEISHU_SECRETS["encrypt_key"], body)
    return {"X-Lark-Request-Timestamp": stamp, "X-Lark-Request-Nonce": nonce,
            "X-Lark-Signature": signature}  # fmt: skip


def feishu_body(
    app: ChatApp, card: ChatCard, action: str, *, comment: str | None = None,
    user_id: str = "head-a", event_id: str | None = None,
) -> tuple[bytes, dict[str, str]]:  # fmt: skip
    """One click's (body, headers), to post as often as a test likes (a replay)."""
    payload = feishu_chat.card_action(
        {"c": card.pk, "n": card.nonce, "a": action},
        token=FEISHU_SECRETS["verification_token"], message_id=card.message_id,
        user_id=user_id, open_id=f"ou_{user_id}", union_id=f"on_{user_id}",
        form_value={"comment": comment} if comment is not None else None,
        app_id=app.config["app_id"], event_id=event_id,
    )  # fmt: skip
    return feishu_chat.callback(payload, FEISHU_SECRETS["encrypt_key"])


def fake_calls(*fakes: Any) -> int:
    return sum(len(fake.calls) for fake in fakes)


def snapshot(request: RenewalRequest) -> dict[str, Any]:
    """Everything a refused click must leave as it was."""
    from budgets.models import LedgerEntry
    from integrations.chat.models import ChatJob
    from renewals.notify.models import Notification
    from renewals.requests.models.notices import RequestNotice
    from renewals.requests.models.requests import RequestEvent

    return {
        "request": RenewalRequest.objects.filter(pk=request.pk)
        .values_list("status", "round", "decided_at")
        .get(),
        "steps": sorted(
            request.steps.values_list("pk", "status", "decided_by_id", "comment", "via")
        ),
        "events": sorted(RequestEvent.objects.filter(request=request).values_list("pk", "kind")),
        "ledger": sorted(LedgerEntry.objects.values_list("pk", "kind", "amount")),
        "cards": sorted(
            ChatCard.objects.values_list(
                "pk", "state", "outcome", "message_id", "response_code", "todo_id"
            )
        ),
        "jobs": sorted(ChatJob.objects.values_list("pk", "action", "status", "attempts")),
        "notices": RequestNotice.objects.count(),
        "bells": Notification.objects.count(),
    }
