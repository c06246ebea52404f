"""Risk register: generated risks appear and close with their conditions (every rule, both
ways), come back as new risks, survive concurrent refreshes; manual risks and edits; the
quarterly review and its reminder run by django-q2's scheduler; the register, its exports and
PDF; hostile input."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from collections.abc import Callable

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django_q.models import Schedule, Success
from django_q.scheduler import scheduler
from pypdf import PdfReader

from org.models import Person, User
from renewals.inventory.models import Subscription
from renewals.notify.models import Notification
from renewals.requests.models.requests import RenewalRequest
from renewals.risks import selectors, services
from renewals.risks.models import Risk, RiskReview
from renewals.risks.rules import Rule
from renewals.risks.services import add_quarter, risks_refresh
from renewals.usage.models import Seat
from tests.conftest import Cast, make_user
from tests.factories import DepartmentFactory, PersonFactory, SeatFactory, SubscriptionFactory

TODAY = dt.date(2026, 11, 26)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def open_risks(rule: str) -> list[Risk]:
    return list(Risk.objects.filter(rule=rule).exclude(status="closed"))


def leaver(cast: Cast, name: str = "离职的李四") -> Person:
    return PersonFactory.create(
        department=cast.dept_a, name=name, status="left", left_on=dt.date(2026, 10, 1)
    )


def quiet(cast: Cast) -> None:
    """The cast's own subscription raises nothing: owned, not auto-renewing, live."""
    Subscription.objects.filter(pk=cast.subscription_a.pk).update(
        owner=cast.software_admin, term_end=dt.date(2027, 6, 30)
    )


@pytest.fixture
def base(cast: Cast) -> Cast:
    quiet(cast)
    return cast


def refresh() -> services.RefreshResult:
    return risks_refresh(today=TODAY)


# --- Rules, both ways --------------------------------------------------------------------------


@pytest.mark.django_db
def test_nothing_is_raised_when_no_condition_holds(base: Cast) -> None:
    assert refresh().raised == 0
    assert not Risk.objects.exists()


@pytest.mark.django_db
def test_auto_renewal_near_its_deadline_raises_a_contract_trap_that_closes_when_cancelled(
    base: Cast,
) -> None:
    # Deadline = term end - 30 days = 2026-12-16: inside the next 30 days.
    sub = SubscriptionFactory.create(
        department=base.dept_a, owner=base.software_admin, auto_renew=True,
        term_start=dt.date(2026, 1, 16), term_end=dt.date(2027, 1, 15),
    )  # fmt: skip
    far = SubscriptionFactory.create(
        department=base.dept_a, owner=base.software_admin, auto_renew=True,
        term_start=dt.date(2026, 6, 1), term_end=dt.date(2027, 5, 31),
    )  # fmt: skip
    assert refresh().raised == 1
    [risk] = open_risks(Rule.CONTRACT_TRAP)
    assert (risk.subscription_id, risk.department_id) == (sub.pk, base.dept_a.pk)
    assert risk.category == "contract_trap" and risk.owner == base.software_admin
    assert risk.next_review_on == dt.date(2026, 12, 9)  # a week before the deadline
    assert refresh().raised == 0  # a second run changes nothing
    Subscription.objects.filter(pk=sub.pk).update(ends_at_term_end=True)
    assert refresh().closed == 1
    risk.refresh_from_db()
    assert risk.status == "closed" and risk.closed_at and risk.closed_reason
    assert list(risk.reviews.values_list("outcome", flat=True)) == ["auto_closed"]
    assert not Risk.objects.filter(subscription=far).exists()


@pytest.mark.django_db
def test_a_leavers_seat_raises_account_chaos_and_revoking_it_closes_the_risk_with_history(
    base: Cast,
) -> None:
    seat = SeatFactory.create(subscription=base.subscription_a, person=leaver(base), account="lisi")
    SeatFactory.create(subscription=base.subscription_a, person=base.person_a)  # still employed
    refresh()
    [risk] = open_risks(Rule.DEPARTED_HOLDER)
    assert risk.key == str(seat.pk) and risk.category == "account_chaos"
    assert risk.department_id == base.dept_a.pk and risk.owner == base.software_admin
    with translation.override("en"):
        title, description = selectors.risk_text(selectors.get_risk_for(base.it_admin, risk.pk))
    assert "离职的李四" in title and "lisi" in description and "former employee" in description
    with translation.override("zh-hans"):
        title, _ = selectors.risk_text(selectors.get_risk_for(base.it_admin, risk.pk))
    assert "离职" in title and "席位" in title  # a zh-hans reader sees Chinese
    Seat.objects.filter(pk=seat.pk).update(revoked_on=TODAY)
    assert refresh().closed == 1
    risk.refresh_from_db()
    assert risk.status == "closed"
    review = risk.reviews.get()
    assert review.outcome == "auto_closed" and review.reviewer is None
    assert review.changes == {"status": ["open", "closed"]}


