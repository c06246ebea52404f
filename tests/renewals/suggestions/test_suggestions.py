"""Savings suggestions (优化建议): submit, decide, realise, list, exports, totals."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from org.roles import Role
from renewals.inventory.models import Subscription
from renewals.notify.models import Notification
from renewals.suggestions import services
from renewals.suggestions.models import Suggestion
from renewals.suggestions.selectors import suggestion_savings
from tests.conftest import Cast, make_user
from tests.factories import PersonFactory, SeatFactory, SubscriptionFactory


@pytest.fixture
def sub_b(cast: Cast) -> Subscription:
    return SubscriptionFactory.create(department=cast.dept_b, product="飞书项目")


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _submit(user: Any, subscription: Subscription, **extra: Any) -> Suggestion:
    return services.suggestion_submit(
        user=user, subscription=subscription, title=extra.pop("title", "少买 3 个席位"),
        estimated_saving=extra.pop("estimated_saving", Decimal("3000.00")), **extra,
    )  # fmt: skip


def _post_add(user: Any, **data: str) -> Any:
    return _client(user).post(reverse("renewals:suggestion-add"), data)


# --- submitting ------------------------------------------------------------------------------


def test_a_head_submits_on_a_subscription_of_their_department(cast: Cast) -> None:
    response = _post_add(
        cast.head_a, subscription=str(cast.subscription_a.pk), title="  改用团队版  ",
        details="只用到基础功能", estimated_saving="12000.50",
    )  # fmt: skip
    suggestion = Suggestion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("renewals:suggestion-detail", args=[suggestion.pk])
    assert suggestion.title == "改用团队版" and suggestion.author == cast.head_a
    assert suggestion.estimated_saving == Decimal("12000.50") and suggestion.status == "submitted"


def test_an_employee_picks_from_the_subscriptions_they_hold_a_seat_of(
    cast: Cast, sub_b: Subscription
) -> None:
    person = PersonFactory.create(department=cast.dept_b, user=cast.employee)
    SeatFactory.create(subscription=sub_b, person=person)
    page = _client(cast.employee).get(reverse("renewals:suggestion-add")).content.decode()
    assert "飞书项目" in page and f'value="{cast.subscription_a.pk}"' not in page
    response = _post_add(cast.employee, subscription=str(sub_b.pk), title="合并会议工具")
    assert response.status_code == 302
    # … but not on one they hold no seat of.
    response = _post_add(cast.employee, subscription=str(cast.subscription_a.pk), title="x")
    assert response.status_code == 400
    assert Suggestion.objects.count() == 1
    # Their own suggestion is visible to them; the list shows nothing else.
    listing = _client(cast.employee).get(reverse("renewals:suggestion-list")).content.decode()
    assert "合并会议工具" in listing


def test_an_employee_without_seats_is_told_there_is_nothing_to_suggest_on(cast: Cast) -> None:
    page = _client(cast.employee).get(reverse("renewals:suggestion-add")).content.decode()
    assert 'data-testid="no-subscriptions"' in page


def test_the_subscription_link_prefills_the_form(cast: Cast, sub_b: Subscription) -> None:
    url = reverse("renewals:suggestion-add") + f"?subscription={cast.subscription_a.pk}"
    page = _client(cast.head_a).get(url).content.decode()
    assert f'<option value="{cast.subscription_a.pk}" selected>' in page
    # Another department's id is simply not offered.
    url = reverse("renewals:suggestion-add") + f"?subscription={sub_b.pk}"
    page = _client(cast.head_a).get(url).content.decode()
    assert (
        f'value="{sub_b.pk}"' not in page
        and " selected>" not in page.split("subscription")[1][:2000]
    )


@pytest.mark.parametrize(
    "data",
    [
        {"title": "", "estimated_saving": "1"},
        {"title": "   ", "estimated_saving": "1"},
        {"title": "x" * 10_000},
        {"title": "ok", "details": "x" * 10_000},
        {"title": "ok", "estimated_saving": "-100"},
        {"title": "ok", "estimated_saving": "NaN"},
        {"title": "ok", "estimated_saving": "Infinity"},
        {"title": "ok", "estimated_saving": "1e5"},
        {"title": "ok", "estimated_saving": "1,000"},
        {"title": "ok", "estimated_saving": "0"},
        {"title": "ok", "estimated_saving": "1" * 25},
        {"title": "ok", "estimated_saving": "12.345"},
        {"title": "ok", "subscription": "abc"},
        {"title": "ok", "subscription": "99999999999999999999"},
        {"title": "ok", "subscription": ""},
    ],
)
def test_broken_and_hostile_input_is_refused_and_nothing_is_written(
    cast: Cast, data: dict[str, str]
) -> None:
    data = {"subscription": str(cast.subscription_a.pk), **data}
    response = _post_add(cast.head_a, **data)
    assert response.status_code == 400
    assert "invalid-feedback" in response.content.decode()
    assert not Suggestion.objects.exists()


def test_another_departments_subscription_is_refused(cast: Cast, sub_b: Subscription) -> None:
    response = _post_add(cast.head_a, subscription=str(sub_b.pk), title="偷偷建议")
    assert response.status_code == 400
    assert not Suggestion.objects.exists()
    with pytest.raises(PermissionDenied):
        _submit(cast.head_a, sub_b)
    with pytest.raises(PermissionDenied):
        _submit(cast.employee, cast.subscription_a)


def test_script_tags_are_shown_as_text(cast: Cast) -> None:
    hostile = "<script>alert(1)</script>"
    suggestion = _submit(cast.head_a, cast.subscription_a, title=hostile, details=hostile)
    for url in (
        reverse("renewals:suggestion-detail", args=[suggestion.pk]),
        reverse("renewals:suggestion-list"),
    ):
        page = _client(cast.it_admin).get(url).content.decode()
        assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- deciding --------------------------------------------------------------------------------


def test_it_accepts_and_the_author_is_told(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    suggestion = _submit(cast.head_a, cast.subscription_a)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(cast.it_admin).post(
            reverse("renewals:suggestion-decide", args=[suggestion.pk]), {"decision": "accept"}
        )
    assert response.status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.status == "accepted" and suggestion.decided_by == cast.it_admin
    told = Notification.objects.filter(user=cast.head_a, url__endswith=f"/{suggestion.pk}/")
    assert told.count() == 1
    assert any(cast.head_a.email in m.to for m in mail.outbox)


def test_declining_needs_a_note(cast: Cast) -> None:
    suggestion = _submit(cast.head_a, cast.subscription_a)
    url = reverse("renewals:suggestion-decide", args=[suggestion.pk])
    _client(cast.it_admin).post(url, {"decision": "decline", "note": "  "})
    suggestion.refresh_from_db()
    assert suggestion.status == "submitted"
    _client(cast.it_admin).post(url, {"decision": "decline", "note": "合同绑定"})
    suggestion.refresh_from_db()
    assert suggestion.status == "declined" and suggestion.decision_note == "合同绑定"


@pytest.mark.parametrize(
    "data", [{"decision": "approve"}, {}, {"decision": "accept", "note": "x" * 10_000}]
)
def test_broken_decisions_change_nothing(cast: Cast, data: dict[str, str]) -> None:
    suggestion = _submit(cast.head_a, cast.subscription_a)
    url = reverse("renewals:suggestion-decide", args=[suggestion.pk])
    assert _client(cast.it_admin).post(url, data).status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.status == "submitted"


def test_only_it_decides(cast: Cast) -> None:
    suggestion = _submit(cast.head_a, cast.subscription_a)
    for user in (cast.finance, cast.head_a, cast.software_admin, cast.auditor, cast.employee):
        with pytest.raises(PermissionDenied):
            services.suggestion_decide(suggestion=suggestion, user=user, accept=True)
        response = _client(user).post(
            reverse("renewals:suggestion-decide", args=[suggestion.pk]), {"decision": "accept"}
        )
        assert response.status_code == 403
    suggestion.refresh_from_db()
    assert suggestion.status == "submitted"


def test_a_second_decision_is_refused(cast: Cast) -> None:
    suggestion = _submit(cast.head_a, cast.subscription_a)
    services.suggestion_decide(suggestion=suggestion, user=cast.it_admin, accept=True)
    with pytest.raises(services.SuggestionRefused) as refused:
        services.suggestion_decide(
            suggestion=suggestion, user=cast.it_admin, accept=False, note="x"
        )
    assert refused.value.code == "already_decided"


def _in_threads(count: int, work: Any) -> list[Any]:
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        try:
            barrier.wait()
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.django_db(transaction=True)
def test_two_it_admins_deciding_at_once_make_one_decision(cast: Cast) -> None:
    second = make_user("it_admin_2", Role.IT_ADMIN)
    for attempt in range(5):
        suggestion = _submit(cast.head_a, cast.subscription_a, title=f"建议 {attempt}")

        def decide(i: int, suggestion: Suggestion = suggestion) -> str:
            user = (cast.it_admin, second)[i]
            try:
                services.suggestion_decide(
                    suggestion=suggestion, user=user, accept=i == 0, note="不需要"
                )
            except services.SuggestionRefused as exc:
                return str(exc.code)
            return "accepted" if i == 0 else "declined"

        results = sorted(_in_threads(2, decide))
        assert results in (["accepted", "already_decided"], ["already_decided", "declined"])
        suggestion.refresh_from_db()
        assert suggestion.status == next(r for r in results if r != "already_decided")


def test_realising_an_accepted_suggestion(cast: Cast) -> None:
    suggestion = _submit(cast.head_a, cast.subscription_a)
    url = reverse("renewals:suggestion-realise", args=[suggestion.pk])
    today = timezone.localdate().isoformat()
    _client(cast.it_admin).post(url, {"realised_saving": "2500", "realised_on": today})
    suggestion.refresh_from_db()
    assert suggestion.status == "submitted"  # not accepted yet: refused
    services.suggestion_decide(suggestion=suggestion, user=cast.it_admin, accept=True)
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    for bad in (
        {"realised_saving": "-1", "realised_on": today},
        {"realised_saving": "NaN", "realised_on": today},
        {"realised_saving": "9" * 25, "realised_on": today},
        {"realised_saving": "2500", "realised_on": future},
        {"realised_saving": "2500", "realised_on": "nonsense"},
    ):
        _client(cast.it_admin).post(url, bad)
        suggestion.refresh_from_db()
        assert suggestion.status == "accepted", bad
    _client(cast.it_admin).post(url, {"realised_saving": "2500", "realised_on": today})
    suggestion.refresh_from_db()
    assert suggestion.status == "realised" and suggestion.realised_saving == Decimal("2500.00")


# --- list, exports, totals -------------------------------------------------------------------


def test_the_list_is_scoped_and_filtered(cast: Cast, sub_b: Subscription) -> None:
    a = _submit(cast.head_a, cast.subscription_a, title="A 的建议")
    b = _submit(cast.head_b, sub_b, title="B 的建议")
    services.suggestion_decide(suggestion=b, user=cast.it_admin, accept=True)
    url = reverse("renewals:suggestion-list")
    page_a = _client(cast.head_a).get(url).content.decode()
    assert "A 的建议" in page_a and "B 的建议" not in page_a
    it = _client(cast.it_admin)
    assert "B 的建议" not in it.get(url, {"status": "submitted"}).content.decode()
    assert "A 的建议" not in it.get(url, {"department": cast.dept_b.pk}).content.decode()
    page = it.get(url, {"subscription": a.subscription_id}).content.decode()
    assert "A 的建议" in page and "B 的建议" not in page
    # Head A may not filter by B's department: the value is refused, not applied.
    refused = _client(cast.head_a).get(url, {"department": cast.dept_b.pk}).content.decode()
    assert "B 的建议" not in refused
    assert _client(cast.head_a).get(url, {"subscription": "1e5"}).status_code == 200
    assert (
        _client(cast.head_b).get(reverse("renewals:suggestion-detail", args=[a.pk])).status_code
        == 404
    )


def test_the_list_has_a_fixed_query_count(
    cast: Cast, sub_b: Subscription, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        _submit(cast.head_a, cast.subscription_a, title=f"建议 {i}")
    client = _client(cast.head_a)
    client.get(reverse("renewals:suggestion-list"))
    with django_assert_max_num_queries(9):
        assert client.get(reverse("renewals:suggestion-list")).status_code == 200
    it = _client(cast.it_admin)
    with django_assert_max_num_queries(9):
        assert it.get(reverse("renewals:suggestion-list")).status_code == 200


def test_exports_are_injection_safe(cast: Cast) -> None:
    _submit(cast.head_a, cast.subscription_a, title='=HYPERLINK("http://evil","x")')
    _submit(cast.head_a, cast.subscription_a, title="@SUM(1+1)", estimated_saving=Decimal("7.5"))
    url = reverse("renewals:suggestion-list")
    client = _client(cast.it_admin)
    text = client.get(url, {"_export": "csv"}).content.decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert '\'=HYPERLINK("http://evil","x")' in cells and "'@SUM(1+1)" in cells
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    book = openpyxl.load_workbook(io.BytesIO(client.get(url, {"_export": "xlsx"}).content))
    values = [c.value for row in book.active.iter_rows() for c in row]
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "@")) for v in values)
    assert 7.5 in values


def test_savings_totals_for_the_dashboard(cast: Cast, sub_b: Subscription) -> None:
    open_one = _submit(cast.head_a, cast.subscription_a, estimated_saving=Decimal("100.10"))
    accepted = _submit(cast.head_a, cast.subscription_a, estimated_saving=Decimal("200.20"))
    realised = _submit(cast.head_b, sub_b, estimated_saving=Decimal("999.00"))
    declined = _submit(cast.head_a, cast.subscription_a, estimated_saving=Decimal("5000"))
    last_year = _submit(cast.head_a, cast.subscription_a, estimated_saving=Decimal("1"))
    for s in (accepted, realised, last_year):
        services.suggestion_decide(suggestion=s, user=cast.it_admin, accept=True)
    services.suggestion_decide(suggestion=declined, user=cast.it_admin, accept=False, note="不")
    today = timezone.localdate()
    services.suggestion_realise(
        suggestion=realised, user=cast.it_admin, realised_saving=Decimal("800.05"),
        realised_on=today,
    )  # fmt: skip
    services.suggestion_realise(
        suggestion=last_year, user=cast.it_admin, realised_saving=Decimal("50"),
        realised_on=today.replace(year=today.year - 1),
    )  # fmt: skip
    everything = suggestion_savings(user=cast.finance)
    assert everything.submitted_estimated == Decimal("100.10") == open_one.estimated_saving
    assert everything.accepted_estimated == Decimal("200.20")
    assert everything.realised == Decimal("850.05")
    assert everything.projected == Decimal("300.30")
    assert suggestion_savings(user=cast.finance, year=today.year).realised == Decimal("800.05")
    only_a = suggestion_savings(user=cast.head_a, year=today.year)
    assert only_a.realised == Decimal("0.00") and only_a.accepted_estimated == Decimal("200.20")
    assert suggestion_savings(user=cast.employee).submitted_estimated == Decimal("0.00")
