"""Card clicks that must change nothing (#21, "Bad input and races"), each posted to the real
callback URL the way the platform builds and signs it: a bad signature, a stale timestamp, a
replay, a stranger, a forged card, another app's card, a wrong nonce, a huge or malformed body,
a GET, a disabled app; a card of an earlier round, a head who lost the role, the requester.

After each refusal: the step still waits, no request event, no ledger entry, no card or job
changed, and a delivery run makes no call to the platforms."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from budgets.models import LedgerEntry
from integrations.chat.models import ChatApp, ChatCard, ChatClick, ChatIdentity
from org import services as org_services
from renewals.requests import services
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.requests import RenewalRequest, RequestEvent
from tests.conftest import Cast
from tests.fakes import feishu_chat
from tests.integrations.chat.conftest import (
    FEISHU_SECRETS,
    card_of,
    deliver,
    fake_calls,
    feishu_app,
    feishu_body,
    feishu_click,
    post,
    signed_feishu,
    snapshot,
    submit,
)

STEP = ApprovalStep.Status
URL = "integrations:chat-callback"


@pytest.fixture
def ready(
    cast: Cast, apps: dict[str, ChatApp], feishu: Any, ding: Any,
    django_capture_on_commit_callbacks: Any,
) -> dict[str, Any]:  # fmt: skip
    """A 20,000 CNY request (one step: the head of A) whose card is on the head's Feishu."""
    request = submit(cast, "20000", capture=django_capture_on_commit_callbacks)
    deliver()
    card = card_of(apps["feishu"], cast.head_a)
    assert card.message_id and card.state == ChatCard.State.OPEN
    return {"request": request, "card": card, "app": apps["feishu"], "fakes": (feishu, ding),
            "before": snapshot(request), "calls": fake_calls(feishu, ding)}  # fmt: skip


def unchanged(ready: dict[str, Any]) -> None:
    """Nothing moved, and nothing is left for the platforms."""
    request: RenewalRequest = ready["request"]
    assert request.steps.get().status == STEP.PENDING
    deliver()
    assert snapshot(request) == ready["before"]
    assert fake_calls(*ready["fakes"]) == ready["calls"]


def outcome_of(event_id: str) -> str:
    return str(ChatClick.objects.get(event_id=event_id).outcome)


# --- refused before anything is looked up -----------------------------------------------------


def _wrong_signature(app: ChatApp, card: ChatCard) -> tuple[bytes, dict[str, str]]:
    body, headers = feishu_body(app, card, "approve")
    return body, {**headers, "X-Lark-Signature": "0" * 64}


def _signed_by_someone_else(app: ChatApp, card: ChatCard) -> tuple[bytes, dict[str, str]]:
    body, headers = feishu_body(app, card, "approve")
    stamp, nonce = headers["X-Lark-Request-Timestamp"], headers["X-Lark-Request-Nonce"]
    return body, {**headers, "X-Lark-Signature": feishu_chat.sign(stamp, nonce, "guess", body)}


def _unsigned(app: ChatApp, card: ChatCard) -> tuple[bytes, dict[str, str]]:
    body, _headers = feishu_body(app, card, "approve")
    return body, {}


def _stale(app: ChatApp, card: ChatCard) -> tuple[bytes, dict[str, str]]:
    payload = feishu_chat.card_action(
        {"c": card.pk, "n": card.nonce, "a": "approve"}, token=FEISHU_SECRETS["verification_token"],
        message_id=card.message_id, user_id="head-a", app_id=app.config["app_id"],
    )  # fmt: skip
    # Correctly signed, but an hour old: a click captured and played back later.
    return feishu_chat.callback(
        payload, FEISHU_SECRETS["encrypt_key"], timestamp=int(time.time()) - 3600
    )


def _signed(body: bytes) -> Callable[[ChatApp, ChatCard], tuple[bytes, dict[str, str]]]:
    return lambda app, card: (body, signed_feishu(body))


