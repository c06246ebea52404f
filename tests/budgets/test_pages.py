"""Budget pages: the overview (scoped, rolled up, fixed query count), a budget's ledger, and
finance's actions through the forms, with bad amounts refused."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from budgets import services
from budgets.models import LedgerEntry
from budgets.selectors import balance
from tests.conftest import Cast
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_overview_rolls_sub_departments_up_and_is_scoped(cast: Cast) -> None:
    child = services.budget_for(department=cast.dept_a_child, year=2027)
    services.budget_allocate(budget=child, amount=Decimal("50"), user=cast.finance, memo="m")
    b = services.budget_for(department=cast.dept_b, year=2027)
    services.budget_allocate(budget=b, amount=Decimal("7"), user=cast.finance, memo="m")
    response = signed_in(cast.head_a).get(reverse("budgets:overview"), {"year": "2027"})
    rows = {r.department.code: r for r in response.context["rows"]}
    assert set(rows) == {"a", "a-qa"}
    assert rows["a"].balance.allocated == Decimal("150.00")  # 100 own + 50 of the sub-department
    assert (rows["a"].own.allocated, rows["a"].sub_departments.allocated) == (100, 50)
    assert response.context["total"].allocated == Decimal("150.00")
    everything = signed_in(cast.finance).get(reverse("budgets:overview"), {"year": "2027"}).context
    assert everything["total"].allocated == Decimal("157.00")


def test_overview_query_count_does_not_grow(
    cast: Cast, django_assert_max_num_queries: object
) -> None:
    client = signed_in(cast.finance)
    url = reverse("budgets:overview") + "?year=2027"
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for i in range(40):
        budget = services.budget_for(
            department=DepartmentFactory.create(parent=cast.dept_a if i % 3 else None), year=2027
        )
        services.budget_allocate(budget=budget, amount=Decimal(i + 1), user=cast.finance, memo="m")
    with django_assert_max_num_queries(len(small.captured_queries)):  # type: ignore[operator]
        client.get(url)


def test_finance_allocates_transfers_and_reverses_through_the_page(cast: Cast) -> None:
    client = signed_in(cast.finance)
    budget_b = services.budget_for(department=cast.dept_b, year=2027)
    action = reverse("budgets:budget-action", args=[cast.budget_a.pk])
    client.post(
        action, {"action": "allocate", "amount": "20000.50", "memo": "年度追加", "category": "saas"}
    )
    client.post(
        action,
        {"action": "transfer", "amount": "5000", "target": budget_b.pk, "memo": "调剂给市场部"},
    )
    wrong = LedgerEntry.objects.get(memo="年度追加")
    client.post(reverse("budgets:entry-reverse", args=[wrong.pk]), {"memo": "金额录错"})
    assert balance(cast.budget_a).allocated == Decimal("-4900.00")  # 100 - 5000 after the reversal
    assert balance(budget_b).allocated == Decimal("5000.00")
    page = client.get(cast.budget_a.get_absolute_url())
    html = page.content.decode()
    assert "金额录错" in html and "调剂给市场部" in html
    # The running available balance ends at the budget's (-4900 - 0 reserve).
    running = [r.record.available_after for r in page.context["table"].page.object_list]
    assert running[-1] == balance(cast.budget_a).available == Decimal("-4900.00")
    csv = client.get(cast.budget_a.get_absolute_url(), {"_export": "csv"}).content.decode(
        "utf-8-sig"
    )
    assert "金额录错" in csv


@pytest.mark.parametrize("amount", ["5e4", "1,000", "NaN", "-0", "1234567890123456789012345", "0"])
def test_bad_amounts_are_refused_with_a_message_and_change_nothing(cast: Cast, amount: str) -> None:
    client = signed_in(cast.finance)
    before = LedgerEntry.objects.count()
    response = client.post(
        reverse("budgets:budget-action", args=[cast.budget_a.pk]),
        {"action": "allocate", "amount": amount, "memo": "m"},
        follow=True,
    )
    assert LedgerEntry.objects.count() == before
    assert any(m.level_tag == "error" for m in response.context["messages"])


def test_a_reason_is_required(cast: Cast) -> None:
    client = signed_in(cast.finance)
    before = LedgerEntry.objects.count()
    client.post(
        reverse("budgets:budget-action", args=[cast.budget_a.pk]),
        {"action": "allocate", "amount": "10", "memo": ""},
    )
    client.post(reverse("budgets:entry-reverse", args=[cast.ledger_entry.pk]), {"memo": ""})
    assert LedgerEntry.objects.count() == before


def test_heads_read_only_their_own_budget(cast: Cast) -> None:
    assert signed_in(cast.head_a).get(cast.budget_a.get_absolute_url()).status_code == 200
    assert signed_in(cast.head_b).get(cast.budget_a.get_absolute_url()).status_code == 404
    html = signed_in(cast.head_a).get(cast.budget_a.get_absolute_url()).content.decode()
    assert 'data-testid="ledger-form"' not in html


def test_a_reserve_outside_10_to_20_percent_is_flagged(cast: Cast) -> None:
    client = signed_in(cast.finance)
    assert (
        'data-testid="reserve-warning"'
        not in client.get(cast.budget_a.get_absolute_url()).content.decode()
    )
    cast.budget_a.reserve_percent = Decimal("25")
    cast.budget_a.save()
    assert (
        'data-testid="reserve-warning"'
        in client.get(cast.budget_a.get_absolute_url()).content.decode()
    )


def test_the_quarterly_review_reminder_reaches_finance(cast: Cast) -> None:
    import datetime as dt

    import time_machine
    from django.core import mail
    from django.core.management import call_command
    from django.utils import timezone
    from django_q.models import Schedule
    from django_q.scheduler import scheduler

    from core.schedules import PREFIX

    cast.finance.email = "cfo@example.cn"
    cast.finance.save()
    call_command("sync_schedules")
    reminder = Schedule.objects.get(name=PREFIX + "budget-quarterly-review")
    assert (
        timezone.localtime(reminder.next_run).day == 1
        and timezone.localtime(reminder.next_run).hour == 9
    )
    Schedule.objects.filter(pk=reminder.pk).update(
        next_run=timezone.now() - dt.timedelta(seconds=1)
    )
    with time_machine.travel(dt.datetime(2027, 1, 1, 1, 0, tzinfo=dt.UTC)):
        scheduler()
    # (Every schedule is due on that simulated date, so other mail goes out too.)
    reviews = [m for m in mail.outbox if "季度预算复核" in m.subject]
    assert [m.to for m in reviews] == [["cfo@example.cn"]] and "/budgets/" in reviews[0].body


# The overview's rows as the template wrote them before budgets/rendering.py took over.
TEMPLATE_ROWS = """{% load i18n money %}{% for row in rows %}
  <tr data-department="{{ row.department.code }}">
    <td class="depth-{{ row.depth }}">{% if row.budget %}<a href="{{ row.budget.get_absolute_url }}">{{ row.department.name }}</a>{% else %}{{ row.department.name }}{% if is_finance %} <form class="d-inline" method="post" action="{% url 'budgets:budget-open' %}">{% csrf_token %}<input type="hidden" name="department" value="{{ row.department.pk }}"><input type="hidden" name="year" value="{{ year }}"><button class="btn btn-link btn-sm p-0" type="submit">{% translate "open the budget" %}</button></form>{% endif %}{% endif %}{% include "budgets/_rollup.html" %}</td>
    <td class="text-end">{{ row.balance.allocated|money }}</td><td class="text-end">{{ row.balance.reserve|money }}</td>
    <td class="text-end">{{ row.balance.committed|money }}</td><td class="text-end">{{ row.balance.actual|money }}</td>
    <td class="text-end{% if row.balance.available < 0 %} text-danger fw-bold{% endif %}">{{ row.balance.available|money }}</td>
    <td>{% if row.balance.used_percent is not None %}<progress max="100" value="{{ row.balance.used_percent }}" aria-label="{% translate 'Used' %}">{{ row.balance.used_percent }}%</progress> {{ row.balance.used_percent }}%{% else %}—{% endif %}</td>
  </tr>
  {% endfor %}"""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("is_finance", [True, False])
def test_overview_rows_are_written_as_the_template_wrote_them(
    cast: Cast, language: str, is_finance: bool
) -> None:
    from django.template import Context, Template
    from django.utils import translation

    from budgets.rendering import overview_rows_html
    from budgets.selectors import Balance, DepartmentBudget

    odd = DepartmentFactory.create(code="x<\"&'>", name='<script>alert("研发")</script> & Co')
    below = Balance(Decimal("3.00"), Decimal("0.45"), Decimal("0.10"), Decimal("0.33"))
    rows = [
        DepartmentBudget(
            department=cast.dept_a,
            depth=0,
            budget=cast.budget_a,
            own=Balance(Decimal("997.50"), Decimal("149.63"), Decimal("899.90"), Decimal("0.67")),
            sub_departments=below,
            has_sub_departments=True,
        ),
        DepartmentBudget(cast.dept_a_child, 1, None, Balance(), below, True),
        DepartmentBudget(odd, 2, None, below, Balance(), False),
    ]
    with translation.override(language):
        expected = Template(TEMPLATE_ROWS).render(
            Context({"rows": rows, "year": 2027, "is_finance": is_finance, "csrf_token": "T0k3n"})
        )
        written = overview_rows_html(rows, year=2027, is_finance=is_finance, csrf_token="T0k3n")

    def squeeze(html: str) -> str:
        return re.sub(r">\s+<", "><", html.strip())

    assert squeeze(written) == squeeze(expected)
    assert "<script>" not in written and "text-danger" in written  # 1000.50 - 1051.08 < 0
    assert written.count('data-testid="rollup"') == 2 and (
        ("含下属部门" if language == "zh-hans" else "incl. sub-departments") in written
    )


def test_overview_has_a_bar_chart_of_the_top_level_departments(cast: Cast) -> None:
    import json

    child = services.budget_for(department=cast.dept_a_child, year=2027)
    services.budget_allocate(budget=child, amount=Decimal("50"), user=cast.finance, memo="m")
    services.budget_commit(
        department=cast.dept_a_child,
        year=2027,
        amount=Decimal("12.34"),
        reference="r:1",
        user=cast.finance,
        memo="m",
    )
    response = signed_in(cast.finance).get(reverse("budgets:overview"), {"year": "2027"})
    html = response.content.decode()
    data = json.loads(re.search(r'id="budget-chart-data"[^>]*>(.*?)</script>', html).group(1))  # type: ignore[union-attr]
    # A (with its sub-department) and B: the top of the table, so nothing is counted twice.
    assert data["labels"] == ["研发中心 A", "市场部 B"]
    assert [s["key"] for s in data["series"]] == ["allocated", "committed", "actual", "available"]
    assert [s["values"] for s in data["series"]] == [
        ["150.00", "0.00"],
        ["12.34", "0.00"],
        ["0.00", "0.00"],
        ["115.16", "0.00"],  # 150 - 15% reserve (22.50) - 12.34
    ]
    assert [s["label"] for s in data["series"]][0] == "已分配"
    assert 'src="/static/js/budget-chart.js"' in html and "<script>" not in html.replace(
        '<script id="budget-chart-data" type="application/json">', ""
    )
    empty = signed_in(cast.finance).get(reverse("budgets:overview"), {"year": "2031"})
    assert 'id="budget-chart"' in empty.content.decode()  # departments without budgets: zeros
