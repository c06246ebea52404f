"""Bulk actions (#15.13): approve several inbox rows, change owner / export several
subscriptions, revoke or keep several idle or departed seats. Every row goes through the single
action's checks in its own transaction; bad input refuses the whole POST and changes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from budgets import services as budget_services
from budgets.models import LedgerEntry
from org.models import User
from org.roles import Role
from renewals.bulk import services as bulk
from renewals.cleanup.models import CleanupItem
from renewals.cleanup.services import campaign_open
from renewals.inventory.models import Subscription
from renewals.requests import services
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.requests import RenewalRequest, RequestEvent
from renewals.usage.models import Seat
from tests.conftest import Cast, make_user
from tests.factories import PersonFactory, SeatFactory, SubscriptionFactory

APPROVE = reverse("renewals:approvals-bulk")
SUBSCRIPTIONS = reverse("renewals:subscriptions-bulk")
SEATS = reverse("renewals:seats-bulk")


def client_for(user: User, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.fixture
def funded(cast: Cast) -> Cast:
    """Department A has 1,000,000 CNY for 2027 (the factory's terms end on 2026-12-31)."""
    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("1000000"), user=cast.finance, memo="年度预算"
    )
    return cast


def submitted(cast: Cast, amount: str = "1000", *, by: User | None = None) -> RenewalRequest:
    """A submitted request of department A (below 50,000 CNY: one step, the head's), on a
    subscription of its own (one open request per subscription)."""
    user = by or cast.software_admin
    subscription = SubscriptionFactory.create(department=cast.dept_a)
    request = services.request_create(subscription=subscription, user=user)
    assert request.chosen_quote is not None
    services.quote_save(
        request=request,
        user=user,
        quote=request.chosen_quote,
        data={"seats": 1, "unit_price": Decimal(amount), "term_months": 12},
    )
    services.request_submit(request=request, user=user)
    request.refresh_from_db()
    return request


def pending_step(request: RenewalRequest) -> ApprovalStep:
    return request.steps.get(status=ApprovalStep.Status.PENDING)


def outcomes(response: Any) -> dict[int, str]:
    """pk → outcome of each row of the response's result list."""
    text = response.content.decode()
    found: dict[int, str] = {}
    for chunk in text.split('data-testid="bulk-row"')[1:]:
        outcome = chunk.split('data-outcome="', 1)[1].split('"', 1)[0]
        pk = int(chunk.split('data-pk="', 1)[1].split('"', 1)[0])
        found[pk] = outcome
    return found


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


# --- seats: revoke or keep idle and departed seats -------------------------------------------


@pytest.fixture
def seats(cast: Cast) -> dict[str, Seat]:
    today = timezone.localdate()
    left = PersonFactory.create(department=cast.dept_a, status="left", left_on=today)
    busy = PersonFactory.create(department=cast.dept_a)
    sleepy = PersonFactory.create(department=cast.dept_a)
    sub_b = SubscriptionFactory.create(department=cast.dept_b)
    return {
        "departed": SeatFactory.create(subscription=cast.subscription_a, person=left),
        "busy": SeatFactory.create(
            subscription=cast.subscription_a, person=busy, last_active_on=today
        ),
        "idle": SeatFactory.create(
            subscription=cast.subscription_a,
            person=sleepy,
            last_active_on=today - dt.timedelta(days=200),
        ),
        "b": SeatFactory.create(
            subscription=sub_b, person=PersonFactory.create(department=cast.dept_b, status="left",
                                                            left_on=today)
        ),
    }  # fmt: skip


def test_revoking_idle_and_departed_seats_without_a_campaign(
    cast: Cast, seats: dict[str, Seat]
) -> None:
    ids = [seats[k].pk for k in ("departed", "idle", "busy", "b")]
    response = client_for(cast.software_admin).post(
        SEATS, {"ids": ids, "decision": "revoke", "back": "/subscriptions/"}
    )
    assert response.status_code == 200
    assert outcomes(response) == {
        seats["departed"].pk: "done",
        seats["idle"].pk: "done",
        seats["busy"].pk: "refused",  # in use: not for clean-up
        seats["b"].pk: "refused",  # B's seat does not exist for A's software admin
    }
    today = timezone.localdate()
    assert Seat.objects.get(pk=seats["departed"].pk).revoked_on == today
    assert Seat.objects.get(pk=seats["idle"].pk).revoked_on == today
    assert Seat.objects.get(pk=seats["busy"].pk).revoked_on is None
    assert Seat.objects.get(pk=seats["b"].pk).revoked_on is None
    assert 'href="/subscriptions/"' in response.content.decode()
    replay = client_for(cast.software_admin).post(SEATS, {"ids": ids, "decision": "revoke"})
    assert outcomes(replay)[seats["departed"].pk] == "unchanged"