def _wrong_token(app: ChatApp, card: ChatCard) -> tuple[bytes, dict[str, str]]:
    payload = feishu_chat.card_action(
        {"c": card.pk, "n": card.nonce, "a": "approve"}, token="vt-guessed",
        message_id=card.message_id, user_id="head-a", app_id=app.config["app_id"],
    )  # fmt: skip
    return feishu_chat.callback(payload, FEISHU_SECRETS["encrypt_key"])


def _other_key(app: ChatApp, card: ChatCard) -> tuple[bytes, dict[str, str]]:
    payload = feishu_chat.card_action(
        {"c": card.pk, "n": card.nonce, "a": "approve"}, token=FEISHU_SECRETS["verification_token"],
        message_id=card.message_id, user_id="head-a", app_id=app.config["app_id"],
    )  # fmt: skip
    return feishu_chat.callback(payload, FEISHU_SECRETS["encrypt_key"], body_key="another key")


REFUSED = {
    "wrong signature": (_wrong_signature, 401),
    "signed with another key": (_signed_by_someone_else, 401),
    "unsigned": (_unsigned, 401),
    "stale timestamp": (_stale, 401),
    "wrong verification token": (_wrong_token, 403),
    "encrypted with another key": (_other_key, 400),
    "not JSON": (_signed(b"not json at all"), 400),
    "JSON without encrypt": (_signed(json.dumps({"schema": "2.0", "header": {}}).encode()), 400),
    "encrypt not base64": (_signed(json.dumps({"encrypt": "!!! not base64 !!!"}).encode()), 400),
    "encrypt not whole blocks": (_signed(json.dumps({"encrypt": "QUJDRA=="}).encode()), 400),
    "garbage": (_signed(bytes(range(256)) * 8), 400),
    "empty": (_signed(b""), 400),
}


def test_a_callback_that_fails_verification_is_refused(ready: dict[str, Any]) -> None:
    for name, (build, status) in REFUSED.items():
        body, headers = build(ready["app"], ready["card"])
        response = post(Client(), ready["app"], body, headers)
        assert response.status_code == status, (name, response.content)
        assert response.json()["error"], name
        assert not ChatClick.objects.exists(), name  # refused before anything was looked up
        unchanged(ready)


def test_a_huge_callback_is_refused_before_it_is_read(ready: dict[str, Any]) -> None:
    body = json.dumps({"encrypt": "A" * (1024 * 1024 + 10)}).encode()
    response = post(Client(), ready["app"], body, signed_feishu(body))
    assert response.status_code == 413
    assert response.json()["error"]  # (in the site's language: the platform sends none)
    assert not ChatClick.objects.exists()
    unchanged(ready)


def test_a_get_to_a_feishu_callback_is_refused(ready: dict[str, Any]) -> None:
    url = reverse(URL, args=[ready["app"].pk])
    response = Client().get(url, {"c": ready["card"].pk, "n": ready["card"].nonce})
    assert response.status_code == 401  # Feishu signs every POST; a GET carries nothing
    assert not ChatClick.objects.exists()
    unchanged(ready)
    assert Client().put(url, b"{}", content_type="application/json").status_code == 405
    assert Client().delete(url).status_code == 405
    unchanged(ready)


def test_a_disabled_or_unknown_app_is_not_found(ready: dict[str, Any]) -> None:
    app: ChatApp = ready["app"]
    ChatApp.objects.filter(pk=app.pk).update(enabled=False)
    body, headers = feishu_body(app, ready["card"], "approve")
    assert post(Client(), app, body, headers).status_code == 404
    missing = reverse(URL, args=[app.pk + 1000])
    response = Client().post(missing, body, content_type="application/json", headers=headers)
    assert response.status_code == 404
    assert not ChatClick.objects.exists()
    unchanged(ready)


# --- verified, then refused: whose card, who clicked ------------------------------------------


