"""Risk register, generated risks: they appear and close with their conditions (every rule, both
ways), come back as new risks, follow their subscription, survive concurrent refreshes."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.utils import translation

from org.models import User
from renewals.inventory.models import Subscription
from renewals.requests.models.requests import RenewalRequest
from renewals.risks import selectors
from renewals.risks.models import Risk, RiskReview
from renewals.risks.rules import Rule
from renewals.usage.models import Seat
from tests.conftest import Cast, make_user
from tests.factories import DepartmentFactory, SeatFactory, SubscriptionFactory
from tests.renewals.risks.conftest import TODAY, leaver, open_risks, quiet, refresh

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