@pytest.mark.django_db
def test_no_owner_or_an_inactive_owner_raises_forgotten_renewal_owned_by_the_head(
    base: Cast,
) -> None:
    ownerless = SubscriptionFactory.create(department=base.dept_a, owner=None)
    gone = make_user("gone_owner", is_active=False)
    inactive = SubscriptionFactory.create(department=base.dept_b, owner=gone)
    refresh()
    risks = {r.subscription_id: r for r in open_risks(Rule.NO_OWNER)}
    assert set(risks) == {ownerless.pk, inactive.pk}
    assert risks[ownerless.pk].owner == base.head_a and risks[inactive.pk].owner == base.head_b
    assert risks[ownerless.pk].category == "forgotten_renewal"
    Subscription.objects.filter(pk=ownerless.pk).update(owner=base.software_admin)
    User.objects.filter(pk=gone.pk).update(is_active=True)
    assert refresh().closed == 2
    assert not open_risks(Rule.NO_OWNER)


@pytest.mark.django_db
def test_a_condition_that_comes_back_raises_a_new_risk(base: Cast) -> None:
    sub = SubscriptionFactory.create(department=base.dept_a, owner=None)
    refresh()
    [first] = open_risks(Rule.NO_OWNER)
    Subscription.objects.filter(pk=sub.pk).update(owner=base.head_a)
    refresh()
    Subscription.objects.filter(pk=sub.pk).update(owner=None)
    assert refresh().raised == 1
    [second] = open_risks(Rule.NO_OWNER)
    assert second.pk != first.pk and second.key == first.key
    first.refresh_from_db()
    assert first.status == "closed"
    assert list(second.reviews.values_list("outcome", flat=True)) == ["reopened"]


@pytest.mark.django_db
def test_different_editions_across_departments_raise_one_shared_risk(base: Cast) -> None:
    dept_c = DepartmentFactory.create(code="c", name="财务部 C")
    head_c = make_user("head_c", "department_head")
    dept_c.heads.add(head_c)
    a = SubscriptionFactory.create(
        department=base.dept_a, product="WPS Office", edition="专业版", owner=base.head_a
    )
    b = SubscriptionFactory.create(
        department=base.dept_b, product="wps office", edition="企业版", owner=base.head_b,
        vendor=a.vendor,
    )  # fmt: skip
    SubscriptionFactory.create(department=dept_c, product="Other", edition="X", owner=head_c)
    refresh()
    [risk] = open_risks(Rule.EDITIONS)
    assert risk.department is None and risk.category == "version_inconsistency"
    assert risk.owner == base.it_admin
    for user in (base.head_a, base.head_b, base.finance, base.auditor, base.software_admin):
        assert selectors.visible_risks(user=user).filter(pk=risk.pk).exists(), user
    assert not selectors.visible_risks(user=head_c).filter(pk=risk.pk).exists()
    assert {s.edition for s in selectors.edition_group(risk)} == {"专业版", "企业版"}
    Subscription.objects.filter(pk=b.pk).update(edition="专业版")
    assert refresh().closed == 1


@pytest.mark.django_db
def test_expired_without_decision_raises_and_closes_on_a_request_or_a_decision(
    base: Cast,
) -> None:
    sub = SubscriptionFactory.create(
        department=base.dept_a, owner=base.software_admin, status="expired",
        term_start=dt.date(2025, 11, 1), term_end=dt.date(2026, 10, 31),
    )  # fmt: skip
    decided = SubscriptionFactory.create(
        department=base.dept_a, owner=base.software_admin, status="expired",
        ends_at_term_end=True, term_start=dt.date(2025, 11, 1), term_end=dt.date(2026, 10, 31),
    )  # fmt: skip
    refresh()
    [risk] = open_risks(Rule.EXPIRED)
    assert risk.subscription_id == sub.pk and decided.pk != sub.pk
    request = RenewalRequest.objects.create(
        subscription=sub, department=base.dept_a, requested_by=base.software_admin,
        proposed_seats=10, proposed_term_start=dt.date(2026, 11, 1),
        proposed_term_end=dt.date(2027, 10, 31),
    )  # fmt: skip
    assert refresh().closed == 1  # a request under way
    RenewalRequest.objects.filter(pk=request.pk).update(status="cancelled")
    assert refresh().raised == 1  # came back
    Subscription.objects.filter(pk=sub.pk).update(ends_at_term_end=True)
    assert refresh().closed == 1


