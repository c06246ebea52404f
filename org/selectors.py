"""Read queries over the organisation that pages, reports and the API share."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from org.models import Department, Person, User
from org.scoping import visible_departments


def department_list(*, user: User | object) -> QuerySet[Department]:
    """Departments the user may see, with head/admin names and people counts (3 queries)."""
    people = User.objects.only("id", "username", "display_name", "first_name", "last_name")
    return (
        visible_departments(user)
        .select_related("parent")
        .prefetch_related(
            Prefetch("heads", queryset=people), Prefetch("software_admins", queryset=people)
        )
        .annotate(
            active_people=Count("people", filter=Q(people__status=Person.Status.ACTIVE)),
            left_people=Count("people", filter=Q(people__status=Person.Status.LEFT)),
        )
        .order_by("code")
    )


def person_list(
    *,
    user: User | object,
    query: str = "",
    department_id: int | None = None,
    status: str = "",
) -> QuerySet[Person]:
    """People in the departments the user may see, optionally filtered."""
    people = Person.objects.filter(department__in=visible_departments(user)).select_related(
        "department"
    )
    if query:
        people = people.filter(
            Q(name__icontains=query) | Q(employee_no__icontains=query) | Q(email__icontains=query)
        )
    if department_id:
        people = people.filter(department_id=department_id)
    if status:
        people = people.filter(status=status)
    return people.order_by("department__code", "employee_no")


def directory_counts(*, user: User | object) -> dict[str, int]:
    """Headline counts for the dashboard, scoped to the user (two queries)."""
    visible = visible_departments(user)
    counts = Person.objects.filter(department__in=visible).aggregate(
        people_active=Count("pk", filter=Q(status=Person.Status.ACTIVE)),
        people_left=Count("pk", filter=Q(status=Person.Status.LEFT)),
    )
    counts["departments"] = visible.count()
    return counts


def department_matches(alias: str, cell: str) -> str:
    """SQL: department ``alias`` is the one the cell names, by its code or by its name (either
    case-insensitive; codes and names are unique, so at most two departments can answer)."""
    return f"(lower({alias}.code) = lower({cell}) OR lower({alias}.name) = lower({cell}))"
