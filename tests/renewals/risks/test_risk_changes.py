"""Risk register, changes by people: manual risks and edits (permissions, hostile input), the
quarterly review, and the reminder and daily refresh run by django-q2's scheduler."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule, Success
from django_q.scheduler import scheduler

from renewals.notify.models import Notification
from renewals.risks import services
from renewals.risks.models import Risk
from renewals.risks.rules import Rule
from tests.conftest import Cast
from tests.factories import SeatFactory, SubscriptionFactory
from tests.renewals.risks.conftest import TODAY, client_for, leaver, open_risks, refresh

# --- Manual risks, edits, permissions --------------------------------------------------------


def risk_post(**overrides: str) -> dict[str, str]:
    data = {
        "category": "vendor_lock_in", "title": "依赖单一供应商", "description": "说明",
        "likelihood": "3", "impact": "4", "owner": "", "mitigation": "评估替代方案",
        "status": "open", "next_review_on": "2027-01-15", "note": "",
    }  # fmt: skip
    return data | overrides


@pytest.mark.django_db
def test_a_head_adds_a_risk_for_their_department_only(base: Cast) -> None:
    client = client_for(base.head_a)
    data = risk_post(department=str(base.dept_a.pk), owner=str(base.software_admin.pk))
    response = client.post(reverse("renewals:risk-add"), data)
    risk = Risk.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "renewals:risk-detail", args=[risk.pk]
    )
    assert (risk.department, risk.owner, risk.created_by) == (
        base.dept_a, base.software_admin, base.head_a
    )  # fmt: skip
    assert risk.rule == "" and risk.score == 12
    response = client.post(reverse("renewals:risk-add"), risk_post(department=str(base.dept_b.pk)))
    assert response.status_code == 400 and Risk.objects.count() == 1
    response = client.post(reverse("renewals:risk-add"), risk_post(department=""))
    assert response.status_code == 400 and Risk.objects.count() == 1  # heads name a department


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field,value",
    [
        ("likelihood", "0"),
        ("likelihood", "6"),
        ("likelihood", "x"),
        ("impact", "-1"),
        ("impact", ""),
        ("title", "x" * 201),
        ("title", ""),
        ("description", "长" * 10_000),
        ("mitigation", "m" * 10_000),
        ("category", "nonsense"),
        ("status", "deleted"),
        ("next_review_on", "31/02/2027"),
        ("department", "99999999999999999999"),
    ],
)
def test_broken_input_is_refused_with_a_message_and_writes_nothing(
    base: Cast, field: str, value: str
) -> None:
    response = client_for(base.it_admin).post(
        reverse("renewals:risk-add"), risk_post(**{field: value})
    )
    assert response.status_code == 400
    assert 'class="invalid-feedback' in response.content.decode() or "text-danger" in (
        response.content.decode()
    )
    assert not Risk.objects.exists()


@pytest.mark.django_db
def test_a_foreign_owner_is_refused(base: Cast) -> None:
    data = risk_post(department=str(base.dept_a.pk), owner=str(base.head_b.pk))
    response = client_for(base.head_a).post(reverse("renewals:risk-add"), data)
    assert response.status_code == 400 and not Risk.objects.exists()
    employee = risk_post(department=str(base.dept_a.pk), owner=str(base.employee.pk))
    assert client_for(base.it_admin).post(reverse("renewals:risk-add"), employee).status_code == 400
    assert not Risk.objects.exists()


@pytest.mark.django_db
def test_script_tags_are_shown_as_text_and_extra_fields_are_ignored(base: Cast) -> None:
    data = risk_post(
        title="<script>alert(1)</script>", department=str(base.dept_a.pk),
        rule=Rule.NO_OWNER, key="1", closed_at="2020-01-01T00:00:00Z", created_by=str(base.head_b.pk),
        opened_at="2000-01-01",
    )  # fmt: skip
    assert client_for(base.it_admin).post(reverse("renewals:risk-add"), data).status_code == 302
    risk = Risk.objects.get()
    assert (risk.rule, risk.key, risk.closed_at, risk.created_by) == ("", "", None, base.it_admin)
    assert risk.opened_at.year >= 2026
    for url in (reverse("renewals:risk-detail", args=[risk.pk]), reverse("renewals:risk-list")):
        html = client_for(base.head_a).get(url).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.django_db
def test_a_generated_risk_keeps_its_condition_and_cannot_be_closed_by_hand(base: Cast) -> None:
    seat = SeatFactory.create(subscription=base.subscription_a, person=leaver(base))
    refresh()
    [risk] = open_risks(Rule.DEPARTED_HOLDER)
    url = reverse("renewals:risk-edit", args=[risk.pk])
    client = client_for(base.head_a)
    data = risk_post(
        title="改掉", category="other", department=str(base.dept_b.pk), status="accepted",
        owner=str(base.head_a.pk), mitigation="交接账号", rule="x", key="y", note="接受",
    )  # fmt: skip
    assert client.post(url, data).status_code == 302
    risk.refresh_from_db()
    assert (risk.category, risk.department_id, risk.rule, risk.key) == (
        "account_chaos", base.dept_a.pk, Rule.DEPARTED_HOLDER, str(seat.pk)
    )  # fmt: skip
    assert (risk.status, risk.owner, risk.mitigation) == ("accepted", base.head_a, "交接账号")
    review = risk.reviews.get()
    assert review.outcome == "updated" and review.reviewer == base.head_a
    assert review.changes["status"] == ["open", "accepted"] and review.note == "接受"
    assert client.post(url, data | {"status": "closed"}).status_code == 400
    risk.refresh_from_db()
    assert risk.status == "accepted"
    # Accepted still counts as not closed: the next refresh keeps the same risk.
    assert refresh().raised == 0


@pytest.mark.django_db
def test_a_manual_risk_closed_by_hand_records_when_and_why(base: Cast) -> None:
    risk = services.risk_create(
        user=base.finance,
        data={"category": "other", "title": "T", "likelihood": 2, "impact": 2, "department": None},
    )
    assert risk.next_review_on is not None
    services.risk_update(
        user=base.finance, risk_id=risk.pk, changes={"status": "closed"}, note="已解决"
    )
    risk.refresh_from_db()
    assert risk.status == "closed" and risk.closed_at and risk.closed_reason == "已解决"
    assert risk.reviews.get().outcome == "closed"
    # A company-wide risk: not for heads.
    assert client_for(base.head_a).get(
        reverse("renewals:risk-detail", args=[risk.pk])
    ).status_code == 404  # fmt: skip


# --- Review -----------------------------------------------------------------------------------


@pytest.fixture
def due(base: Cast) -> Risk:
    SeatFactory.create(subscription=base.subscription_a, person=leaver(base))
    refresh()
    [risk] = open_risks(Rule.DEPARTED_HOLDER)
    Risk.objects.filter(pk=risk.pk).update(next_review_on=TODAY)
    risk.refresh_from_db()
    return risk


@pytest.mark.django_db
def test_the_owner_confirms_a_risk_in_place_and_the_next_review_moves_a_quarter(
    base: Cast, due: Risk
) -> None:
    client = client_for(base.software_admin)  # the subscription's owner owns the risk
    with time_machine.travel(dt.datetime(2026, 11, 26, 4, tzinfo=dt.UTC)):
        page = client.get(reverse("renewals:risk-review-list")).content.decode()
        assert 'data-testid="risk-review-form"' in page and "离职的李四" in page
        response = client.post(
            reverse("renewals:risk-review", args=[due.pk]),
            {f"r{due.pk}-action": "confirm", f"r{due.pk}-likelihood": "x"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    assert 'data-testid="risk-review-done"' in response.content.decode()
    due.refresh_from_db()
    assert due.next_review_on == dt.date(2027, 2, 26)
    assert due.likelihood == 3  # confirming ignores the other fields
    review = due.reviews.get()
    assert review.outcome == "confirmed" and review.reviewer == base.software_admin
    assert review.changes == {"next_review_on": ["2026-11-26", "2027-02-26"]}
    # No longer due: the review page is empty.
    with time_machine.travel(dt.datetime(2026, 11, 26, 4, tzinfo=dt.UTC)):
        page = client.get(reverse("renewals:risk-review-list")).content.decode()
    assert 'data-testid="risk-review-empty"' in page


@pytest.mark.django_db
def test_an_update_records_the_changes_and_shows_in_the_history(base: Cast, due: Risk) -> None:
    client = client_for(base.software_admin)
    prefix = f"r{due.pk}-"
    data = {
        prefix + "action": "update", prefix + "likelihood": "5", prefix + "impact": "2",
        prefix + "status": "mitigating", prefix + "mitigation": "本周内收回账号",
        prefix + "note": "已联系", prefix + "owner": str(base.head_b.pk),
    }  # fmt: skip
    response = client.post(reverse("renewals:risk-review", args=[due.pk]), data)
    assert response.status_code == 302
    due.refresh_from_db()
    assert (due.likelihood, due.impact, due.status, due.mitigation) == (
        5, 2, "mitigating", "本周内收回账号"
    )  # fmt: skip
    assert due.owner == base.software_admin  # owner is not a review field
    review = due.reviews.get()
    assert review.outcome == "updated" and review.note == "已联系"
    assert review.changes["likelihood"] == [3, 5] and review.changes["status"] == [
        "open", "mitigating"
    ]  # fmt: skip
    html = client.get(reverse("renewals:risk-detail", args=[due.pk])).content.decode()
    assert "已联系" in html and 'data-testid="risk-history"' in html
    assert "未处理 → 缓解中" in html  # status labels, not stored values
    bad = client.post(
        reverse("renewals:risk-review", args=[due.pk]),
        data | {prefix + "likelihood": "9"},
        HTTP_HX_REQUEST="true",
    )
    assert bad.status_code == 400 and due.reviews.count() == 1


@pytest.mark.django_db
def test_someone_elses_risk_cannot_be_reviewed(base: Cast, due: Risk) -> None:
    url = reverse("renewals:risk-review", args=[due.pk])
    data = {f"r{due.pk}-action": "confirm"}
    assert client_for(base.head_b).post(url, data).status_code == 404  # another department
    Risk.objects.filter(pk=due.pk).update(owner=base.head_a)
    assert client_for(base.software_admin).post(url, data).status_code == 403  # sees, not owner
    assert client_for(base.auditor).post(url, data).status_code == 403
    assert client_for(base.employee).post(url, data).status_code == 403
    assert client_for(base.software_admin).get(url).status_code == 405
    assert not due.reviews.exists()
    assert client_for(base.finance).post(url, data).status_code == 302  # IT / finance may


# --- Reminder via the scheduler ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_quarterly_reminder_reaches_each_owner_once_through_the_scheduler(
    base: Cast,
) -> None:
    for i in range(3):
        SeatFactory.create(subscription=base.subscription_a, person=leaver(base, f"离职{i}"))
    SubscriptionFactory.create(department=base.dept_b, owner=None)  # owned by head_b
    refresh()
    Risk.objects.update(next_review_on=dt.date(2026, 12, 31))
    call_command("sync_schedules")
    reminder = Schedule.objects.get(name="renewaldesk:risk-review-reminder")
    assert reminder.cron == "0 9 1 1,4,7,10 *"
    assert Schedule.objects.get(name="renewaldesk:risk-refresh").cron == "0 6 * * *"
    Schedule.objects.filter(pk=reminder.pk).update(
        next_run=timezone.now() - dt.timedelta(seconds=1)
    )
    Notification.objects.all().delete()
    with time_machine.travel(dt.datetime(2027, 1, 1, 1, 0, tzinfo=dt.UTC)):  # 09:00 in Shanghai
        scheduler()
    assert Success.objects.filter(func="renewals.tasks.remind_risk_reviews").exists()
    reminders = Notification.objects.filter(url=reverse("renewals:risk-review-list"))
    told = sorted(reminders.values_list("user__username", flat=True))
    assert told == ["head_b", "swadmin_a"]  # three risks, one notice
    notice = Notification.objects.get(user=base.software_admin)
    assert notice.url == reverse("renewals:risk-review-list") and "3" in notice.title


@pytest.mark.django_db
def test_the_daily_refresh_runs_through_the_scheduler(base: Cast) -> None:
    SeatFactory.create(subscription=base.subscription_a, person=leaver(base))
    call_command("sync_schedules")
    job = Schedule.objects.get(name="renewaldesk:risk-refresh")
    Schedule.objects.filter(pk=job.pk).update(next_run=timezone.now() - dt.timedelta(seconds=1))
    scheduler()
    assert Success.objects.filter(func="renewals.tasks.refresh_risks").exists()
    assert len(open_risks(Rule.DEPARTED_HOLDER)) == 1
