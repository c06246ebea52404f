from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from org.models import Department, Person, User
from org.roles import Role
from org.scoping import visible_departments
from renewals.inventory.models import Subscription, SubscriptionTerm
from renewals.reports.selectors import kpis
from renewals.usage import selectors as usage
from renewals.usage.models import MonthlyUsage, Seat
from renewals.usage.selectors import add_months, month_start

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_demo_company_has_departments_people_and_a_user_per_role(settings: object) -> None:
    output = seed()
    assert 8 <= Department.objects.count() <= 10
    assert 140 <= Person.objects.count() <= 170
    assert Person.objects.filter(status=Person.Status.LEFT).exists()
    roles = {u.username: set(u.groups.values_list("name", flat=True)) for u in User.objects.all()}
    assert set().union(*roles.values()) == set(Role.values)  # every role has a demo user
    assert roles["employee"] == set()
    admin = User.objects.get(username="admin")
    assert admin.check_password(settings.DEMO_PASSWORD)  # type: ignore[attr-defined]
    assert settings.DEMO_PASSWORD in output  # type: ignore[attr-defined]
    for username in (
        "admin",
        "finance",
        "head_rd",
        "head_mkt",
        "swadmin_rd",
        "auditor",
        "employee",
    ):
        assert username in output


def test_demo_inventory_shows_idle_seats_an_underused_module_two_leavers_and_overlaps() -> None:
    seed()
    assert 55 <= Subscription.objects.count() <= 65
    assert {"飞书项目", "Jira Software", "Asana", "ClickUp", "Teambition", "Tower", "禅道"} <= set(
        Subscription.objects.values_list("product", flat=True)
    )
    assert MonthlyUsage.objects.filter(module__isnull=True).values("month").distinct().count() == 12
    leavers = Seat.objects.filter(revoked_on__isnull=True, person__status="left")
    assert leavers.values("person").distinct().count() == 2
    underused = usage.underused_modules(Subscription.objects.all())
    assert [(m.module, m.department) for m in underused] == [("Advanced Roadmaps", "研发中心")]
    assert underused[0].yearly_cost and underused[0].yearly_cost > 0
    from renewals.inventory.selectors import with_figures

    assert sum(s.idle_seats for s in with_figures(Subscription.objects.all())) > 10  # type: ignore[attr-defined]
    # Overlapping tools (#18): every subscription has a category; the project-management tools
    # overlap, and Jira is bought by three departments.
    from renewals.inventory.overlap import Kind, find_overlaps

    assert not Subscription.objects.filter(category="").exists()
    groups = find_overlaps()
    project = next(g for g in groups if (g.kind, g.key) == (Kind.CATEGORY, "project"))
    assert {"Atlassian Jira Software", "Asana", "ClickUp", "阿里巴巴 Teambition"} <= {
        t.name for t in project.tools
    }
    assert project.saving and project.saving > 0
    jira = next(g for g in groups if g.kind == Kind.DUPLICATE and g.label.endswith("Jira Software"))
    assert len({s.department_id for s in jira.subscriptions}) >= 2


def test_seed_is_idempotent_and_keeps_changes() -> None:
    seed()
    counts = (
        Department.objects.count(),
        Person.objects.count(),
        User.objects.count(),
        Seat.objects.count(),
    )
    changed_password = User.objects.get(username="finance")
    changed_password.set_password("my own secret 123")
    changed_password.save()
    output = seed()
    assert (
        Department.objects.count(),
        Person.objects.count(),
        User.objects.count(),
        Seat.objects.count(),
    ) == counts
    assert "already loaded, nothing changed" in output
    assert User.objects.get(username="finance").check_password("my own secret 123")


def test_demo_heads_are_scoped_to_their_departments() -> None:
    seed()
    head_rd = User.objects.get(username="head_rd")
    assert set(visible_departments(head_rd).values_list("code", flat=True)) == {"rd", "rd-qa"}
    head_mkt = User.objects.get(username="head_mkt")
    assert set(visible_departments(head_mkt).values_list("code", flat=True)) == {"mkt"}


def test_demo_has_renewal_requests_at_every_stage() -> None:
    from renewals.requests.models.requests import RenewalRequest
    from renewals.requests.selectors.requests import steps_awaiting

    seed()
    statuses = sorted(RenewalRequest.objects.values_list("status", flat=True))
    assert statuses == ["draft", "in_approval", "submitted"]
    draft = RenewalRequest.objects.get(status="draft")
    assert draft.quotes.count() == 3  # the incumbent and two alternatives
    head = User.objects.get(username="head_rd")
    finance = User.objects.get(username="finance")
    assert steps_awaiting(user=head).count() == 1
    assert steps_awaiting(user=finance).get().request.amount_base >= 50000  # type: ignore[operator]
    seed()
    assert RenewalRequest.objects.count() == 3


def test_dashboard_on_time_rate_matches_the_demo_history() -> None:
    """The figures recomputed from the demo's terms in Python (not through the dashboard's SQL)."""
    output = seed()
    assert "demo history:" in output
    today = timezone.localdate()
    first = add_months(month_start(today), -12)
    on_time = late = 0
    for term in SubscriptionTerm.objects.filter(renewed_at__isnull=False):
        if first <= term.term_end <= today:
            if timezone.localtime(term.renewed_at).date() <= term.term_end:
                on_time += 1
            else:
                late += 1
    lapsed = sum(
        1
        for s in Subscription.objects.all()
        if s.term_end < today and not s.ends_at_term_end and s.status != "cancelled"
        and s.term_end >= first
    )  # fmt: skip
    assert late >= 1 and on_time > 10 * late
    board = kpis.dashboard(user=User.objects.get(username="admin"))
    total = board.on_time
    assert (total.on_time, total.late, total.lapsed) == (on_time, late, lapsed)
    due = on_time + late + lapsed
    assert total.rate == (Decimal(on_time) * 100 / due).quantize(Decimal("0.1"))
    assert board.realised_renewals > 0 and board.realised_renewal_count > 0
