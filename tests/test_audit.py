"""The audit trail: database triggers record every change (saves, queryset.update(), raw SQL),
with who and where when it came through a request; rows cannot be edited; pages per role."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import Client
from django.urls import reverse
from pghistory.models import Events

from org import services as org_services
from renewals.inventory.models import Subscription
from renewals.notify.models import ChatChannel
from tests.conftest import Cast
from tests.factories import SubscriptionFactory


def events_of(obj: Any) -> list[Any]:
    return list(Events.objects.tracks(obj).order_by("pgh_created_at", "pgh_slug"))


def test_a_change_through_the_api_records_the_token_user_and_the_request(cast: Cast) -> None:
    token = org_services.api_token_create(user=cast.software_admin)
    client = Client(headers={"Authorization": f"Token {token}"})
    response = client.post(
        reverse("api:request-list"),
        json.dumps({"subscription": cast.subscription_a.pk, "justification": "续费"}),
        content_type="application/json",
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 201
    from renewals.requests.models.requests import RenewalRequest

    request = RenewalRequest.objects.get(pk=response.json()["id"])
    (created,) = [e for e in events_of(request) if e.pgh_label == "insert"]
    assert created.pgh_context["user"] == cast.software_admin.pk
    assert created.pgh_context["url"] == "/api/v1/requests/"
    assert created.pgh_context["method"] == "POST"
    assert created.pgh_context["ip"] == "10.1.2.3"
    assert created.pgh_data["justification"] == "续费"


def test_a_page_post_records_the_signed_in_user(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.finance)
    response = client.post(
        reverse("budgets:budget-open"), {"department": str(cast.dept_b.pk), "year": "2028"}
    )
    assert response.status_code == 302
    from budgets.models import Budget

    budget = Budget.objects.get(department=cast.dept_b, year=2028)
    (event,) = events_of(budget)
    assert event.pgh_label == "insert" and event.pgh_context["user"] == cast.finance.pk


def test_a_queryset_update_and_raw_sql_are_recorded_with_their_diff(cast: Cast) -> None:
    subscription = cast.subscription_a
    Subscription.objects.filter(pk=subscription.pk).update(seats_purchased=99)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE renewals_subscription SET edition = 'Enterprise' WHERE id = %s",
            [subscription.pk],
        )
    updates = [e for e in events_of(subscription) if e.pgh_label == "update"]
    assert [e.pgh_diff for e in updates] == [
        {"seats_purchased": [10, 99]},
        {"edition": ["", "Enterprise"]},
    ]
    assert all(e.pgh_context is None for e in updates)  # no request: "system"


def test_a_delete_is_recorded(cast: Cast) -> None:
    subscription = SubscriptionFactory.create(department=cast.dept_a, ref="GONE-1")
    pk = subscription.pk
    subscription.delete()
    event_model = apps.get_model("renewals", "SubscriptionEvent")
    labels = list(event_model.objects.filter(pgh_obj_id=pk).values_list("pgh_label", flat=True))
    assert sorted(labels) == ["delete", "insert"]


def test_role_changes_are_recorded(cast: Cast) -> None:
    org_services.user_set_roles(user=cast.employee, roles=["finance"])
    event_model = apps.get_model("org", "UserRoleEvent")
    assert event_model.objects.filter(user_id=cast.employee.pk, pgh_label="insert").exists()


def test_secrets_are_never_copied_into_events(cast: Cast) -> None:
    channel = ChatChannel.objects.create(
        department=cast.dept_a, name="群", kind="dingtalk",
        url="https://oapi.dingtalk.com/robot/send?access_token=x", secret="SEC-very-secret",
    )  # fmt: skip
    cast.employee.set_password("a-new-password-1")
    cast.employee.save()
    blob = json.dumps([e.pgh_data for e in events_of(channel) + events_of(cast.employee)])
    assert "SEC-very-secret" not in blob
    assert cast.employee.password not in blob and "password" not in blob


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE renewals_subscriptionevent SET seats_purchased = 1",
        "DELETE FROM renewals_subscriptionevent",
        "UPDATE org_userevent SET username = 'x'",
    ],
)
def test_audit_rows_cannot_be_edited(cast: Cast, sql: str) -> None:
    Subscription.objects.filter(pk=cast.subscription_a.pk).update(seats_purchased=12)
    before = apps.get_model("renewals", "SubscriptionEvent").objects.count()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert apps.get_model("renewals", "SubscriptionEvent").objects.count() == before


def test_the_audit_page_filters_by_what_and_who(
    cast: Cast, django_assert_max_num_queries: Any
) -> None:
    client = Client()
    client.force_login(cast.finance)
    client.post(reverse("budgets:budget-open"), {"department": str(cast.dept_b.pk), "year": "2028"})
    Subscription.objects.filter(pk=cast.subscription_a.pk).update(product="<script>x</script>")
    auditor = Client()
    auditor.force_login(cast.auditor)
    page = auditor.get(
        reverse("audit-list"), {"model": "budgets.BudgetEvent", "user": str(cast.finance.pk)}
    )
    assert page.status_code == 200
    rows = page.context["rows"]
    assert rows and all(r.user == cast.finance for r in rows)
    html = auditor.get(reverse("audit-list")).content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x</script>" not in html
    for seats in range(100, 160):
        Subscription.objects.filter(pk=cast.subscription_a.pk).update(seats_purchased=seats)
    with django_assert_max_num_queries(12):
        assert auditor.get(reverse("audit-list")).status_code == 200


def test_an_objects_history_is_shown_to_those_who_see_it(cast: Cast) -> None:
    Subscription.objects.filter(pk=cast.subscription_a.pk).update(seats_purchased=42)
    url = reverse("audit-object", args=["subscription", cast.subscription_a.pk])
    head_a = Client()
    head_a.force_login(cast.head_a)
    response = head_a.get(url, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "seats purchased" in html.lower() and "42" in html
    head_b = Client()
    head_b.force_login(cast.head_b)
    assert head_b.get(url).status_code == 404
    assert head_a.get(reverse("audit-object", args=["nothing", 1])).status_code == 404


def test_request_contract_and_budget_pages_link_their_history(cast: Cast) -> None:
    from contracts.services import contract_save
    from renewals.requests.services import request_create

    request = request_create(subscription=cast.subscription_a, user=cast.software_admin)
    contract = contract_save(
        user=cast.it_admin, subscription=cast.subscription_a,
        data={"number": "H-1", "counterparty": "某公司", "valid_from": "2027-01-01",
              "valid_to": "2027-12-31", "total_value": "1"},
    )  # fmt: skip
    client = Client()
    client.force_login(cast.head_a)
    for page, kind, pk in (
        (request.get_absolute_url(), "request", request.pk),
        (contract.get_absolute_url(), "contract", contract.pk),
        (cast.budget_a.get_absolute_url(), "budget", cast.budget_a.pk),
    ):
        history = reverse("audit-object", args=[kind, pk])
        assert f'href="{history}"' in client.get(page).content.decode(), kind
        response = client.get(history)
        assert response.status_code == 200 and response.context["rows"], kind