@pytest.mark.django_db
def test_the_risk_follows_a_subscription_to_its_new_department(base: Cast) -> None:
    sub = SubscriptionFactory.create(department=base.dept_a, owner=None)
    refresh()
    Subscription.objects.filter(pk=sub.pk).update(department=base.dept_b)
    refresh()
    [risk] = open_risks(Rule.NO_OWNER)
    assert risk.department_id == base.dept_b.pk


# --- Concurrency ---------------------------------------------------------------------------


def _in_threads(count: int, work: Callable[[], object]) -> list[BaseException]:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            work()
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_raise_and_close_each_risk_once(cast: Cast) -> None:
    quiet(cast)
    seats = [
        SeatFactory.create(subscription=cast.subscription_a, person=leaver(cast, f"离职{i}"))
        for i in range(6)
    ]
    for _ in range(5):
        SubscriptionFactory.create(department=cast.dept_b, owner=None)
    assert not _in_threads(4, refresh)
    assert Risk.objects.count() == 11
    assert Risk.objects.values("rule", "key").distinct().count() == 11
    Seat.objects.filter(pk__in=[s.pk for s in seats]).update(revoked_on=TODAY)
    assert not _in_threads(4, refresh)
    assert Risk.objects.filter(status="closed").count() == 6
    assert RiskReview.objects.filter(outcome="auto_closed").count() == 6  # one history row each


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


# --- Register, exports, PDF ------------------------------------------------------------------


def make_risks(cast: Cast, count: int) -> None:
    for i in range(count):
        SeatFactory.create(subscription=cast.subscription_a, person=leaver(cast, f"老赵{i}"))
        services.risk_create(
            user=cast.it_admin,
            data={"category": "other", "title": f"自建{i}", "likelihood": 1 + i % 5, "impact": 2,
                  "department": cast.dept_a if i % 2 else cast.dept_b},
        )  # fmt: skip
    refresh()


@pytest.mark.django_db
@pytest.mark.parametrize("user", ["it_admin", "head_a"])
def test_the_register_page_runs_a_fixed_number_of_queries(
    base: Cast, user: str, django_assert_max_num_queries: object
) -> None:
    client = client_for(getattr(base, user))
    url = reverse("renewals:risk-list")
    make_risks(base, 3)
    client.get(url)
    with django_assert_max_num_queries(14):  # type: ignore[operator]
        small = client.get(url)
    make_risks(base, 40)
    with django_assert_max_num_queries(14):  # type: ignore[operator]
        large = client.get(url + "?sort=-score&page=2")
    assert small.status_code == large.status_code == 200


@pytest.mark.django_db
def test_the_register_sorts_by_score_and_filters(base: Cast) -> None:
    make_risks(base, 4)
    client = client_for(base.head_a)
    html = client.get(reverse("renewals:risk-list")).content.decode()
    assert "老赵0" in html and "自建1" in html
    assert "自建0" not in html  # department B's
    generated = client.get(reverse("renewals:risk-list") + "?source=generated").content.decode()
    assert "自建" not in generated and "老赵3" in generated
    assert "老赵" not in client.get(
        reverse("renewals:risk-list") + "?category=other"
    ).content.decode()  # fmt: skip
    # A department the user may not see fails validation: the page still answers, unfiltered.
    foreign = client.get(reverse("renewals:risk-list") + f"?department={base.dept_b.pk}")
    assert foreign.status_code == 200 and "自建0" not in foreign.content.decode()
    rows = list(selectors.register(user=base.it_admin))
    scores = [r.score for r in rows]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.django_db