def test_keeping_needs_a_reason_and_the_open_campaign(cast: Cast, seats: dict[str, Seat]) -> None:
    client = client_for(cast.software_admin)
    departed = seats["departed"].pk
    no_reason = client.post(SEATS, {"ids": [departed], "decision": "keep", "reason": "  "})
    assert no_reason.status_code == 400
    assert "Say why the accounts are kept." in no_reason.content.decode()
    no_campaign = client.post(SEATS, {"ids": [departed], "decision": "keep", "reason": "交接中"})
    assert outcomes(no_campaign) == {departed: "refused"}
    assert Seat.objects.get(pk=departed).revoked_on is None
    bad = client.post(SEATS, {"ids": [departed], "decision": "delete"})
    assert bad.status_code == 400


def test_seats_on_the_open_campaign_are_decided_on_its_checklist(
    cast: Cast, seats: dict[str, Seat]
) -> None:
    campaign = campaign_open(user=cast.finance, name="清理", due_on=timezone.localdate())
    client = client_for(cast.software_admin)
    kept = client.post(
        SEATS, {"ids": [seats["departed"].pk], "decision": "keep", "reason": "交接到月底"}
    )
    assert outcomes(kept) == {seats["departed"].pk: "done"}
    item = CleanupItem.objects.get(campaign=campaign, seat=seats["departed"])
    assert (item.decision, item.keep_reason, item.decided_by) == (
        "keep",
        "交接到月底",
        cast.software_admin,
    )
    assert Seat.objects.get(pk=seats["departed"].pk).revoked_on is None
    revoked = client.post(SEATS, {"ids": [seats["idle"].pk], "decision": "revoke"})
    assert outcomes(revoked) == {seats["idle"].pk: "done"}
    item = CleanupItem.objects.get(campaign=campaign, seat=seats["idle"])
    assert item.decision == "revoke" and item.revoked_on is not None
    assert Seat.objects.get(pk=seats["idle"].pk).revoked_on is not None
    # A kept account is not turned over by a later bulk revoke: listed as decided.
    again = client.post(SEATS, {"ids": [seats["departed"].pk], "decision": "revoke"})
    assert outcomes(again) == {seats["departed"].pk: "unchanged"}
    assert Seat.objects.get(pk=seats["departed"].pk).revoked_on is None


@pytest.mark.parametrize("role", ["head_a", "finance", "auditor", "employee"])
def test_only_it_and_software_admins_clean_up_seats(
    cast: Cast, seats: dict[str, Seat], role: str
) -> None:
    response = client_for(getattr(cast, role)).post(
        SEATS, {"ids": [seats["departed"].pk], "decision": "revoke"}
    )
    assert response.status_code == 403
    assert Seat.objects.get(pk=seats["departed"].pk).revoked_on is None


def test_the_pages_offer_seat_checkboxes_to_those_who_clean_up(
    cast: Cast, seats: dict[str, Seat]
) -> None:
    detail = reverse("renewals:subscription-detail", args=[cast.subscription_a.pk])
    findings = reverse("renewals:findings")
    admin_page = client_for(cast.software_admin).get(detail).content.decode()
    assert 'id="bulk-seats"' in admin_page
    assert f'value="{seats["departed"].pk}" form="bulk-seats"' in admin_page
    assert f'value="{seats["idle"].pk}" form="bulk-seats"' in admin_page
    assert f'value="{seats["busy"].pk}" form="bulk-seats"' not in admin_page
    findings_page = client_for(cast.it_admin).get(findings).content.decode()
    assert f'value="{seats["departed"].pk}" form="bulk-seats"' in findings_page
    assert f'value="{seats["b"].pk}" form="bulk-seats"' in findings_page
    # The software admin of A: only A's row can be selected.
    findings_page = client_for(cast.software_admin).get(findings).content.decode()
    assert f'value="{seats["departed"].pk}" form="bulk-seats"' in findings_page
    # The head reads: no form.
    for url in (detail, findings):
        assert 'id="bulk-seats"' not in client_for(cast.head_a).get(url).content.decode()


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
