"""Bulk actions on subscriptions (#15.13): change the owner of the rows the actor may change,
export the selection."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.urls import reverse

from renewals.bulk import services as bulk
from renewals.inventory.models import Subscription
from tests.conftest import Cast, make_user
from tests.factories import PersonFactory, SubscriptionFactory
from tests.renewals.requests.bulk_helpers import (
    SUBSCRIPTIONS,
    client_for,
    outcomes,
)

# --- subscriptions: change owner, export the selection ---------------------------------------


@pytest.fixture
def owners(cast: Cast) -> dict[str, Any]:
    """A user working in A (an active person of A), one in B, and a subscription of B."""
    in_a = make_user("owner_a")
    PersonFactory.create(department=cast.dept_a, user=in_a)
    in_b = make_user("owner_b")
    PersonFactory.create(department=cast.dept_b, user=in_b)
    sub_b = SubscriptionFactory.create(department=cast.dept_b, ref="B-1")
    return {"a": in_a, "b": in_b, "sub_b": sub_b}


def test_change_owner_changes_the_rows_the_actor_may_change(
    cast: Cast, owners: dict[str, Any]
) -> None:
    sub_a, sub_b = cast.subscription_a, owners["sub_b"]
    ids = [sub_a.pk, sub_b.pk]
    # The software admin of A: A's row changes, B's does not exist for them.
    response = client_for(cast.software_admin).post(
        SUBSCRIPTIONS, {"ids": ids, "action": "owner", "owner": owners["a"].pk}
    )
    assert response.status_code == 200
    assert outcomes(response) == {sub_a.pk: "done", sub_b.pk: "refused"}
    sub_a.refresh_from_db()
    sub_b.refresh_from_db()
    assert sub_a.owner == owners["a"] and sub_b.owner is None
    # Replayed: "already so", nothing written.
    replay = client_for(cast.software_admin).post(
        SUBSCRIPTIONS, {"ids": ids, "action": "owner", "owner": owners["a"].pk}
    )
    assert outcomes(replay)[sub_a.pk] == "unchanged"


def test_the_new_owner_must_belong_to_each_rows_department(
    cast: Cast, owners: dict[str, Any]
) -> None:
    sub_a, sub_b = cast.subscription_a, owners["sub_b"]
    response = client_for(cast.it_admin).post(
        SUBSCRIPTIONS, {"ids": [sub_a.pk, sub_b.pk], "action": "owner", "owner": owners["a"].pk}
    )
    assert outcomes(response) == {sub_a.pk: "done", sub_b.pk: "refused"}
    assert "cannot own a subscription of 市场部 B" in response.content.decode()
    sub_b.refresh_from_db()
    assert sub_b.owner is None
    # The head of a department above may own a sub-department's subscription.
    sub_child = SubscriptionFactory.create(department=cast.dept_a_child)
    response = client_for(cast.it_admin).post(
        SUBSCRIPTIONS, {"ids": [sub_child.pk], "action": "owner", "owner": cast.head_a.pk}
    )
    assert outcomes(response) == {sub_child.pk: "done"}


@pytest.mark.parametrize("role", ["finance", "auditor", "head_b"])
def test_an_owner_the_actor_may_not_assign_changes_nothing(
    cast: Cast, owners: dict[str, Any], role: str
) -> None:
    """Finance and auditors change no department; head B may not pick A's people."""
    response = client_for(getattr(cast, role)).post(
        SUBSCRIPTIONS,
        {"ids": [cast.subscription_a.pk], "action": "owner", "owner": owners["a"].pk},
    )
    assert response.status_code == 400
    assert "Choose the new owner." in response.content.decode()
    assert Subscription.objects.filter(owner__isnull=False).count() == 0


def test_change_owner_refuses_rows_of_departments_the_actor_only_sees(
    cast: Cast, owners: dict[str, Any]
) -> None:
    """Finance sees every department but changes none: a row it sees is refused, unchanged."""
    results = bulk.subscriptions_set_owner(
        user=cast.finance, subscription_ids=[cast.subscription_a.pk], owner=owners["a"]
    )
    assert [r.outcome for r in results] == ["refused"]
    assert "You may not change subscriptions of" in results[0].message
    cast.subscription_a.refresh_from_db()
    assert cast.subscription_a.owner is None


def test_the_list_offers_the_bulk_form_with_owners_the_actor_may_assign(
    cast: Cast, owners: dict[str, Any]
) -> None:
    page = client_for(cast.software_admin).get(reverse("renewals:subscription-list"))
    text = page.content.decode()
    assert 'id="bulk-subscriptions"' in text
    assert f'name="ids" value="{cast.subscription_a.pk}" form="bulk-subscriptions"' in text
    assert f'<option value="{owners["a"].pk}">' in text
    assert f'<option value="{owners["b"].pk}">' not in text
    # The auditor exports but assigns nobody.
    text = client_for(cast.auditor).get(reverse("renewals:subscription-list")).content.decode()
    assert 'data-testid="bulk-export-csv"' in text and 'data-testid="bulk-owner"' not in text


def test_export_of_the_selection_holds_only_selected_visible_rows_formula_escaped(
    cast: Cast, owners: dict[str, Any]
) -> None:
    evil = SubscriptionFactory.create(
        department=cast.dept_a, ref="A-EVIL", product='=HYPERLINK("http://x","y")'
    )
    SubscriptionFactory.create(department=cast.dept_a, ref="A-NOT-SELECTED")
    ids = [evil.pk, cast.subscription_a.pk, owners["sub_b"].pk]
    response = client_for(cast.software_admin).post(
        SUBSCRIPTIONS, {"ids": ids, "action": "export-csv"}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    refs = sorted(row[0] for row in rows[1:])
    assert refs == ["A-1", "A-EVIL"]  # B-1 is not the software admin's; A-NOT-SELECTED not chosen
    assert '\'=HYPERLINK("http://x","y")' in [cell for row in rows for cell in row]
    xlsx = client_for(cast.software_admin).post(
        SUBSCRIPTIONS, {"ids": ids, "action": "export-xlsx"}
    )
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
