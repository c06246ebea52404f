"""Request notices are keyed and sent once (#16.9): however many notify tasks run, late, twice,
in any order or in parallel, each person gets one bell entry and one e-mail per (request,
round, step, kind), and each chat channel one post."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from importlib import import_module
from typing import Any

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction

from renewals import tasks
from renewals.execution import services as execution_services
from renewals.notify.models import ChatChannel, Notification
from renewals.requests import services
from renewals.requests.models.notices import RequestNotice
from renewals.requests.models.requests import RenewalRequest
from renewals.requests.services import common, notices
from tests.conftest import Cast
from tests.renewals.notify.test_webhooks import Receiver
from tests.renewals.requests.conftest import funded, submitted  # noqa: F401 - the fixture

Task = tuple[str, tuple[Any, ...]]


class Queue:
    """Stands in for django-q2: records the tasks the services queue, runs them when told
    (as a worker would: late, twice, in any order)."""

    def __init__(self) -> None:
        self.tasks: list[Task] = []

    def __call__(self, func: str, *args: Any, **_options: Any) -> None:
        self.tasks.append((func, args))

    def notices(self) -> list[Task]:
        return [t for t in self.tasks if t[0] == "renewals.tasks.request_notify"]

    @staticmethod
    def run(task: Task) -> object:
        module, name = task[0].rsplit(".", 1)
        return getattr(import_module(module), name)(*task[1])


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> Queue:
    recorder = Queue()
    monkeypatch.setattr(common, "async_task", recorder)
    return recorder


@pytest.fixture
def chat(funded: Cast, receiver: str) -> ChatChannel:  # noqa: F811
    return ChatChannel.objects.create(
        department=funded.dept_a, name="研发群", kind="dingtalk", url=receiver, secret="SECx"
    )


def bells(user: Any) -> int:
    """The user's bell entries about subscriptions (the cast starts with one that is not)."""
    return Notification.objects.filter(user=user, subscription__isnull=False).count()


def mails(user: Any) -> int:
    return sum(1 for m in mail.outbox if user.email in m.to)


def told() -> tuple[Counter[tuple[int, str]], Counter[str], int]:
    """Every bell entry (user, title), every e-mail (address + subject), every chat post."""
    entries = Counter(Notification.objects.values_list("user_id", "title"))
    letters = Counter(f"{m.to[0]} {m.subject}" for m in mail.outbox)
    return entries, letters, len(Receiver.received)


# --- the story of the issue -------------------------------------------------------------------


