"""Approval cards end to end against the local Feishu and DingTalk servers: a request above
50,000 CNY asks the head on Feishu, then finance on DingTalk; each approves on the card; both
cards show the outcome, the to-dos close, the trail says "via Feishu" / "via DingTalk"."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from django.urls import reverse

from budgets.models import LedgerEntry
from integrations.chat.models import ChatCard, ChatClick, ChatJob
from renewals.requests import services
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.requests import RenewalRequest, RequestEvent
from tests.conftest import Cast
from tests.integrations.chat.conftest import card_of, deliver, ding_click, feishu_click, submit

STEP = ApprovalStep.Status


def _card_json(content: str) -> str:
    """The card's text as the platform got it (for assertions on its words)."""
    return json.dumps(json.loads(content), ensure_ascii=False)


def test_a_request_is_approved_on_feishu_then_dingtalk(
    cast: Cast, apps: dict[str, Any], feishu: Any, ding: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    capture = django_capture_on_commit_callbacks
    request = submit(cast, "60000", capture=capture)
    assert [s.role for s in request.steps.order_by("position")] == ["department_head", "finance"]
    # Only the head's card: finance's step waits for the head.
    assert ChatCard.objects.count() == 1
    deliver()
    head_card = card_of(apps["feishu"], cast.head_a)
    assert head_card.message_id and head_card.message_id in feishu.messages
    sent = feishu.bodies("POST", "/open-apis/im/v1/messages")
    assert len(sent) == 1 and sent[0]["receive_id"] == "head-a" and sent[0]["uuid"] == head_card.key
    words = _card_json(sent[0]["content"])
    assert "60,000.00 CNY" in words and "Finance" in words  # the amount and its tier
    assert "Budget 2027" in words and "Approve" in words and "Reject" in words
    assert len(feishu.tasks) == 1  # the head's to-do

    response = feishu_click(Client(), apps["feishu"], head_card, "approve", capture=capture)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["toast"]["type"] == "success"
    assert "Approved by" in json.dumps(answer["card"], ensure_ascii=False)
    head_step = request.steps.get(position=1)
    assert (head_step.status, head_step.decided_by, head_step.via) == (
        STEP.APPROVED,
        cast.head_a,
        "feishu",
    )

    deliver()
    finance_card = card_of(apps["dingtalk"], cast.finance)
    assert finance_card.message_id in ding.cards
    assert ding.cards[finance_card.message_id]["user_id"] == "fin-1"
    assert len(ding.tasks) == 1  # finance's 待办
    response = ding_click(Client(), apps["dingtalk"], finance_card, "approve", capture=capture)
    assert response.status_code == 200, response.content
    deliver()

    request.refresh_from_db()
    assert request.status == RenewalRequest.Status.APPROVED
    assert LedgerEntry.objects.filter(kind="commitment").count() == 1
    # Both cards show the outcome in place; both to-dos are closed.
    patched = feishu.bodies("PATCH", "/open-apis/im/v1/messages/")
    assert len(patched) == 1 and "Approved by" in _card_json(patched[0]["content"])
    # Finance reads Chinese: "用户4 已于 14:02 同意（通过钉钉）".
    outcome = ding.cards[finance_card.message_id]["data"]["outcome"]
    assert "已于" in outcome and "同意" in outcome and "通过钉钉" in outcome
    assert all(
        t.get("completed_at") or t.get("done")
        for t in [*feishu.tasks.values(), *ding.tasks.values()]
    )
    assert not ChatJob.objects.exclude(status__in=["done", "skipped"]).exists()
    # The web page tells where each decision was taken.
    vias = set(
        RequestEvent.objects.filter(request=request).exclude(via="").values_list("via", flat=True)
    )
    assert vias == {"feishu", "dingtalk"}
    page = Client()
    page.force_login(cast.auditor)
    html = page.get(reverse("renewals:request-detail", args=[request.pk])).content.decode()
    assert "通过飞书" in html and "通过钉钉" in html  # the auditor reads Chinese


def test_a_decision_on_the_web_updates_the_card_and_closes_the_to_do(
    cast: Cast, apps: dict[str, Any], feishu: Any, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    request = submit(cast, "60000", capture=capture)
    deliver()
    with capture(execute=True):
        services.step_decide(
            request=request, user=cast.head_a, decision="return", comment="报价太高"
        )
    deliver()
    patched = feishu.bodies("PATCH", "/open-apis/im/v1/messages/")
    assert len(patched) == 1 and "Returned by" in _card_json(patched[0]["content"])
    assert "Approve" not in _card_json(patched[0]["content"]).replace("Approved", "")
    assert all(t.get("completed_at") for t in feishu.tasks.values())
    assert card_of(apps["feishu"], cast.head_a).state == ChatCard.State.DECIDED


def test_return_and_reject_need_a_comment_on_the_card(
    cast: Cast, apps: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    request = submit(cast, "60000", capture=capture)
    deliver()
    card = card_of(apps["feishu"], cast.head_a)
    response = feishu_click(Client(), apps["feishu"], card, "reject", comment="  ", capture=capture)
    assert response.status_code == 200
    assert response.json()["toast"]["type"] == "error"
    assert "Say why" in response.json()["toast"]["content"]
    assert request.steps.get(position=1).status == STEP.PENDING
    response = feishu_click(
        Client(), apps["feishu"], card, "reject", comment="不再需要", capture=capture
    )
    assert response.status_code == 200 and response.json()["toast"]["type"] == "success"
    request.refresh_from_db()
    assert request.status == RenewalRequest.Status.REJECTED
    step = request.steps.get(position=1)
    assert (step.comment, step.via) == ("不再需要", "feishu")


def test_an_approval_card_is_never_sent_twice_for_a_step_and_person(
    cast: Cast, apps: dict[str, Any], feishu: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from renewals.requests.services.notices import request_notify

    request = submit(cast, "60000", capture=django_capture_on_commit_callbacks)
    step = request.steps.get(position=1)
    for _ in range(3):  # the notice task retried, or run twice
        request_notify(
            request_id=request.pk, event="submitted", actor_id=cast.software_admin.pk,
            round_no=request.round, step_id=step.pk, awaiting_id=step.pk,
        )  # fmt: skip
    deliver()
    deliver()
    assert ChatCard.objects.count() == 1
    assert len(feishu.bodies("POST", "/open-apis/im/v1/messages")) == 1


def test_the_click_record_keeps_what_happened(
    cast: Cast, apps: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    submit(cast, "60000", capture=capture)
    deliver()
    card = card_of(apps["feishu"], cast.head_a)
    feishu_click(Client(), apps["feishu"], card, "approve", event_id="ev-1", capture=capture)
    click = ChatClick.objects.get(event_id="ev-1")
    assert (click.card, click.outcome) == (card, "decided")
