"""The subscription list's category filter (what a tool is for; the overlap finding groups by it)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from renewals.inventory.models import Subscription
from tests.conftest import Cast
from tests.renewals.conftest import Inventory

pytestmark = pytest.mark.django_db


def refs(user: object, params: dict[str, str]) -> set[str] | int:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    response = client.get(reverse("renewals:subscription-list"), params)
    if response.status_code != 200:
        return response.status_code
    return {row.record.ref for row in response.context["table"].page.object_list}


def test_the_list_filters_by_category_and_by_none(cast: Cast, inventory: Inventory) -> None:
    Subscription.objects.filter(pk__in=[inventory.jira.pk, inventory.feishu_b.pk]).update(
        category="project"
    )
    assert refs(cast.it_admin, {"category": "project"}) == {"JIRA-A", "FEISHU-B"}
    assert refs(cast.it_admin, {"category": "none"}) == {"A-1"}
    assert refs(cast.it_admin, {"category": "design"}) == set()
    # Scoping still applies.
    assert refs(cast.head_a, {"category": "project"}) == {"JIRA-A"}


@pytest.mark.parametrize("value", ["<script>", "x" * 5000, "';--", "PROJECT"])
def test_an_unknown_category_is_refused_without_a_500(
    cast: Cast, inventory: Inventory, value: str
) -> None:
    client = Client()
    client.force_login(cast.it_admin)
    response = client.get(reverse("renewals:subscription-list"), {"category": value})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>" not in html.split('name="category"')[1][:2000]
    assert response.context["filter"].errors["category"]
