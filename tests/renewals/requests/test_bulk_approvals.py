"""Bulk approval of inbox rows (#15.13): the ids read strictly, each row decided through the single
action's checks in its own transaction, races decided once, the inbox's links without script."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import translation

from budgets import services as budget_services
from budgets.models import LedgerEntry
from org.roles import Role
from renewals.bulk import services as bulk
from renewals.requests.models.requests import RequestEvent
from tests.conftest import Cast, make_user
from tests.renewals.requests.bulk_helpers import (
    APPROVE,
    SEATS,
    SUBSCRIPTIONS,
    client_for,
    outcomes,
    pending_step,
    submitted,
)

# --- reading the ids -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ([], "empty"),
        (["1", "abc"], "bad_id"),
        (["1", "-2"], "bad_id"),
        (["1", "1.5"], "bad_id"),
        (["1", "٣"], "bad_id"),  # a digit, but not an ASCII one
        (["1", str(2**63)], "bad_id"),
        (["0"], "bad_id"),
        ([str(i) for i in range(1, bulk.MAX_ROWS + 2)], "too_many"),
    ],
)
def test_bad_ids_refuse_the_whole_post(values: list[str], code: str) -> None:
    with pytest.raises(bulk.BulkRefused) as caught:
        bulk.read_ids(values)
    assert caught.value.code == code


def test_duplicated_ids_count_once_in_their_order() -> None:
    assert bulk.read_ids(["3", " 1", "3", "2", "1"]) == [3, 1, 2]
    assert bulk.read_ids([str(i) for i in range(1, bulk.MAX_ROWS + 1)])[-1] == bulk.MAX_ROWS


# --- the approval inbox ----------------------------------------------------------------------


def test_bulk_approval_decides_each_row_and_lists_refusals_per_row(funded: Cast) -> None:
    first, second = submitted(funded), submitted(funded)
    own = submitted(funded, by=funded.head_a)  # head A cannot approve their own request
    ids = [pending_step(r).pk for r in (first, own, second)]
    response = client_for(funded.head_a).post(APPROVE, {"ids": ids, "comment": "同意"})
    assert response.status_code == 200
    assert outcomes(response) == {ids[0]: "done", ids[1]: "refused", ids[2]: "done"}
    assert "You cannot decide on your own request." in response.content.decode()
    for request in (first, second):
        request.refresh_from_db()
        assert request.status == "approved"
        # The final approval committed the budget, as a single decision does.
        assert LedgerEntry.objects.filter(reference=request.budget_reference).count() == 1
        assert request.steps.get().comment == "同意"
    own.refresh_from_db()
    assert own.status == "submitted"
    # The inbox is shown again with the results: the decided rows have left it (the head's own
    # request was never in it).
    assert 'data-testid="inbox-empty"' in response.content.decode()


def test_a_refusal_late_in_a_row_does_not_undo_the_rows_before_it(funded: Cast) -> None:
    """A budget refusal comes after the step was written: only that row is rolled back."""
    small = submitted(funded, "1000")
    too_big = submitted(funded, "49000")
    # Spend A's budget so the second request no longer fits (the first still does).
    budget_services.budget_commit(
        department=funded.dept_a, year=2027, amount=Decimal("820000"), reference="other",
        user=funded.finance, memo="其他",
    )  # fmt: skip
    ids = [pending_step(small).pk, pending_step(too_big).pk]
    results = bulk.steps_approve(user=funded.head_a, step_ids=ids)
    assert [r.outcome for r in results] == ["done", "refused"]
    assert "budget" in results[1].message
    too_big.refresh_from_db()
    assert too_big.status == "submitted"
    assert pending_step(too_big).decided_by is None
    assert RequestEvent.objects.filter(request=too_big, kind="approved").count() == 0


def test_rows_the_approver_may_not_touch_are_listed_and_unchanged(funded: Cast) -> None:
    request = submitted(funded)
    step = pending_step(request)
    # Head B cannot see department A's request at all: "not found" (nothing revealed).
    response = client_for(funded.head_b).post(APPROVE, {"ids": [step.pk]})
    assert outcomes(response) == {step.pk: "refused"}
    assert "Not found, or not yours to see." in response.content.decode()
    # Finance sees it but the step is the head's: the single decision's reason.
    response = client_for(funded.finance).post(APPROVE, {"ids": [step.pk, 999999]})
    assert outcomes(response) == {step.pk: "refused", 999999: "refused"}
    assert "This step is for Department head of the department." in response.content.decode()
    step.refresh_from_db()
    assert step.status == "pending" and step.decided_by is None


def test_refusals_are_translated(funded: Cast) -> None:
    own = submitted(funded, by=funded.head_a)
    response = client_for(funded.head_a, "zh-hans").post(APPROVE, {"ids": [pending_step(own).pk]})
    with translation.override("zh-hans"):
        chinese = translation.gettext("You cannot decide on your own request.")
        not_found = translation.gettext("Not found, or not yours to see.")
    assert chinese != "You cannot decide on your own request."
    assert not_found != "Not found, or not yours to see."
    assert chinese in response.content.decode()


@pytest.mark.parametrize(
    "ids",
    [
        [str(i) for i in range(1, bulk.MAX_ROWS + 2)],  # too many
        ["{step}", "abc"],  # one malformed id
        [],  # none
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(funded: Cast, ids: list[str]) -> None:
    request = submitted(funded)
    step = pending_step(request)
    ids = [value.replace("{step}", str(step.pk)) for value in ids]
    if len(ids) > bulk.MAX_ROWS:
        ids[0] = str(step.pk)
    response = client_for(funded.head_a).post(APPROVE, {"ids": ids})
    assert response.status_code == 400
    assert 'data-testid="bulk-error"' in response.content.decode()
    step.refresh_from_db()
    assert step.status == "pending"


def test_with_htmx_only_the_inbox_part_comes_back(funded: Cast) -> None:
    step = pending_step(submitted(funded))
    response = client_for(funded.head_a).post(APPROVE, {"ids": [step.pk]}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200
    assert text.lstrip().startswith('<div id="inbox-bulk">') and "<html" not in text
    assert outcomes(response) == {step.pk: "done"}
    refused = client_for(funded.head_a).post(APPROVE, {"ids": ["x"]}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400 and 'data-testid="bulk-error"' in refused.content.decode()


def test_a_duplicated_id_is_decided_once(funded: Cast) -> None:
    request = submitted(funded)
    step = pending_step(request)
    response = client_for(funded.head_a).post(APPROVE, {"ids": [step.pk, step.pk, step.pk]})
    assert outcomes(response) == {step.pk: "done"}
    assert response.content.decode().count('data-testid="bulk-row"') == 1
    assert RequestEvent.objects.filter(request=request, kind="approved").count() == 1


def test_a_replayed_post_lists_rows_as_already_decided(funded: Cast) -> None:
    first, second = submitted(funded), submitted(funded)
    ids = [pending_step(first).pk, pending_step(second).pk]
    client = client_for(funded.head_a)
    assert set(outcomes(client.post(APPROVE, {"ids": ids})).values()) == {"done"}
    replay = client.post(APPROVE, {"ids": ids})
    assert outcomes(replay) == {ids[0]: "unchanged", ids[1]: "unchanged"}
    assert "This step was already decided." in replay.content.decode()
    assert RequestEvent.objects.filter(kind="approved").count() == 2


def test_bulk_posts_need_the_csrf_token(funded: Cast) -> None:
    request = submitted(funded)
    step = pending_step(request)
    client = Client(enforce_csrf_checks=True)
    client.force_login(funded.head_a)
    for url, data in (
        (APPROVE, {"ids": [step.pk]}),
        (SUBSCRIPTIONS, {"ids": [funded.subscription_a.pk], "action": "export-csv"}),
        (SEATS, {"ids": [1], "decision": "revoke"}),
    ):
        assert client.post(url, data).status_code == 403
    step.refresh_from_db()
    assert step.status == "pending"


def test_the_inbox_has_a_checkbox_per_row_and_the_bulk_form(funded: Cast) -> None:
    step = pending_step(submitted(funded))
    page = client_for(funded.head_a).get(reverse("renewals:approval-inbox")).content.decode()
    assert 'id="bulk-approve"' in page and f'action="{APPROVE}"' in page
    assert f'name="ids" value="{step.pk}" form="bulk-approve"' in page
    assert "csrfmiddlewaretoken" in page


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
def test_two_bulk_approvals_racing_decide_each_step_exactly_once(funded: Cast) -> None:
    """Two heads of A post the same selection at the same moment, through the HTTP view, each
    in its own thread and PostgreSQL connection."""
    second_head = make_user("head_a2", Role.DEPARTMENT_HEAD)
    funded.dept_a.heads.add(second_head)
    requests = [submitted(funded) for _ in range(4)]
    ids = [pending_step(r).pk for r in requests]
    clients = [client_for(funded.head_a), client_for(second_head)]

    def post(i: int) -> dict[int, str]:
        # Opposite orders make the two runs meet on the same rows from both ends.
        order = ids if i == 0 else list(reversed(ids))
        return outcomes(clients[i].post(APPROVE, {"ids": order}))

    first, second = _in_threads(2, post)
    for pk in ids:
        assert sorted([first[pk], second[pk]]) == ["done", "unchanged"], (pk, first, second)
    for request in requests:
        request.refresh_from_db()
        assert request.status == "approved"
        assert request.steps.filter(status="approved").count() == 1
        assert RequestEvent.objects.filter(request=request, kind="approved").count() == 1
        assert LedgerEntry.objects.filter(reference=request.budget_reference).count() == 1


def test_after_a_bulk_approval_without_script_the_inbox_links_still_work(funded: Cast) -> None:
    """Without HTMX the inbox is shown at the bulk address; its page and sort links are
    relative (``?page=2``) and come back there as GETs: they lead to the inbox, not to a 405."""
    client = client_for(funded.head_a)
    response = client.get(APPROVE, {"page": "2", "sort": "-amount"})
    assert response.status_code == 302
    assert response["Location"] == reverse("renewals:approval-inbox") + "?page=2&sort=-amount"
    assert client.get(APPROVE)["Location"] == reverse("renewals:approval-inbox")
    # The roles that may not approve are refused as before.
    assert client_for(funded.employee).get(APPROVE).status_code == 403
