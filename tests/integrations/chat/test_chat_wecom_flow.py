"""WeCom approval cards end to end (#21) against the local WeCom server
(tests/fakes/wecom_chat.py): the head's template card (task_id = the card's key), a Return with a
chosen reason posted to our callback sealed and signed as WeCom documents it, the step returned
with that reason "via WeCom", the card replaced with the click's response code; no to-do ever
(WeCom has no server API for one: skipped, not a dead letter)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from budgets.models import LedgerEntry
from integrations.chat.models import ChatApp, ChatCard, ChatClick, ChatIdentity, ChatJob
from integrations.chat.platforms import wecom as wecom_platform
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.requests import RenewalRequest, RequestEvent
from tests.conftest import Cast
from tests.fakes.wecom_chat import FakeWeComChat, callback, card_event
from tests.integrations.chat.conftest import (
    WECOM_AES_KEY,
    WECOM_TOKEN,
    deliver,
    fund,
    submit,
    wecom_app,
)

STEP = ApprovalStep.Status
TODOS = (ChatJob.Action.TODO_OPEN, ChatJob.Action.TODO_CLOSE)


@pytest.fixture
def app(cast: Cast, wecom: FakeWeComChat) -> ChatApp:
    """A WeCom app with the head of A on it ("HeadA", reads English)."""
    fund(cast)
    wecom.add_user("HeadA", "王磊")
    made = wecom_app(wecom)
    ChatIdentity.objects.create(app=made, user=cast.head_a, platform_id="HeadA")
    return made


def _sent(wecom: FakeWeComChat) -> list[dict[str, Any]]:
    return [call[3] for call in wecom.api_calls("/cgi-bin/message/send")]


def _keys(template: dict[str, Any]) -> dict[str, str]:
    return {b["text"]: b["key"] for b in template["button_list"] if b.get("type") == 0}


def _option(template: dict[str, Any], label: str) -> str:
    options = template["button_selection"]["option_list"]
    return next(str(o["id"]) for o in options if o["text"] == label)


def _click(
    client: Client, app: ChatApp, wecom: FakeWeComChat, card: ChatCard, event_key: str,
    *, options: tuple[str, ...] = (), user: str = "HeadA", created: int | None = None,
) -> tuple[Any, str, tuple[dict[str, str], bytes]]:  # fmt: skip
    """Post a card click as WeCom does: (response, the click's ResponseCode, (query, body))."""
    xml = card_event(
        wecom, corp_id=wecom.corp_id, user=user, task_id=card.message_id, event_key=event_key,
        options=options, created=created,
    )  # fmt: skip
    code = re.search(r"<ResponseCode><!\[CDATA\[(.*?)\]\]>", xml)
    assert code is not None
    sealed = callback(xml, token=WECOM_TOKEN, aes_key=WECOM_AES_KEY, corp_id=wecom.corp_id)
    return _post(client, app, *sealed), code.group(1), sealed


def _post(client: Client, app: ChatApp, query: dict[str, str], body: bytes) -> Any:
    url = reverse("integrations:chat-callback", args=[app.pk]) + "?" + urlencode(query)
    return client.post(url, body, content_type="text/xml")


def test_a_request_is_returned_on_the_wecom_card_with_a_chosen_reason(
    cast: Cast, app: ChatApp, wecom: FakeWeComChat, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    request = submit(cast, "20000", capture=capture)
    deliver()
    card = ChatCard.objects.get(app=app, recipient=cast.head_a)
    # One template card: its task_id is the card's key, its buttons carry the card's value.
    sent = _sent(wecom)
    assert len(sent) == 1
    assert (sent[0]["touser"], sent[0]["agentid"]) == ("HeadA", wecom.agent_id)
    template = sent[0]["template_card"]
    assert template["card_type"] == "button_interaction"
    assert template["task_id"] == card.key == card.message_id
    assert wecom.codes.get(card.response_code) == card.key  # the send's own code, kept
    keys = _keys(template)
    assert set(keys) == {"Approve", "Return", "Reject"}
    assert wecom_platform.parse_button_key(keys["Return"]) == (
        "return", {"c": card.pk, "n": card.nonce, "a": "return"},
    )  # fmt: skip
    labels = [o["text"] for o in template["button_selection"]["option_list"]]
    assert labels[0] == "—" and "Fewer seats would do" in labels
    # No to-do on WeCom: skipped, never a dead letter, never a call.
    todos = ChatJob.objects.filter(card=card, action__in=TODOS)
    assert set(todos.values_list("status", flat=True)) <= {ChatJob.Status.SKIPPED}
    assert not ChatJob.objects.filter(status=ChatJob.Status.FAILED).exists()

    assert all("no server API" in e for e in todos.values_list("last_error", flat=True))
    reason = _option(template, "Fewer seats would do")
    with capture(execute=True):
        response, code, sealed = _click(
            Client(), app, wecom, card, keys["Return"], options=(reason,)
        )
    assert response.status_code == 200 and response.content == b""  # no passive reply
    step = request.steps.get()
    assert (step.status, step.decided_by, step.comment, step.via) == (
        STEP.RETURNED, cast.head_a, "Fewer seats would do", "wecom",
    )  # fmt: skip
    request.refresh_from_db()
    assert request.status == RenewalRequest.Status.RETURNED
    event = RequestEvent.objects.get(request=request, kind="returned")
    assert (event.via, event.note, event.actor) == ("wecom", "Fewer seats would do", cast.head_a)
    assert not LedgerEntry.objects.filter(kind="commitment").exists()
    card.refresh_from_db()
    assert card.response_code == code  # the click's code: the one the update must use
    assert card.state == ChatCard.State.DECIDED and card.outcome.startswith("Returned by")

    # The update replaces the card, with the click's code (each code works once).
    deliver()
    updates = wecom.tasks[card.key]["updates"]
    assert len(updates) == 1
    update = updates[0]
    assert (update["response_code"], update["userids"]) == (code, ["HeadA"])
    replaced = update["template_card"]
    assert replaced["card_type"] == "text_notice" and "task_id" not in replaced
    assert replaced["main_title"]["desc"].startswith("Returned by")
    assert "WeCom" in replaced["main_title"]["desc"]
    assert code not in wecom.codes  # spent
    assert ChatJob.objects.get(card=card, action="update").status == ChatJob.Status.DONE
    todos = ChatJob.objects.filter(card=card, action__in=TODOS)
    assert set(todos.values_list("status", flat=True)) <= {ChatJob.Status.SKIPPED}
    assert not ChatJob.objects.filter(status=ChatJob.Status.FAILED).exists()
    assert [c[1] for c in wecom.calls if "todo" in c[1]] == []

    # WeCom delivering the same callback again (no answer in time): a replay, refused.
    with capture(execute=True):
        again = _post(Client(), app, *sealed)
    assert again.status_code == 409
    assert RequestEvent.objects.filter(request=request, kind="returned").count() == 1
    assert list(ChatClick.objects.values_list("outcome", flat=True)) == ["decided"]
    deliver()
    assert len(wecom.tasks[card.key]["updates"]) == 1


def test_a_wecom_approval_by_a_lowercased_user_id_is_the_heads(
    cast: Cast, app: ChatApp, wecom: FakeWeComChat, django_capture_on_commit_callbacks: Any
) -> None:
    """WeCom gives user ids back lowercased in places: still the head; a stranger is not."""
    capture = django_capture_on_commit_callbacks
    request = submit(cast, "20000", capture=capture)
    deliver()
    card = ChatCard.objects.get(app=app, recipient=cast.head_a)
    keys = _keys(_sent(wecom)[0]["template_card"])
    with capture(execute=True):
        stranger, _code, _sealed = _click(Client(), app, wecom, card, keys["Approve"], user="Eve")
    assert stranger.status_code == 403
    assert request.steps.get().status == STEP.PENDING
    with capture(execute=True):
        response, code, _sealed = _click(Client(), app, wecom, card, keys["Approve"], user="heada")
    assert response.status_code == 200
    step = request.steps.get()
    assert (step.status, step.via, step.comment) == (STEP.APPROVED, "wecom", "")
    assert LedgerEntry.objects.filter(kind="commitment").count() == 1
    deliver()
    (update,) = wecom.tasks[card.key]["updates"]
    assert update["response_code"] == code
    assert update["template_card"]["main_title"]["desc"].startswith("Approved by")
