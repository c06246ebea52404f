"""Where scim2-server's handler reads and writes: the links, people and departments of one SCIM
source. Every write goes through the directory sync (``integrations.directory.sync``): a DELETE
of a User marks the person as left (nobody is ever deleted here), a DELETE of a Group makes its
link absent and the department inactive once nobody active is in it.

Writes of one source take turns (the source's row is locked), so a userName is checked and
taken in one go. A change the sync refuses (a conflict: an e-mail or employee number of another
source, a department name taken) is committed as the conflict it records for IT, then answered
with a 409.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from scim2_models import (
    ConflictException,
    InvalidFilterException,
    NotFoundException,
    Resource,
    ResourceType,
    ResponseParameters,
    SearchRequest,
    TooManyException,
    UniquenessException,
)
from scim2_server.storage import ScimStorage, SearchPage

from integrations.directory import sync
from integrations.directory.entries import ExternalDepartment
from integrations.models import DirectoryLink, DirectorySource
from integrations.scim import filters, resources
from integrations.scim.resources import DEFAULT_PAGE, UNGROUPED, Group, User
from org.models import Person

PERSON = DirectoryLink.Kind.PERSON
DEPARTMENT = DirectoryLink.Kind.DEPARTMENT


def _new_id() -> str:
    return uuid.uuid4().hex


def _not_found(resource_type: ResourceType, resource_id: str) -> NotFoundException:
    return NotFoundException(detail=_("No %(type)s with the id %(id)s.")
                             % {"type": resource_type.name, "id": resource_id})  # fmt: skip


def _wants_members(parameters: ResponseParameters[Any] | SearchRequest[Any] | None) -> bool:
    """Whether the response keeps a Group's members (Entra ID reads Groups without them)."""
    if parameters is None:
        return True

    def names(paths: list[Any] | None) -> set[str]:
        return {str(p).rsplit(":", 1)[-1].split(".")[0].lower() for p in paths or []}

    if parameters.attributes:
        return "members" in names(parameters.attributes)
    return "members" not in names(parameters.excluded_attributes)


