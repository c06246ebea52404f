"""REST API for the organisation: departments (read) and people (create, update, leave)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import LOOKUP, ScopedPrimaryKeyField, api_schema
from core.filtersets import ScopedIdFilter, set_queryset
from org import selectors, services
from org.api_permissions import roles
from org.models import Department, Person
from org.roles import DIRECTORY_ROLES
from org.scoping import managed_departments, visible_departments


class DepartmentSerializer(serializers.ModelSerializer[Department]):
    class Meta:
        model = Department
        fields = ["id", "code", "name", "parent"]
        read_only_fields = fields


class DepartmentViewSet(viewsets.ReadOnlyModelViewSet[Department]):
    """Departments the token's user may see."""

    schema = api_schema()
    lookup_value_regex = LOOKUP
    serializer_class = DepartmentSerializer
    permission_classes = [roles(*DIRECTORY_ROLES)]
    ordering_fields = ["code", "name", "id"]
    ordering = ["code"]

    def get_queryset(self) -> Any:
        return visible_departments(self.request.user).order_by("code")


class PersonSerializer(serializers.ModelSerializer[Person]):
    # A department the user cannot see is refused like one that does not exist.
    department = ScopedPrimaryKeyField(queryset=Department.objects.all(), scope=visible_departments)

    class Meta:
        model = Person
        fields = ["id", "employee_no", "name", "email", "department", "status", "left_on"]
        # Leaving goes through POST .../leave/; the employee number names a person for good.
        read_only_fields = ["id", "status", "left_on"]

    def validate_department(self, department: Department) -> Department:
        user = self.context["request"].user
        if not managed_departments(user).filter(pk=department.pk).exists():
            raise serializers.ValidationError(_("You may not add people to this department."))
        return department

    def validate_employee_no(self, value: str) -> str:
        instance = self.instance
        if instance is not None and value != instance.employee_no:
            raise serializers.ValidationError(_("An employee number cannot be changed."))
        if instance is None and Person.objects.filter(employee_no=value).exists():
            raise serializers.ValidationError(_("A person with this employee number exists."))
        return value


class LeaveSerializer(serializers.Serializer[Any]):
    left_on = serializers.DateField()


class PersonFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Person.Status.choices)
    department = ScopedIdFilter(model=Department)

    class Meta:
        model = Person
        fields = ["status", "department"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Another department is refused like one that does not exist (400).
        set_queryset(self, "department", visible_departments(user))


class PersonViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet[Person],
):
    """The employee directory of the departments the user may see; heads, software admins and
    IT admins add and change people of the departments they manage."""

    schema = api_schema()
    lookup_value_regex = LOOKUP
    serializer_class = PersonSerializer
    permission_classes = [roles(*DIRECTORY_ROLES)]
    filterset_class = PersonFilter
    ordering_fields = ["employee_no", "name", "id"]
    ordering = ["employee_no"]

    def get_queryset(self) -> Any:
        return selectors.person_list(user=self.request.user)

    def _managed(self, person: Person) -> None:
        if not managed_departments(self.request.user).filter(pk=person.department_id).exists():
            raise PermissionDenied(_("You may not change people of this department."))

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        person, _changed = services.person_upsert(
            employee_no=data["employee_no"],
            name=data["name"],
            email=data.get("email", ""),
            department=data["department"],
        )
        serializer.instance = person

    def perform_update(self, serializer: Any) -> None:
        person: Person = serializer.instance
        self._managed(person)
        data = serializer.validated_data
        updated, _changed = services.person_upsert(
            employee_no=person.employee_no,
            name=data.get("name", person.name),
            email=data.get("email", person.email),
            department=data.get("department", person.department),
            status=person.status,
            left_on=person.left_on,
        )
        serializer.instance = updated

    @extend_schema(request=LeaveSerializer, responses=PersonSerializer)
    @action(detail=True, methods=["post"])
    def leave(self, request: Request, pk: str | None = None) -> Response:
        """Record that the person left on ``left_on``; their seats then show as a finding."""
        person = self.get_object()
        self._managed(person)
        form = LeaveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        left_on: dt.date = form.validated_data["left_on"]
        person = services.person_mark_left(person=person, left_on=left_on)
        return Response(PersonSerializer(person, context={"request": request}).data)


ROUTES = [
    ("departments", DepartmentViewSet, "department"),
    ("people", PersonViewSet, "person"),
]
