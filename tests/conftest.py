"""Fixtures every test can use: a cast of users per role over a small organisation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from budgets.models import Budget, LedgerEntry
from org import services
from org.models import Department, Person, User
from org.roles import Role
from renewals.imports.models import ImportJob
from renewals.inventory.models import Subscription
from renewals.notify.models import ChatChannel, Notification
from renewals.requests.services.tiers import tiers_ensure_defaults
from tests.factories import DepartmentFactory, PersonFactory, SubscriptionFactory, UserFactory


@dataclass
class Cast:
    """Two departments A and B (A has a sub-department), and one user per role."""

    dept_a: Department
    dept_a_child: Department
    dept_b: Department
    it_admin: User
    finance: User
    head_a: User
    head_b: User
    software_admin: User
    auditor: User
    legal: User
    employee: User
    person_a: Person
    subscription_a: Subscription
    import_job: ImportJob
    notification: Notification
    chat_channel: ChatChannel
    budget_a: Budget
    ledger_entry: LedgerEntry

    def users(self) -> dict[str, User | None]:
        return {
            "anonymous": None,
            "employee": self.employee,
            "it_admin": self.it_admin,
            "finance": self.finance,
            "head_a": self.head_a,
            "head_b": self.head_b,
            "software_admin": self.software_admin,
            "auditor": self.auditor,
            "legal": self.legal,
        }


def make_user(username: str, *roles: str, **extra: object) -> User:
    user = UserFactory.create(username=username, **extra)
    services.user_set_roles(user=user, roles=roles)
    return user


@pytest.fixture
def cast(db: None) -> Cast:
    dept_a = DepartmentFactory.create(code="a", name="研发中心 A")
    dept_a_child = DepartmentFactory.create(code="a-qa", name="测试部 A-QA", parent=dept_a)
    dept_b = DepartmentFactory.create(code="b", name="市场部 B")
    head_a = make_user("head_a", Role.DEPARTMENT_HEAD)
    head_b = make_user("head_b", Role.DEPARTMENT_HEAD)
    software_admin = make_user("swadmin_a", Role.SOFTWARE_ADMIN)
    dept_a.heads.add(head_a)
    dept_b.heads.add(head_b)
    dept_a.software_admins.add(software_admin)
    person_a = PersonFactory.create(department=dept_a, name="甲员工")
    subscription_a = SubscriptionFactory.create(department=dept_a, ref="A-1")
    import_job = ImportJob.objects.create(
        kind="usage", status="ready", created_by=software_admin, original_name="u.csv",
        stored_name="nothing.csv", file_format="csv", size=1, sha256="0" * 64,
    )  # fmt: skip
    notification = Notification.objects.create(user=head_a, title="提醒", url="/")
    chat_channel = ChatChannel.objects.create(
        department=dept_b, name="市场部群", kind="slack", url="https://hooks.slack.com/services/T/B/x",
        is_active=False,
    )  # fmt: skip
    tiers_ensure_defaults()  # a transactional test's flush removes what migrations installed
    budget_a = Budget.objects.create(department=dept_a, year=2027)
    ledger_entry = LedgerEntry.objects.create(
        budget=budget_a, kind="allocation", amount=100, memo="分配"
    )
    return Cast(
        dept_a=dept_a,
        dept_a_child=dept_a_child,
        dept_b=dept_b,
        it_admin=make_user("it_admin", Role.IT_ADMIN, is_staff=True, is_superuser=True),
        finance=make_user("finance", Role.FINANCE),
        head_a=head_a,
        head_b=head_b,
        software_admin=software_admin,
        auditor=make_user("auditor", Role.AUDITOR),
        legal=make_user("legal", Role.LEGAL),
        employee=make_user("employee"),
        person_a=person_a,
        subscription_a=subscription_a,
        import_job=import_job,
        notification=notification,
        chat_channel=chat_channel,
        budget_a=budget_a,
        ledger_entry=ledger_entry,
    )


@pytest.fixture(autouse=True)
def _media_root(settings: object, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Uploaded files of a test go to a fresh temporary folder."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _close_progress_connection() -> Iterator[None]:
    """Jobs report progress through a second connection; close it so the test database can be
    dropped at the end of the run."""
    yield
    from django.db import connections

    connections["progress"].close()
