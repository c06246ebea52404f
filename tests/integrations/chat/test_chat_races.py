"""Races that really run in parallel (#21): each side in its own thread and PostgreSQL
connection, released together. The same click delivered 50 times at once, an approve on the
card racing a reject on the web, two delivery workers over the same queue: one decision, one
budget commitment, one set of notices, each card sent once."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
import time_machine
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from budgets.models import LedgerEntry
from integrations.chat import outbox
from integrations.chat.models import ChatApp, ChatCard, ChatClick, ChatIdentity, ChatJob
from org.models import User
from renewals.notify.models import Notification
from renewals.requests import services
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.notices import RequestNotice
from renewals.requests.models.requests import RenewalRequest, RequestEvent
from renewals.requests.services import deciding
from tests.conftest import Cast
from tests.integrations.chat.conftest import (
    card_of,
    deliver,
    feishu_app,
    feishu_body,
    post,
    submit,
)

T = TypeVar("T")
STEP = ApprovalStep.Status


def in_threads(count: int, work: Callable[[int], T]) -> list[T]:
    """``work(i)`` in ``count`` threads released at once, each on its own connection."""
    barrier = threading.Barrier(count)

    def run(i: int) -> T:
        try:
            barrier.wait(timeout=30)
            with translation.override("en"):
                return work(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def _ready(cast: Cast, app: ChatApp, capture: Any) -> tuple[RenewalRequest, ChatCard]:
    """A 20,000 CNY request (the head's step is the last) and the head's card, sent."""
    request = submit(cast, "20000", capture=capture)
    deliver()
    card = card_of(app, cast.head_a)
    assert card.message_id and card.state == ChatCard.State.OPEN
    return request, card


def _decisions(request: RenewalRequest) -> list[str]:
    return list(
        RequestEvent.objects.filter(
            request=request, kind__in=["approved", "rejected", "returned"]
        ).values_list("kind", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_the_same_click_delivered_50_times_at_once_decides_once(
    cast: Cast, apps: dict[str, ChatApp], feishu: Any, django_capture_on_commit_callbacks: Any
) -> None:
    request, card = _ready(cast, apps["feishu"], django_capture_on_commit_callbacks)
    bells = Notification.objects.filter(user=cast.software_admin).count()
    body, headers = feishu_body(apps["feishu"], card, "approve", event_id="ev-50")

    responses = in_threads(50, lambda i: post(Client(), apps["feishu"], body, headers))

    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1 and statuses.count(409) == 49, statuses
    winner = next(r for r in responses if r.status_code == 200)
    assert winner.json()["toast"]["type"] == "success"
    # One decision, one commitment, one click on record.
    step = request.steps.get()
    assert (step.status, step.decided_by_id, step.via) == (STEP.APPROVED, cast.head_a.pk, "feishu")
    assert _decisions(request) == ["approved"]
    assert LedgerEntry.objects.filter(kind="commitment").count() == 1
    commitment = LedgerEntry.objects.get(kind="commitment")
    assert commitment.amount == request.steps.get().request.amount_base
    assert list(ChatClick.objects.values_list("event_id", "outcome")) == [("ev-50", "decided")]
    # One set of notices for the approval: the requester, once per channel.
    notices = list(
        RequestNotice.objects.filter(request=request, kind="approved").values_list(
            "channel", "recipient_id"
        )
    )
    expected = [("in_app", cast.software_admin.pk)]
    if cast.software_admin.email:
        expected.append(("email", cast.software_admin.pk))
    assert sorted(notices) == sorted(expected)
    assert Notification.objects.filter(user=cast.software_admin).count() == bells + 1
    # The card shows the outcome once, the to-do closes once.
    deliver()
    patched = feishu.bodies("PATCH", "/open-apis/im/v1/messages/")
    assert len(patched) == 1 and "Approved by" in patched[0]["content"]
    assert len(feishu.bodies("PATCH", "/open-apis/task/v2/tasks/")) == 1
    card.refresh_from_db()
    assert card.state == ChatCard.State.DECIDED and card.outcome.startswith("Approved by")


@pytest.mark.django_db(transaction=True)
def test_an_approve_on_the_card_racing_a_reject_on_the_web_decides_once(
    cast: Cast, apps: dict[str, ChatApp], feishu: Any, django_capture_on_commit_callbacks: Any
) -> None:
    request, card = _ready(cast, apps["feishu"], django_capture_on_commit_callbacks)
    body, headers = feishu_body(apps["feishu"], card, "approve", event_id="ev-race")
    # Both sides reach step_decide, then race for the request's row lock.
    at_lock = threading.Barrier(2)
    original, entered = deciding.locked, [0]
    guard = threading.Lock()

    def locked(request: RenewalRequest) -> RenewalRequest:
        with guard:
            entered[0] += 1
            first_two = entered[0] <= 2
        if first_two:
            at_lock.wait(timeout=30)
        return original(request)

    def side(i: int) -> Any:
        if i == 0:
            return post(Client(), apps["feishu"], body, headers)
        try:
            services.step_decide(
                request=RenewalRequest.objects.get(pk=request.pk),
                user=User.objects.get(pk=cast.head_a.pk),
                decision="reject",
                comment="太贵了",
            )
        except deciding.DecisionRefused as exc:
            return exc.code
        return "rejected"

    deciding.locked = locked
    try:
        click, web = in_threads(2, side)
    finally:
        deciding.locked = original

    assert entered[0] >= 2 and click.status_code == 200
    toast = click.json()["toast"]
    step = request.steps.get()
    if step.status == STEP.APPROVED:  # the card won
        assert (web, toast["type"], step.via) == ("already_decided", "success", "feishu")
        assert _decisions(request) == ["approved"]
        assert LedgerEntry.objects.filter(kind="commitment").count() == 1
        shown = "Approved by"
    else:  # the web won
        assert (step.status, step.via, step.comment) == (STEP.REJECTED, "", "太贵了")
        assert web == "rejected"
        assert (toast["type"], toast["content"]) == ("error", "This step was already decided.")
        assert ChatClick.objects.get(event_id="ev-race").outcome == "already_decided"
        assert _decisions(request) == ["rejected"]
        assert not LedgerEntry.objects.filter(kind="commitment").exists()
        shown = "Rejected by"
    assert step.decided_by_id == cast.head_a.pk
    # The card says what stands, in the database, in the answer and on the platform.
    assert shown in json.dumps(click.json()["card"], ensure_ascii=False)
    deliver()
    card.refresh_from_db()
    assert card.state == ChatCard.State.DECIDED and card.outcome.startswith(shown)
    patched = feishu.bodies("PATCH", "/open-apis/im/v1/messages/")
    assert patched and all(shown in p["content"] for p in patched)
    assert not ChatJob.objects.exclude(status__in=["done", "skipped"]).exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_over_30_pending_cards_send_each_once(cast: Cast, feishu: Any) -> None:
    app = feishu_app(feishu)
    ChatIdentity.objects.create(app=app, user=cast.head_a, platform_id="head-a")
    now = timezone.now()
    for i in range(30):
        card = ChatCard.objects.create(
            app=app, key=f"rd-race-{i:02d}", topic=ChatCard.Topic.NOTICE, recipient=cast.head_a,
            platform_id="head-a", state=ChatCard.State.INFO, nonce=secrets.token_urlsafe(32),
            notice={"title": f"Notice {i}", "text": "…", "url": "https://desk.example.cn/",
                    "action": "Open"},
        )  # fmt: skip
        ChatJob.objects.create(card=card, action=ChatJob.Action.SEND, next_attempt_at=now)

    def worker(i: int) -> int:
        done = 0
        while True:
            outcome = outbox.deliver(limit=3)
            if not (outcome.done or outcome.waiting or outcome.failed):
                return done
            done += outcome.done

    done = in_threads(2, worker)

    assert sum(done) == 30 and min(done) > 0, done  # both worked, neither twice
    sent = feishu.bodies("POST", "/open-apis/im/v1/messages")
    assert len(sent) == 30
    assert sorted(b["uuid"] for b in sent) == [f"rd-race-{i:02d}" for i in range(30)]
    assert len(feishu.messages) == 30
    assert set(ChatJob.objects.values_list("status", "attempts")) == {("done", 1)}
    assert ChatCard.objects.filter(message_id="").count() == 0
    assert len(set(ChatCard.objects.values_list("message_id", flat=True))) == 30


# --- the platform down, busy, or saying no ----------------------------------------------------

HOUR = dt.timedelta(hours=1)


def _jobs() -> list[ChatJob]:
    return list(ChatJob.objects.select_related("card__app").order_by("pk"))


def test_the_platforms_down_for_an_hour_then_every_card_is_delivered_once(
    cast: Cast, apps: dict[str, ChatApp], feishu: Any, ding: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    """The head is on both apps; both platforms are down for an hour. The jobs wait, further
    apart each time, none given up; when the platforms return, one card (and one to-do) each."""
    ChatIdentity.objects.create(
        app=apps["dingtalk"], user=cast.head_a, platform_id="head-a-dt",
        other_ids={"unionId": "u-head"},
    )  # fmt: skip
    ding.users |= {"head-a-dt"}
    feishu.down = ding.down = True
    with time_machine.travel(timezone.now(), tick=False) as clock:
        start = timezone.now()
        submit(cast, "60000", capture=django_capture_on_commit_callbacks)
        assert ChatCard.objects.count() == 2 and len(_jobs()) == 4  # a card and a to-do each
        waits: dict[int, dict[int, float]] = {}  # job → attempts → the wait set then

        def note() -> None:
            for job in _jobs():
                assert job.status == ChatJob.Status.PENDING, (job, job.last_error)
                assert "503" in job.last_error, job.last_error  # down, not refused
                assert job.next_attempt_at is not None and job.next_attempt_at > timezone.now()
                wait = (job.next_attempt_at - timezone.now()).total_seconds()
                waits.setdefault(job.pk, {}).setdefault(job.attempts, wait)

        note()  # (the worker kicked by the submission has tried once)
        while timezone.now() < start + HOUR:
            clock.move_to(min(j.next_attempt_at for j in _jobs() if j.next_attempt_at))
            deliver()
            note()
        # Tried again and again, each time waiting longer (30 s, 1, 2, 4 … minutes).
        expected = {n: float(min(30 * 2 ** (n - 1), 3600)) for n in range(1, 9)}
        assert all(w == expected for w in waits.values()), waits
        assert {j.attempts for j in _jobs()} == {
            8
        }  # at 0, 30 s, 1.5, 3.5, 7.5, 15.5, 31.5, 63.5 min
        assert not ChatJob.objects.filter(status=ChatJob.Status.FAILED).exists()
        assert feishu.messages == {} and ding.cards == {} and not feishu.tasks and not ding.tasks
        assert not ChatCard.objects.exclude(message_id="").exists()
        # Back: everything goes out once, and nothing more however often the worker runs.
        feishu.down = ding.down = False
        calls = len(feishu.calls), len(ding.calls)
        deliver()
        for _ in range(3):
            clock.shift(HOUR)
            deliver()
    assert set(ChatJob.objects.values_list("status", flat=True)) == {"done"}
    assert len(feishu.messages) == 1 and len(feishu.tasks) == 1
    assert len(ding.cards) == 1 and len(ding.tasks) == 1
    assert len(feishu.bodies("POST", "/open-apis/im/v1/messages")) == 1
    made = [c for c in ding.calls[calls[1] :] if c[1] == "/v1.0/card/instances/createAndDeliver"]
    assert len(made) == 1
    assert len(feishu.calls) - calls[0] == 3  # a token, the card, the task


def test_a_rate_limit_waits_what_the_platform_said_and_is_not_an_attempt(
    cast: Cast, apps: dict[str, ChatApp], feishu: Any, django_capture_on_commit_callbacks: Any
) -> None:
    feishu.rate_limited, feishu.rate_limit_reset = 1, "7"
    with time_machine.travel(timezone.now(), tick=False) as clock:
        now = timezone.now()
        submit(cast, "20000", capture=django_capture_on_commit_callbacks)
        deliver()
        send = ChatJob.objects.get(action=ChatJob.Action.SEND)
        assert (send.status, send.attempts) == (ChatJob.Status.PENDING, 0)
        assert send.next_attempt_at == now + dt.timedelta(seconds=7)
        assert "too many requests" in send.last_error
        clock.shift(6)
        assert deliver() == outbox.Outcome()  # not due yet
        assert feishu.messages == {}
        clock.shift(1)
        assert deliver().done == 1
    send.refresh_from_db()
    assert (send.status, send.attempts) == (ChatJob.Status.DONE, 1)
    assert len(feishu.messages) == 1
    assert len(feishu.bodies("POST", "/open-apis/im/v1/messages")) == 2  # refused once, sent


def _page(cast: Cast, app: ChatApp) -> str:
    client = Client()
    client.force_login(cast.it_admin)
    response = client.get(reverse("integrations:chat-app-detail", args=[app.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _send_again(cast: Cast, job: ChatJob, capture: Any) -> Any:
    client = Client()
    client.force_login(cast.it_admin)
    url = reverse("integrations:chat-job-retry", args=[job.card.app_id, job.pk])
    with capture(execute=True):  # the worker runs once the retry commits
        return client.post(url)


def test_refusals_are_dead_letters_shown_and_sent_again_once_fixed(
    cast: Cast, apps: dict[str, ChatApp], feishu: Any, ding: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    """Feishu does not know the head (230013); later DingTalk's monthly quota is used up. Each
    is a dead letter at once, on its app's page; once fixed, "Send again" sends it once."""
    capture = django_capture_on_commit_callbacks
    feishu.users = {"someone-else"}
    request = submit(cast, "60000", capture=capture)
    deliver()
    dead = ChatJob.objects.get(status=ChatJob.Status.FAILED)
    assert (dead.action, dead.attempts, dead.card.app) == ("send", 1, apps["feishu"])
    assert "230013" in dead.last_error
    page = _page(cast, apps["feishu"])
    retry_url = reverse("integrations:chat-job-retry", args=[apps["feishu"].pk, dead.pk])
    assert 'data-testid="dead-letters"' in page and retry_url in page
    assert "230013" in page
    feishu.users = None  # the app's availability now covers the head
    assert _send_again(cast, dead, capture).status_code == 302
    dead.refresh_from_db()
    assert dead.status == ChatJob.Status.DONE and len(feishu.messages) == 1
    assert retry_url not in _page(cast, apps["feishu"])
    _send_again(cast, dead, capture)  # no longer a dead letter: nothing sent
    assert len(feishu.bodies("POST", "/open-apis/im/v1/messages")) == 2  # refused, then sent

    ding.quota_exhausted = True
    with capture(execute=True):
        services.step_decide(request=request, user=cast.head_a, decision="approve")
    deliver()
    dead_ding = list(ChatJob.objects.filter(status=ChatJob.Status.FAILED).order_by("pk"))
    assert [j.action for j in dead_ding] == ["send", "todo_open"]
    assert all("ApiCountLimitForOrg" in j.last_error or "quota" in j.last_error.lower()
               for j in dead_ding), [j.last_error for j in dead_ding]  # fmt: skip
    page = _page(cast, apps["dingtalk"])
    assert all(
        reverse("integrations:chat-job-retry", args=[apps["dingtalk"].pk, j.pk]) in page
        for j in dead_ding
    )
    ding.quota_exhausted = False
    for job in dead_ding:
        _send_again(cast, job, capture)
    assert not ChatJob.objects.filter(status=ChatJob.Status.FAILED).exists()
    assert len(ding.cards) == 1 and len(ding.tasks) == 1
    made = ding.api_calls("/v1.0/card/instances/createAndDeliver")
    assert len(made) == 2  # refused (the quota), then sent
