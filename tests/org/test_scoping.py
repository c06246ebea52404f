from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from org import scoping, services
from org.roles import Role, has_role
from tests.conftest import Cast, make_user
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def codes(qs: object) -> set[str]:
    return set(qs.values_list("code", flat=True))  # type: ignore[attr-defined]


def test_see_all_roles_see_every_department(cast: Cast) -> None:
    for user in (cast.it_admin, cast.finance, cast.auditor):
        assert codes(scoping.visible_departments(user)) == {"a", "a-qa", "b"}


def test_head_sees_own_department_and_its_sub_departments_only(cast: Cast) -> None:
    assert codes(scoping.visible_departments(cast.head_a)) == {"a", "a-qa"}
    assert codes(scoping.visible_departments(cast.head_b)) == {"b"}


def test_sub_departments_are_found_at_any_depth(cast: Cast) -> None:
    grandchild = DepartmentFactory.create(code="a-qa-auto", parent=cast.dept_a_child)
    assert grandchild.code in codes(scoping.visible_departments(cast.head_a))
    assert grandchild.code not in codes(scoping.visible_departments(cast.head_b))


def test_software_admin_sees_administered_subtree(cast: Cast) -> None:
    assert codes(scoping.visible_departments(cast.software_admin)) == {"a", "a-qa"}
    assert codes(scoping.managed_departments(cast.software_admin)) == {"a", "a-qa"}


def test_assignment_without_the_role_grants_nothing(cast: Cast) -> None:
    # Being listed as a head of B is not enough: the user must also hold the role.
    cast.dept_b.heads.add(cast.employee)
    assert codes(scoping.visible_departments(cast.employee)) == set()
    assert codes(scoping.headed_departments(cast.employee)) == set()


def test_role_without_assignment_grants_nothing(db: None) -> None:
    lonely_head = make_user("lonely", Role.DEPARTMENT_HEAD)
    DepartmentFactory.create()
    assert codes(scoping.visible_departments(lonely_head)) == set()


def test_employee_and_anonymous_see_nothing(cast: Cast) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert codes(scoping.visible_departments(cast.employee)) == set()
    assert codes(scoping.visible_departments(AnonymousUser())) == set()


def test_only_it_admin_manages_everywhere(cast: Cast) -> None:
    assert codes(scoping.managed_departments(cast.it_admin)) == {"a", "a-qa", "b"}
    assert codes(scoping.managed_departments(cast.finance)) == set()
    assert codes(scoping.managed_departments(cast.auditor)) == set()
    assert scoping.can_manage_department(cast.head_a, cast.dept_a_child)
    assert not scoping.can_manage_department(cast.head_a, cast.dept_b)


def test_headed_departments_ignore_software_admin_assignments(cast: Cast) -> None:
    services.user_set_roles(
        user=cast.software_admin, roles=[Role.SOFTWARE_ADMIN, Role.DEPARTMENT_HEAD]
    )
    assert codes(scoping.headed_departments(cast.software_admin)) == set()
    assert codes(scoping.headed_departments(cast.head_a)) == {"a", "a-qa"}


def test_get_department_for_hides_other_departments(cast: Cast) -> None:
    assert scoping.get_department_for(cast.head_a, cast.dept_a_child.pk) == cast.dept_a_child
    with pytest.raises(Http404):
        scoping.get_department_for(cast.head_a, cast.dept_b.pk)


def test_require_any_role(cast: Cast) -> None:
    scoping.require_any_role(cast.finance, Role.FINANCE)
    with pytest.raises(PermissionDenied):
        scoping.require_any_role(cast.head_a, Role.FINANCE)


def test_superuser_holds_every_role(db: None) -> None:
    root = make_user("root", is_superuser=True)
    assert has_role(root, Role.AUDITOR, Role.FINANCE)


def test_role_lookup_is_cached_per_user_object(
    cast: Cast, django_assert_num_queries: object
) -> None:
    user = type(cast.head_a).objects.get(pk=cast.head_a.pk)
    with django_assert_num_queries(1):  # type: ignore[operator]
        for _ in range(5):
            has_role(user, Role.DEPARTMENT_HEAD)