class DirectoryStorage(ScimStorage):
    """The Users and Groups of one SCIM directory source."""

    def __init__(self, source: DirectorySource) -> None:
        self.source = source

    # --- reading --------------------------------------------------------------------------------

    def _people(self) -> QuerySet[DirectoryLink]:
        return (
            DirectoryLink.objects.filter(source=self.source, kind=PERSON, present=True)
            .select_related("person")
            .annotate(
                last_modified=Greatest(F("person__updated_at"), F("changed_at")),
                scim_user_name=KT("attributes__userName"),
                scim_external_id=KT("attributes__externalId"),
            )
        )

    def _departments(self) -> QuerySet[DirectoryLink]:
        return (
            DirectoryLink.objects.filter(source=self.source, kind=DEPARTMENT, present=True)
            .exclude(external_id=UNGROUPED)
            .select_related("department")
            .annotate(scim_external_id=KT("attributes__externalId"))
        )

    def _users(self, links: list[DirectoryLink]) -> list[User]:
        managers = dict(
            DirectoryLink.objects.filter(
                source=self.source,
                kind=PERSON,
                person_id__in={link.person.manager_id for link in links if link.person},
            ).values_list("person_id", "external_id")
        )
        return [
            resources.user_of(
                link, link.person, manager_id=managers.get(link.person.manager_id or 0)
            )
            for link in links
            if link.person is not None
        ]

    def _groups(self, links: list[DirectoryLink], *, members: bool) -> list[Group]:
        found: dict[int, list[str]] = {}
        if members:
            rows = (
                DirectoryLink.objects.filter(
                    source=self.source,
                    kind=PERSON,
                    present=True,
                    person__department_id__in=[link.department_id for link in links],
                )
                .order_by("pk")
                .values_list("person__department_id", "external_id")
            )
            for department_id, external_id in rows:
                found.setdefault(department_id, []).append(external_id)
        return [
            resources.group_of(
                link, link.department, found.get(link.department_id or 0, []) if members else None
            )
            for link in links
            if link.department is not None
        ]

    def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        if resource_type.name == "User":
            users = self._users(list(self._people().filter(external_id=resource_id)))
            if users:
                return users[0]
        else:
            links = list(self._departments().filter(external_id=resource_id))
            groups = self._groups(links, members=_wants_members(response_parameters))
            if groups:
                return groups[0]
        raise _not_found(resource_type, resource_id)

    def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,
    ) -> SearchPage:
        """One page of the matches; at the root (several types) Users first, then Groups. An
        attribute one type does not search matches none of its resources (RFC 7644 3.4.2.1),
        and is refused when no type searches it."""
        start = max((search_request.start_index or 1) - 1, 0)
        count = search_request.count if search_request.count is not None else DEFAULT_PAGE
        parts: list[tuple[int, Callable[[int, int], list[Resource[Any]]]]] = []
        refused: InvalidFilterException | None = None
        for resource_type in resource_types:
            try:
                parts.append(self._matches(resource_type.name == "User", search_request))
            except InvalidFilterException as exc:
                refused = exc
        if not parts and refused is not None:
            raise refused
        found: list[Resource[Any]] = []
        for total, fetch in parts:
            if len(found) >= count:
                break
            if start >= total:
                start -= total
                continue
            found += fetch(start, count - len(found))
            start = 0
        return SearchPage(total=sum(total for total, _fetch in parts), resources=found)

    def _matches(
        self, is_user: bool, search_request: SearchRequest[Any]
    ) -> tuple[int, Callable[[int, int], list[Resource[Any]]]]:
        """How many links of one type match, and how to build a slice of them."""
        links = self._people() if is_user else self._departments()
        members = is_user or _wants_members(search_request)
        exact, scim_filter = True, search_request.filter
        if scim_filter is not None:
            query, exact = filters.translate(
                scim_filter.ast,
                rules=filters.user_rules() if is_user else filters.group_rules(),
                schema=str((User if is_user else Group).__schema__),
                source_id=self.source.pk,
            )
            links = links.filter(query)
        links = links.order_by("pk")

        def build(page: list[DirectoryLink], with_members: bool) -> list[Any]:
            return self._users(page) if is_user else self._groups(page, members=with_members)

        if exact or scim_filter is None:
            return links.count(), lambda at, n: build(list(links[at : at + n]), members)
        candidates = list(links[: filters.MAX_CANDIDATES + 1])
        if len(candidates) > filters.MAX_CANDIDATES:
            raise TooManyException(detail=_("The filter matches too many entries: narrow it."))
        # The filter may read a Group's members even when the response leaves them out.
        matched = [r for r in build(candidates, True) if scim_filter.match(r)]
        if not members:
            for group in matched:
                group.members = None
        return len(matched), lambda at, n: matched[at : at + n]

    # --- writing --------------------------------------------------------------------------------

    def _lock(self) -> None:
        DirectorySource.objects.select_for_update().filter(pk=self.source.pk).first()

    def _check_user_name(self, user_name: str | None, *, own_id: str | None) -> None:
        taken = DirectoryLink.objects.filter(source=self.source, kind=PERSON, present=True).filter(
            attributes__userName__iexact=user_name
        )
        if own_id is not None:
            taken = taken.exclude(external_id=own_id)
        if taken.exists():
            raise UniquenessException(
                attribute="userName", detail=_("Another user has this userName.")
            )

    @staticmethod
    def _check(outcome: sync.Outcome, *, person: bool) -> Exception | None:
        """The error a sync outcome is answered with, if any. A person's conflict that still
        applied the change (one in a department the source does not list: kept where they
        are) is no error; every department conflict is."""
        if outcome.status == "stale":
            return ConflictException(detail=outcome.message)
        if outcome.status != "conflict":
            return None
        if person and outcome.person is not None:
            return None
        return UniquenessException(detail=outcome.message)

    def _ungrouped(self, now: Any) -> str:
        if not DirectoryLink.objects.filter(
            source=self.source, kind=DEPARTMENT, external_id=UNGROUPED
        ).exists():
            with override(settings.LANGUAGE_CODE):
                name = resources.ungrouped_name(self.source.name)
            outcome = sync.apply_department(
                self.source, ExternalDepartment(UNGROUPED, name), occurred_at=now
            )
            if (error := self._check(outcome, person=False)) is not None:
                raise error
        return UNGROUPED

    def _group_of(self, department_id: int) -> str | None:
        """The SCIM id of the Group a department is (None: not a Group of this source)."""
        return (
            DirectoryLink.objects.filter(
                source=self.source, kind=DEPARTMENT, department_id=department_id
            )
            .values_list("external_id", flat=True)
            .first()
        )

    def _first_group(self, user: User, now: Any) -> str | None:
        """A new User's Group: none yet (the department of people in no group), unless the
        sync will adopt a person of that employee number (an HR import's): then the Group
        their department is, or None (they stay where they are; the sync lists it for IT)."""
        extension = resources.enterprise(user)
        number = " ".join((extension.employee_number or "").split()) if extension else ""
        adopted = Person.objects.filter(employee_no=number).first() if number else None
        if adopted is not None:
            return self._group_of(adopted.department_id)
        return self._ungrouped(now)

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        external_id, now, error = _new_id(), timezone.now(), None
        with transaction.atomic():
            self._lock()
            if resource_type.name == "User":
                user = cast("User", resource)
                self._check_user_name(user.user_name, own_id=None)
                entry = resources.person_entry(
                    user, external_id=external_id, department_id=self._first_group(user, now)
                )
                outcome = sync.apply_person(
                    self.source, entry, occurred_at=now, event_type="scim.user.created"
                )
                error = self._check(outcome, person=True)
            else:
                error = self._write_group(cast("Group", resource), external_id, now)
        if error is not None:
            raise error
        return self.get(resource_type, external_id)

    def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        external_id, now, error = str(resource.id), timezone.now(), None
        with transaction.atomic():
            self._lock()
            if resource_type.name == "User":
                link = self._people().filter(external_id=external_id).first()
                if link is None or link.person is None:
                    raise _not_found(resource_type, external_id)
                user = cast("User", resource)
                self._check_user_name(user.user_name, own_id=external_id)
                entry = resources.person_entry(
                    user,
                    external_id=external_id,
                    department_id=self._group_of(link.person.department_id),
                )
                outcome = sync.apply_person(
                    self.source, entry, occurred_at=now, event_type="scim.user.updated"
                )
                error = self._check(outcome, person=True)
            else:
                if not self._departments().filter(external_id=external_id).exists():
                    raise _not_found(resource_type, external_id)
                error = self._write_group(cast("Group", resource), external_id, now)
        if error is not None:
            raise error
        return self.get(resource_type, external_id)

    def delete(
        self, resource_type: ResourceType, resource_id: str, *, expected_version: str | None = None
    ) -> None:
        now = timezone.now()
        with transaction.atomic():
            self._lock()
            self.get(resource_type, resource_id, response_parameters=None)  # 404 if not there
            if resource_type.name == "User":
                outcome = sync.remove_person(
                    self.source, resource_id, occurred_at=now, event_type="scim.user.deleted"
                )
            else:
                outcome = sync.remove_department(
                    self.source, resource_id, occurred_at=now, event_type="scim.group.deleted"
                )
        if outcome.status == "stale":
            raise ConflictException(detail=outcome.message)

    # --- Groups ---------------------------------------------------------------------------------

    def _write_group(self, group: Group, external_id: str, now: Any) -> Exception | None:
        """Create or update the department, then its members (in the caller's transaction)."""
        outcome = sync.apply_department(
            self.source,
            resources.department_entry(group, external_id=external_id),
            occurred_at=now,
            event_type="scim.group.written",
        )
        error = self._check(outcome, person=False)
        if error is not None:
            return error
        DirectoryLink.objects.filter(
            source=self.source, kind=DEPARTMENT, external_id=external_id
        ).update(attributes=resources.group_attributes(group))
        wanted = {m.value for m in group.members or [] if m.value and m.type in (None, "User")}
        return self._set_members(external_id, wanted, now)

    def _set_members(self, group_id: str, wanted: set[str], now: Any) -> Exception | None:
        """Move into the Group the wanted people not in it, and the others out of it (to the
        department of people in no group). Ids of no User of this source are ignored."""
        department_id = (
            DirectoryLink.objects.filter(source=self.source, kind=DEPARTMENT, external_id=group_id)
            .values_list("department_id", flat=True)
            .first()
        )
        people = self._people().filter(Q(person__department_id=department_id) |
                                       Q(external_id__in=wanted))  # fmt: skip
        moves = []
        for link in people:
            inside = link.person is not None and link.person.department_id == department_id
            if inside != (link.external_id in wanted):
                moves.append((link, group_id if not inside else None))
        for link, target in moves:
            if target is None:
                target = self._ungrouped(now)
            [user] = self._users([link])
            entry = resources.person_entry(user, external_id=link.external_id, department_id=target)
            outcome = sync.apply_person(
                self.source, entry, occurred_at=now, event_type="scim.group.members"
            )
            if (error := self._check(outcome, person=True)) is not None:
                return error
        return None