@pytest.mark.parametrize("order", ["as queued", "reversed"])
def test_the_head_approving_before_the_worker_ran_asks_finance_once(
    funded: Cast,  # noqa: F811
    queue: Queue,
    chat: ChatChannel,
    django_capture_on_commit_callbacks: Any,
    order: str,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request = submitted(funded, "60000")  # head, then finance
    with django_capture_on_commit_callbacks(execute=True):
        services.step_decide(request=request, user=funded.head_a, decision="approve")
    assert len(queue.notices()) == 2  # the worker has run neither yet
    mail.outbox.clear()
    for task in queue.notices() if order == "as queued" else queue.notices()[::-1]:
        queue.run(task)

    finance_step = request.steps.get(role="finance")
    assert (bells(funded.finance), mails(funded.finance)) == (1, 1)
    notice = RequestNotice.objects.get(recipient=funded.finance, channel="in_app")
    assert (notice.kind, notice.step, notice.round) == ("awaiting", finance_step, 1)
    # The head decided before the submission's task ran: nothing left to ask of the head.
    assert (bells(funded.head_a), mails(funded.head_a)) == (0, 0)
    assert (bells(funded.software_admin), mails(funded.software_admin)) == (1, 1)
    assert len(Receiver.received) == 2  # "submitted" and "approved a step", once each


def test_a_late_task_of_an_earlier_round_asks_nobody_for_the_new_round(
    funded: Cast,  # noqa: F811
    queue: Queue,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request = submitted(funded, "60000")
        services.step_decide(
            request=request, user=funded.head_a, decision="return", comment="少买点"
        )
        services.request_update(
            request=request, user=funded.software_admin, data={"proposed_seats": 8}
        )
        services.request_submit(request=request, user=funded.software_admin)
    assert [t[1][1] for t in queue.notices()] == ["submitted", "returned", "submitted"]
    for task in queue.notices():
        queue.run(task)
    # Round 1's submission was decided before its task ran; round 2's asks the head once.
    assert (bells(funded.head_a), mails(funded.head_a)) == (1, 1)
    asked = RequestNotice.objects.get(recipient=funded.head_a, channel="email")
    assert (asked.kind, asked.round, asked.step) == (
        "awaiting",
        2,
        request.steps.get(round=2, position=1),
    )


# --- every kind of notice, on every channel ---------------------------------------------------


def _execute(cast: Cast, request: RenewalRequest) -> None:
    execution_services.request_execute(
        request=request, user=cast.finance, order_ref="PO-1", fapiao_no="FP-1",
        actual_amount=Decimal("9000.00"), actual_currency="CNY",
        term_start=dt.date(2027, 1, 1), term_end=dt.date(2027, 12, 31), seats=10,
        edition="", modules=[],
    )  # fmt: skip


def _story(cast: Cast, event: str) -> None:
    """Bring a request to ``event`` (every decision on the way queues its own notices)."""
    request = submitted(cast, "60000" if event == "approved_step" else "9000")
    if event == "submitted":
        return
    decision = {"rejected": "reject", "returned": "return"}.get(event, "approve")
    services.step_decide(request=request, user=cast.head_a, decision=decision, comment="说明")
    if event == "cancelled":
        services.request_cancel(request=request, user=cast.software_admin, reason="不需要了")
    if event == "executed":
        _execute(cast, request)


@pytest.mark.parametrize(
    "event",
    ["submitted", "approved_step", "approved", "rejected", "returned", "cancelled", "executed"],
)
def test_every_notice_is_sent_once_however_often_its_tasks_run(
    funded: Cast,  # noqa: F811
    queue: Queue,
    chat: ChatChannel,
    django_capture_on_commit_callbacks: Any,
    event: str,
) -> None:
    funded.subscription_a.owner = funded.it_admin
    funded.subscription_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        _story(funded, event)
    assert queue.notices()[-1][1][1] == event
    for task in queue.notices():
        queue.run(task)
    once = told()
    entries, letters, posts = once
    assert posts == len(queue.notices())  # each event announced in the chat
    assert entries and letters  # someone was told by bell and e-mail
    assert max(entries.values()) == 1 and max(letters.values()) == 1
    # A retried task, a task run twice, all of them again in reverse order: nothing new.
    for task in [*queue.notices(), *queue.notices()[::-1]]:
        queue.run(task)
    assert told() == once


def test_a_task_queued_before_the_upgrade_uses_the_same_keys(
    funded: Cast,  # noqa: F811
    queue: Queue,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request = submitted(funded, "60000")
        services.step_decide(request=request, user=funded.head_a, decision="approve")
    for task in queue.notices():
        queue.run(task)
    once = told()
    # The same events as three-argument tasks (what the queue held before the upgrade).
    tasks.request_notify(request.pk, "submitted", funded.software_admin.pk)
    tasks.request_notify(request.pk, "approved_step", funded.head_a.pk)
    assert told() == once
    assert (bells(funded.finance), mails(funded.finance)) == (1, 1)


def test_the_schema_refuses_a_second_notice_with_the_same_key(
    funded: Cast,  # noqa: F811
) -> None:
    request = submitted(funded, "9000")
    key = {"request": request, "round": 1, "kind": "cancelled", "channel": "email"}
    RequestNotice.objects.create(**key, recipient=funded.head_a, status="sent")
    # An empty step is a value of the key like any other (NULLS NOT DISTINCT).
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        RequestNotice.objects.create(**key, recipient=funded.head_a, status="sending")
    assert notices._is_duplicate(refused.value)  # what tells a task its notice is taken
    RequestNotice.objects.create(**key, recipient=funded.finance, status="sent")


# --- in parallel ------------------------------------------------------------------------------


def _in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    barrier = threading.Barrier(count)

    def run(i: int) -> object:
        try:
            barrier.wait()
            return work(i)
        finally:
            connection.close()  # each thread had its own connection

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_send_each_notice_once(
    funded: Cast,  # noqa: F811
    queue: Queue,
    chat: ChatChannel,
) -> None:
    request = submitted(funded, "60000")  # committed: the queue records the tasks
    services.step_decide(request=request, user=funded.head_a, decision="approve")
    pair = queue.notices()
    assert [t[1][1] for t in pair] == ["submitted", "approved_step"]
    mail.outbox.clear()
    Receiver.received.clear()
    results = _in_threads(8, lambda i: queue.run(pair[i % 2]))
    assert all(isinstance(r, str) for r in results)
    assert (bells(funded.finance), mails(funded.finance)) == (1, 1)
    assert (bells(funded.software_admin), mails(funded.software_admin)) == (1, 1)
    assert (bells(funded.head_a), mails(funded.head_a)) == (0, 0)
    assert len(Receiver.received) == 2
    assert RequestNotice.objects.filter(status="sending").count() == 0
