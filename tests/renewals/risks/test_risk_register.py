"""Risk register, reading: the register page, its exports and PDF, the review page, the admin,
the demo, and the subscription page's risk panel."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from org.models import Person
from renewals.inventory.models import Subscription
from renewals.risks import selectors, services
from renewals.risks.models import Risk
from renewals.risks.rules import Rule
from renewals.risks.services import add_quarter, risks_refresh
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.factories import PersonFactory, SeatFactory
from tests.renewals.risks.conftest import TODAY, client_for, leaver, open_risks, refresh

# --- Register, exports, PDF ------------------------------------------------------------------


def make_risks(cast: Cast, count: int) -> None:
    # Room for the leavers' seats (the purchased count is a hard limit).
    Subscription.objects.filter(pk=cast.subscription_a.pk).update(
        seats_purchased=F("seats_purchased") + count
    )
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
