"""The directory sync engine (integrations/directory/sync.py) on PostgreSQL, with snapshots and
events built by hand (the readers have their own tests against real or documented servers)."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from integrations.directory import sync
from integrations.directory.entries import (
    ExternalDepartment as D,
)
from integrations.directory.entries import (
    ExternalPerson as P,
)
from integrations.directory.entries import (
    Snapshot,
    SourceError,
)
from integrations.models import DirectoryConflict, DirectoryLink, DirectorySource, SyncRun
from org.models import Department, Person
from tests.factories import DepartmentFactory, PersonFactory, SeatFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def source() -> DirectorySource:
    return DirectorySource.objects.create(name="AD", kind=DirectorySource.Kind.LDAP)


def tree() -> list[D]:
    return [D("root", "集团"), D("rd", "研发部", "root"), D("sales", "销售部", "root")]


def people(n: int = 10, dept: str = "rd") -> list[P]:
    return [
        P(f"u{i}", f"员工{i}", dept, employee_no=f"E{i:03}", email=f"u{i}@example.cn")
        for i in range(n)
    ]


def full(depts: list[D], persons: list[P]) -> Snapshot:
    return Snapshot(
        people=persons,
        departments=depts,
        present_people={p.external_id for p in persons},
        present_departments={d.external_id for d in depts},
    )


def run(source: DirectorySource, snapshot: Snapshot) -> SyncRun:
    with mock.patch.object(sync, "reader_for", return_value=lambda s, full: snapshot):
        return sync.sync_source(source, full=True)


def test_full_sync_creates_the_tree_and_people_linked_by_external_id(source):
    result = run(source, full(tree(), people(10)))
    assert result.status == SyncRun.Status.SUCCEEDED, result.error
    rd = Department.objects.get(name="研发部")
    assert rd.parent is not None and rd.parent.name == "集团"
    assert Person.objects.filter(department=rd, status="active").count() == 10
    assert result.counts["people_created"] == 10
    assert result.counts["departments_created"] == 3
    assert DirectoryLink.objects.filter(source=source, kind="person").count() == 10


def test_an_unchanged_second_sync_writes_nothing(source):
    run(source, full(tree(), people(10)))
    before = list(Person.objects.values_list("pk", "updated_at").order_by("pk"))
    again = run(source, full(tree(), people(10)))
    assert again.status == SyncRun.Status.SUCCEEDED
    assert again.counts.get("people_updated", 0) == 0
    assert again.counts["people_unchanged"] == 10
    assert list(Person.objects.values_list("pk", "updated_at").order_by("pk")) == before


def test_a_renamed_person_is_the_same_person(source):
    run(source, full(tree(), people(3)))
    pk = Person.objects.get(employee_no="E001").pk
    renamed = people(3)
    renamed[1] = P("u1", "新名字", "sales", employee_no="E001", email="u1@example.cn")
    run(source, full(tree(), renamed))
    person = Person.objects.get(pk=pk)
    assert (person.name, person.department.name) == ("新名字", "销售部")


def test_a_deleted_person_has_left_and_their_seat_holders_are_told(
    source, django_capture_on_commit_callbacks
):
    run(source, full(tree(), people(40)))
    leaver = Person.objects.get(employee_no="E007")
    SeatFactory(person=leaver)
    with (
        mock.patch("integrations.directory.sync.async_task") as queue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = run(source, full(tree(), people(40)[:7] + people(40)[8:]))
    assert result.status == SyncRun.Status.SUCCEEDED
    leaver.refresh_from_db()
    assert leaver.status == "left" and leaver.left_on == timezone.localdate()
    queue.assert_called_once_with("renewals.tasks.leavers_act", [leaver.pk], "AD")


def test_a_mass_leaver_sync_is_held_and_confirmed_by_it(source, settings):
    settings.DIRECTORY_MAX_LEAVERS_PERCENT = 5
    run(source, full(tree(), people(40)))
    result = run(source, full(tree(), people(40)[:30]))  # 10 of 40 gone: 25 %
    assert result.status == SyncRun.Status.HELD
    assert len(result.held_leavers) == 10
    assert Person.objects.filter(status="left").count() == 0
    admin = UserFactory.create()
    with mock.patch("integrations.directory.sync.async_task"):
        sync.confirm_held(result, user=admin)
    assert Person.objects.filter(status="left").count() == 10
    with pytest.raises(SourceError):
        sync.confirm_held(result, user=admin)


def test_an_empty_read_never_fires_the_company(source):
    run(source, full(tree(), people(40)))
    result = run(source, full([], []))  # a wrong base DN
    assert result.status == SyncRun.Status.HELD
    assert Person.objects.filter(status="active").count() == 40
    assert Department.objects.filter(is_active=True).count() == 3


def test_emptying_a_department_is_held(source, settings):
    settings.DIRECTORY_MAX_LEAVERS_PERCENT = 50
    persons = people(20) + [
        P("s1", "销售甲", "sales", employee_no="S1"),
        P("s2", "销售乙", "sales", employee_no="S2"),
    ]
    run(source, full(tree(), persons))
    result = run(source, full(tree(), persons[:20]))
    assert result.status == SyncRun.Status.HELD
    assert result.held_departments == [Department.objects.get(name="销售部").pk]


def test_a_failing_source_applies_nothing(source):
    def broken(source, full):
        raise SourceError("The server stopped answering.")

    with mock.patch.object(sync, "reader_for", return_value=broken):
        result = sync.sync_source(source, full=True)
    assert result.status == SyncRun.Status.FAILED
    assert result.error == "The server stopped answering."
    assert not Person.objects.exists()


def test_an_hr_imported_person_is_adopted_by_employee_number(source):
    rd = DepartmentFactory.create(name="旧研发")
    existing = PersonFactory.create(employee_no="E001", department=rd)
    run(source, full(tree(), people(3)))
    existing.refresh_from_db()
    assert existing.directory_links.get().external_id == "u1"
    assert existing.department.name == "研发部"
    assert Person.objects.count() == 3


def test_the_same_email_from_two_sources_is_a_conflict_not_a_guess(source):
    run(source, full(tree(), people(2)))
    feishu = DirectorySource.objects.create(name="飞书", kind="feishu")
    other = [P("ou_1", "员工1", "d", employee_no="F1", email="U1@example.cn")]
    result = run(feishu, full([D("d", "子公司")], other))
    assert result.status == SyncRun.Status.SUCCEEDED
    conflict = DirectoryConflict.objects.get(source=feishu)
    assert conflict.kind == DirectoryConflict.Kind.EMAIL_TAKEN
    assert Person.objects.count() == 2


def test_same_department_name_gets_its_parent_in_front(source):
    depts = [*tree(), D("sh", "上海分公司", "root"), D("sh-sales", "销售部", "sh")]
    run(source, full(depts, people(2)))
    assert Department.objects.filter(name="上海分公司 / 销售部").exists()


def test_unknown_department_is_listed_and_a_known_person_stays(source):
    run(source, full(tree(), people(2)))
    moved = [P("u0", "员工0", "nowhere", employee_no="E000"), people(2)[1]]
    run(source, full(tree(), moved))
    assert Person.objects.get(employee_no="E000").department.name == "研发部"
    assert DirectoryConflict.objects.filter(kind="unknown_department", external_id="u0").exists()


def test_a_manager_is_resolved_after_everyone_exists(source):
    persons = [P("boss", "老板", "rd", employee_no="B1"), P("w", "员工", "rd", manager_id="boss")]
    run(source, full(tree(), persons))
    manager = Person.objects.get(name="员工").manager
    assert manager is not None and manager.name == "老板"


def test_sign_in_users_are_linked_by_employee_number_or_email(source):
    by_number = UserFactory(username="E000")
    by_mail = UserFactory(username="someone", email="U1@EXAMPLE.cn")
    run(source, full(tree(), people(2)))
    assert Person.objects.get(employee_no="E000").user == by_number
    assert Person.objects.get(employee_no="E001").user == by_mail


# --- events -----------------------------------------------------------------------------------


def person_of(outcome: sync.Outcome) -> Person:
    assert outcome.person is not None, outcome
    return outcome.person


def department_of(outcome: sync.Outcome) -> Department:
    assert outcome.department is not None, outcome
    return outcome.department


def at(minutes: int) -> dt.datetime:
    return timezone.now() + dt.timedelta(minutes=minutes)


def test_an_event_applies_once_and_a_replay_changes_nothing(source):
    run(source, full(tree(), people(2)))
    entry = P("u9", "新人", "rd", employee_no="E009")
    first = sync.apply_person(source, entry, occurred_at=at(1), event_id="ev-1", event_type="c")
    assert first.status == "applied" and first.person is not None
    assert person_of(first).name == "新人"
    again = sync.apply_person(
        source, P("u9", "改名", "rd"), occurred_at=at(2), event_id="ev-1", event_type="c"
    )
    assert again.status == "replayed"
    assert Person.objects.get(employee_no="E009").name == "新人"


def test_a_late_update_does_not_bring_a_leaver_back(source):
    run(source, full(tree(), people(3)))
    with mock.patch("integrations.directory.sync.async_task"):
        gone = sync.remove_person(source, "u1", occurred_at=at(5), event_id="del")
    assert gone.status == "applied" and person_of(gone).status == "left"
    late = sync.apply_person(
        source, people(3)[1], occurred_at=at(3), event_id="upd", event_type="updated"
    )
    assert late.status == "stale"
    assert Person.objects.get(employee_no="E001").status == "left"


def test_an_inactive_event_is_a_leaver_at_once_never_held(
    source, django_capture_on_commit_callbacks
):
    run(source, full(tree(), people(2)))
    disabled = P("u0", "员工0", "rd", employee_no="E000", active=False)
    with (
        mock.patch("integrations.directory.sync.async_task") as queue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        outcome = sync.apply_person(source, disabled, occurred_at=at(1), event_id="x")
    assert person_of(outcome).status == "left"
    assert queue.call_args.args[1] == [person_of(outcome).pk]


def test_a_department_removed_while_people_are_in_it_stays_active(source):
    run(source, full(tree(), people(2)))
    outcome = sync.remove_department(source, "rd", occurred_at=at(1), event_id="d1")
    assert outcome.status == "unchanged" and department_of(outcome).is_active
    empty = sync.remove_department(source, "sales", occurred_at=at(1), event_id="d2")
    assert empty.status == "applied" and not department_of(empty).is_active


def test_a_person_deleted_and_made_again_under_a_new_id_is_the_same_person(source):
    run(source, full(tree(), people(3)))
    pk = Person.objects.get(employee_no="E001").pk
    with mock.patch("integrations.directory.sync.async_task"):
        sync.remove_person(source, "u1", occurred_at=at(1), event_id="del")
    back = P("new-id", "员工1", "rd", employee_no="E001", email="u1@example.cn")
    outcome = sync.apply_person(source, back, occurred_at=at(2), event_id="again")
    assert outcome.status == "applied" and person_of(outcome).pk == pk
    assert person_of(outcome).status == "active" and person_of(outcome).left_on is None
    assert DirectoryLink.objects.get(person_id=pk).external_id == "new-id"


def test_a_renamed_id_keeps_the_person_and_refuses_a_taken_one(source):
    run(source, full(tree(), people(3)))
    pk = Person.objects.get(employee_no="E001").pk
    assert sync.rename_person(source, "u1", "u1-new", occurred_at=at(1))
    assert DirectoryLink.objects.get(person_id=pk).external_id == "u1-new"
    assert not sync.rename_person(source, "u2", "u1-new", occurred_at=at(2))  # taken
    assert not sync.rename_person(source, "nobody", "x", occurred_at=at(2))
    again = run(
        source,
        full(
            tree(), [*people(3)[:1], P("u1-new", "员工1", "rd", employee_no="E001"), people(3)[2]]
        ),
    )
    assert again.counts.get("leavers", 0) == 0 and Person.objects.count() == 3


def pull_at(source: DirectorySource, snapshot: Snapshot, minutes: int) -> SyncRun:
    """A full pull that started ``minutes`` from now (as sync_source applies one)."""
    pulled = SyncRun.objects.create(source=source, trigger=SyncRun.Trigger.COMMAND, full=True)
    return sync.apply_snapshot(source, snapshot, run=pulled, occurred_at=at(minutes))


def changed_at(source: DirectorySource) -> dict[str, dt.datetime]:
    links = DirectoryLink.objects.filter(source=source, kind="person")
    return dict(links.values_list("external_id", "changed_at"))


def test_an_unchanged_full_pull_writes_no_link_yet_outdates_older_events(source):
    assert pull_at(source, full(tree(), people(3)), 0).status == SyncRun.Status.SUCCEEDED
    first = changed_at(source)
    again = pull_at(source, full(tree(), people(3)), 10)
    assert again.counts["people_unchanged"] == 3
    assert changed_at(source) == first  # no row written for an unchanged entry
    source.refresh_from_db()
    assert source.listed_at is not None and abs(source.listed_at - at(10)).total_seconds() < 5
    # Events from before the second pull are older than what it confirmed: both refused.
    renamed = P("u1", "旧名", "rd", employee_no="E001", email="u1@example.cn")
    late = sync.apply_person(source, renamed, occurred_at=at(5), event_id="u", event_type="upd")
    assert late.status == "stale"
    with mock.patch("integrations.directory.sync.async_task") as queued:
        gone = sync.remove_person(source, "u2", occurred_at=at(5), event_id="d")
    assert gone.status == "stale" and not queued.called
    assert set(Person.objects.values_list("name", "status")) == {
        ("员工0", "active"), ("员工1", "active"), ("员工2", "active")}  # fmt: skip
    # A change in the pull is written with the pull's time; a later event still applies.
    changed = [*people(2), P("u2", "员工二", "rd", employee_no="E002", email="u2@example.cn")]
    pull_at(source, full(tree(), changed), 20)
    times = changed_at(source)
    assert times["u0"] == first["u0"] and times["u2"] > first["u2"]
    newer = sync.apply_person(source, renamed, occurred_at=at(25), event_id="u2", event_type="u")
    assert newer.status == "applied" and person_of(newer).name == "旧名"


def test_a_held_full_pull_confirms_only_the_people_it_listed(source):
    pull_at(source, full(tree(), people(10)), 0)
    first = changed_at(source)
    with mock.patch("integrations.directory.sync.async_task"):
        held = pull_at(source, full(tree(), people(3)), 10)
    assert held.status == SyncRun.Status.HELD
    source.refresh_from_db()
    assert source.listed_at is not None and source.listed_at < at(5)  # the first pull's
    times = changed_at(source)
    assert all(times[f"u{i}"] > first[f"u{i}"] for i in range(3))
    assert all(times[f"u{i}"] == first[f"u{i}"] for i in range(3, 10))
    # An event between the two pulls about someone the held pull did not list still applies.
    with mock.patch("integrations.directory.sync.async_task"):
        gone = sync.remove_person(source, "u7", occurred_at=at(5), event_id="d7")
    assert gone.status == "applied" and person_of(gone).status == "left"


def test_a_full_pull_lists_a_leaver_again_as_present(source):
    pull_at(source, full(tree(), people(10)), 0)
    with mock.patch("integrations.directory.sync.async_task"):
        pull_at(source, full(tree(), people(10)[1:]), 10)  # u0 dropped: left, link absent
    link = DirectoryLink.objects.get(source=source, external_id="u0")
    assert link.person is not None
    assert not link.present and link.person.status == "left"
    disabled = P("u0", "员工0", "rd", employee_no="E000", email="u0@example.cn", active=False)
    again = pull_at(source, full(tree(), [disabled, *people(10)[1:]]), 20)
    assert again.counts["people_unchanged"] == 10  # the person is as we hold them ...
    link.refresh_from_db()
    assert link.present and link.person.status == "left"  # ... and listed again