def test_exports_neutralise_formulas(base: Cast) -> None:
    services.risk_create(
        user=base.it_admin,
        data={"category": "other", "title": '=HYPERLINK("http://evil.example","点我")',
              "likelihood": 5, "impact": 5, "department": base.dept_a,
              "mitigation": "@SUM(1+1)"},
    )  # fmt: skip
    client = client_for(base.auditor)
    response = client.get(reverse("renewals:risk-list") + "?_export=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert '\'=HYPERLINK("http://evil.example","点我")' in cells
    assert not any(c.startswith("=") for c in cells)
    xlsx = client.get(reverse("renewals:risk-list") + "?_export=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


@pytest.mark.django_db
def test_the_pdf_shows_the_chinese_titles(base: Cast) -> None:
    SeatFactory.create(subscription=base.subscription_a, person=leaver(base, "王离职"))
    refresh()
    services.risk_create(
        user=base.it_admin,
        data={"category": "data_security", "title": "客户资料存放在个人网盘", "likelihood": 2,
              "impact": 5, "department": base.dept_a},
    )  # fmt: skip
    response = client_for(base.head_a).get(reverse("renewals:risk-pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = "".join(text.split())
    assert "客户资料存放在个人网盘" in text
    assert "王离职" in text and "风险清单" in text


@pytest.mark.django_db
def test_the_review_page_runs_a_fixed_number_of_queries(
    base: Cast, django_assert_max_num_queries: object
) -> None:
    client = client_for(base.software_admin)
    url = reverse("renewals:risk-review-list")
    make_risks(base, 2)
    Risk.objects.update(next_review_on=TODAY)
    with time_machine.travel(dt.datetime(2026, 11, 26, 4, tzinfo=dt.UTC)):
        with django_assert_max_num_queries(12):  # type: ignore[operator]
            small = client.get(url)
        make_risks(base, 30)
        Risk.objects.update(next_review_on=TODAY)
        with django_assert_max_num_queries(12):  # type: ignore[operator]
            large = client.get(url)
    assert small.content.decode().count("data-risk-row>") == 2
    assert large.content.decode().count("data-risk-row>") == 32


@pytest.mark.django_db
def test_the_admin_shows_risks_with_their_history_read_only(base: Cast) -> None:
    SeatFactory.create(subscription=base.subscription_a, person=leaver(base))
    refresh()
    risk = Risk.objects.get()
    services.risk_review(user=base.it_admin, risk_id=risk.pk, note="看过")
    client = client_for(base.it_admin)  # a superuser
    assert client.get(reverse("admin:renewals_risk_changelist")).status_code == 200
    page = client.get(reverse("admin:renewals_risk_change", args=[risk.pk]))
    assert page.status_code == 200 and "看过" in page.content.decode()
    assert client.get(reverse("admin:renewals_risk_add")).status_code == 403


# --- Demo -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_demo_raises_account_chaos_for_its_leavers_and_adds_manual_risks() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    leavers_seats = Seat.objects.filter(revoked_on__isnull=True, person__status="left").count()
    assert leavers_seats >= 1
    assert len(open_risks(Rule.DEPARTED_HOLDER)) == leavers_seats
    assert Risk.objects.filter(rule="").count() == 2
    from renewals.demo import risks as demo_risks

    demo_risks.build()  # idempotent
    assert Risk.objects.filter(rule="").count() == 2


def test_add_quarter_keeps_the_day_or_ends_the_month() -> None:
    assert add_quarter(dt.date(2026, 11, 30)) == dt.date(2027, 2, 28)
    assert add_quarter(dt.date(2027, 11, 30)) == dt.date(2028, 2, 29)
    assert add_quarter(dt.date(2026, 1, 31)) == dt.date(2026, 4, 30)
    assert add_quarter(dt.date(2026, 10, 1)) == dt.date(2027, 1, 1)


def test_level_labels_follow_the_readers_language() -> None:
    from renewals.risks.forms import LEVELS

    with translation.override("en"):
        assert str(dict(LEVELS)["1"]) == "1 · very low"
    with translation.override("zh-hans"):
        assert str(dict(LEVELS)["5"]) == "5 · 很高"


def test_subscription_page_lists_its_open_risks_in_the_readers_language(cast: Cast) -> None:
    leaver = PersonFactory.create(
        department=cast.dept_a, name="离职者<b>孙七</b>", status=Person.Status.LEFT,
        left_on=dt.date(2026, 9, 1),
    )  # fmt: skip
    seat = SeatFactory.create(subscription=cast.subscription_a, person=leaver)
    risks_refresh()
    client = Client()
    client.force_login(cast.head_a)
    url = reverse("renewals:subscription-detail", args=[cast.subscription_a.pk])
    html = client.get(url).content.decode()
    panel = html.split('data-testid="subscription-risks"', 1)[1].split("</ul>", 1)[0]
    assert "离职者&lt;b&gt;孙七&lt;/b&gt;" in panel and "<b>" not in panel
    risk = Risk.objects.get(rule=Rule.DEPARTED_HOLDER, key=str(seat.pk))
    assert reverse("renewals:risk-detail", args=[risk.pk]) in panel
    assert f"{reverse('renewals:suggestion-add')}?subscription={cast.subscription_a.pk}" in html
    # Closed risks leave the panel.
    seat.revoked_on = dt.date(2026, 11, 1)
    seat.save()
    risks_refresh()
    html = client.get(url).content.decode()
    assert "孙七" not in html.split('data-testid="subscription-risks"', 1)[1].split("</ul>", 1)[0]