def test_a_replayed_click_decides_once(
    cast: Cast, ready: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    body, headers = feishu_body(ready["app"], ready["card"], "approve", event_id="ev-replay")
    with django_capture_on_commit_callbacks(execute=True):
        first = post(Client(), ready["app"], body, headers)
    assert first.status_code == 200 and first.json()["toast"]["type"] == "success"
    decided = snapshot(ready["request"])
    with django_capture_on_commit_callbacks(execute=True):
        again = post(Client(), ready["app"], body, headers)
    assert again.status_code == 409
    assert again.json()["error"]
    assert snapshot(ready["request"]) == decided
    assert RequestEvent.objects.filter(request=ready["request"], kind="approved").count() == 1
    assert LedgerEntry.objects.filter(kind="commitment").count() == 1
    step = ready["request"].steps.get()
    assert (step.status, step.decided_by, step.via) == (STEP.APPROVED, cast.head_a, "feishu")
    assert list(ChatClick.objects.values_list("event_id", "outcome")) == [("ev-replay", "decided")]


def test_a_click_by_someone_we_do_not_know_is_refused(ready: dict[str, Any]) -> None:
    response = feishu_click(
        Client(), ready["app"], ready["card"], "approve", user_id="stranger", event_id="ev-x"
    )
    assert response.status_code == 403
    assert outcome_of("ev-x") == "unknown_user"
    unchanged(ready)


def test_a_click_forged_for_the_heads_card_by_a_known_user_is_refused(
    cast: Cast, ready: dict[str, Any]
) -> None:
    ChatIdentity.objects.create(app=ready["app"], user=cast.head_b, platform_id="head-b")
    ready["before"] = snapshot(ready["request"])
    response = feishu_click(
        Client(), ready["app"], ready["card"], "approve", user_id="head-b", event_id="ev-f"
    )
    assert response.status_code == 403
    assert outcome_of("ev-f") == "forged"
    unchanged(ready)


def test_a_click_with_another_nonce_is_refused(ready: dict[str, Any]) -> None:
    card = ready["card"]
    forged = {"c": card.pk, "n": card.nonce[:-2] + "xx", "a": "approve"}
    response = feishu_click(Client(), ready["app"], card, "approve", value=forged, event_id="ev-n")
    assert response.status_code == 403
    assert outcome_of("ev-n") == "not_ours"
    nonce_less = {"c": card.pk, "a": "approve"}
    response = feishu_click(Client(), ready["app"], card, "approve", value=nonce_less)
    assert response.status_code == 403
    unchanged(ready)


def test_a_card_of_another_app_posted_to_this_apps_callback_is_refused(
    cast: Cast, ready: dict[str, Any]
) -> None:
    """Another tenant's app (its own app id, token and key): a correctly signed click for it,
    naming app X's card, is not found under it, though the head is mapped there too."""
    other_secrets = {"app_secret": "s2", "verification_token": "vt-other", "encrypt_key": "ek-o"}
    with feishu_chat.FakeFeishuChat(app_id="cli_other", app_secret="s2") as other_fake:
        other = feishu_app(other_fake, name="另一家的飞书")
        other.set_secrets(other_secrets)
        other.save()
    ChatIdentity.objects.create(app=other, user=cast.head_a, platform_id="head-a")
    ready["before"] = snapshot(ready["request"])
    card = ready["card"]
    payload = feishu_chat.card_action(
        {"c": card.pk, "n": card.nonce, "a": "approve"}, token="vt-other",
        message_id=card.message_id, user_id="head-a", app_id="cli_other", event_id="ev-t",
    )  # fmt: skip
    body, headers = feishu_chat.callback(payload, "ek-o")
    response = post(Client(), other, body, headers)
    assert response.status_code == 403
    assert outcome_of("ev-t") == "not_ours"
    assert ChatClick.objects.get(event_id="ev-t").app == other
    # Signed for Y but naming X's app id in its header: refused by the platform check.
    payload["header"].update(app_id=ready["app"].config["app_id"], event_id="ev-t2")
    body, headers = feishu_chat.callback(payload, "ek-o")
    assert post(Client(), other, body, headers).status_code == 403
    unchanged(ready)


def test_a_click_naming_another_message_is_refused(ready: dict[str, Any]) -> None:
    card = ready["card"]
    moved = ChatCard(pk=card.pk, nonce=card.nonce, message_id="om_somewhere_else")
    response = feishu_click(Client(), ready["app"], moved, "approve", event_id="ev-m")
    assert response.status_code == 403 and outcome_of("ev-m") == "not_ours"
    unchanged(ready)


# --- verified, whose card, but no longer theirs to decide -------------------------------------


def _toast(response: Any) -> tuple[str, str]:
    toast = response.json()["toast"]
    return toast["type"], toast["content"]


def _card_words(response: Any) -> str:
    return json.dumps(response.json().get("card"), ensure_ascii=False)


def test_a_card_of_an_earlier_round_is_refused(
    cast: Cast, apps: dict[str, ChatApp], feishu: Any, ding: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    capture = django_capture_on_commit_callbacks
    request = submit(cast, "20000", capture=capture)
    deliver()
    old = card_of(apps["feishu"], cast.head_a)
    with capture(execute=True):  # returned on the web, then submitted again
        services.step_decide(request=request, user=cast.head_a, decision="return", comment="再谈")
    request.refresh_from_db()
    with capture(execute=True):
        services.request_submit(request=request, user=cast.software_admin)
    deliver()
    request.refresh_from_db()
    assert request.round == 2
    new = ChatCard.objects.exclude(pk=old.pk).get(app=apps["feishu"], recipient=cast.head_a)
    assert (new.round, new.state) == (2, ChatCard.State.OPEN)
    state = {"request": request, "before": snapshot(request), "calls": fake_calls(feishu, ding),
             "fakes": (feishu, ding)}  # fmt: skip
    # The old card clicked (a phone that never got the update): refused, no decision.
    with capture(execute=True):
        response = feishu_click(Client(), apps["feishu"], old, "approve", event_id="ev-old")
    assert response.status_code == 200
    kind, toast = _toast(response)
    assert kind == "error" and "changed since" in toast
    assert outcome_of("ev-old") == "changed"
    words = _card_words(response)
    assert "Approve" not in words.replace("Approved", "")  # no decision buttons
    assert "The request changed since this was sent" in words  # the reason, on the card
    assert request.steps.get(round=2).status == STEP.PENDING
    deliver()
    assert snapshot(request) == state["before"]
    assert fake_calls(feishu, ding) == state["calls"]
    # The current card still decides.
    with capture(execute=True):
        response = feishu_click(Client(), apps["feishu"], new, "approve")
    assert _toast(response)[0] == "success"
    assert RequestEvent.objects.filter(request=request, kind="approved").count() == 1


def test_a_head_who_lost_the_role_is_refused_with_the_reason_on_the_card(
    cast: Cast, ready: dict[str, Any]
) -> None:
    org_services.user_set_roles(user=cast.head_a, roles=[])
    response = feishu_click(Client(), ready["app"], ready["card"], "approve", event_id="ev-r")
    assert response.status_code == 200
    kind, toast = _toast(response)
    assert kind == "error" and toast == "This step is for Department head of the department."
    assert outcome_of("ev-r") == "not_your_step"
    words = _card_words(response)
    assert "This step is for Department head of the department." in words
    assert "Approve" not in words
    unchanged(ready)


def test_the_requester_cannot_approve_through_a_card(cast: Cast, ready: dict[str, Any]) -> None:
    """approvers_for never sends the requester a card; one made by hand for them still meets
    step_decide's own-request rule."""
    request: RenewalRequest = ready["request"]
    app: ChatApp = ready["app"]
    cast.software_admin.language = "en"
    cast.software_admin.save()
    ChatIdentity.objects.create(app=app, user=cast.software_admin, platform_id="sw-a")
    step = request.steps.get()
    own = ChatCard.objects.create(
        app=app, key="rd-own", topic=ChatCard.Topic.APPROVAL, recipient=cast.software_admin,
        platform_id="sw-a", step=step, request=request, round=step.round, nonce="n" * 43,
        message_id="om_own",
    )  # fmt: skip
    ready["before"] = snapshot(request)
    response = feishu_click(Client(), app, own, "approve", user_id="sw-a", event_id="ev-own")
    assert response.status_code == 200
    assert _toast(response) == ("error", "You cannot decide on your own request.")
    assert outcome_of("ev-own") == "own_request"
    assert "You cannot decide on your own request." in _card_words(response)
    unchanged(ready)
