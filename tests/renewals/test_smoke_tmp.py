import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from renewals.models import MonthlyUsage
from renewals.services import imports
from tests.conftest import make_user
from tests.factories import DepartmentFactory, ModuleFactory, SubscriptionFactory


@pytest.mark.django_db
def test_smoke():
    it = make_user("it", "it_admin")
    sub = SubscriptionFactory.create(ref="S1")
    ModuleFactory.create(subscription=sub, name="Gantt")
    csv = "Subscription,Module,Month,Active_Users,tasks_created\nS1,,2026-01,5,10\nS1,Gantt,2026/02,3,\nS9,,2026-03,1,\nS1,,2026-13,-1,x\n"
    job = imports.import_upload(
        user=it, kind="usage", upload=SimpleUploadedFile("u.csv", csv.encode())
    )
    print(job.status, job.total_rows, job.error_count, job.errors, job.failure)
    csv = "Subscription,Module,Month,Active_Users,tasks_created\nS1,,2026-01,5,10\nS1,Gantt,2026/02,3,\n"
    job = imports.import_upload(
        user=it, kind="usage", upload=SimpleUploadedFile("u.csv", csv.encode("gbk"))
    )
    print(job.status, job.total_rows, job.error_count, job.errors, job.failure, job.summary)
    job = imports.import_commit(user=it, job=job)
    print(job.status, job.summary, job.failure)
    print(
        list(
            MonthlyUsage.objects.values_list(
                "module__name", "month", "active_users", "tasks_created"
            )
        )
    )
    job = imports.import_upload(
        user=it, kind="usage", upload=SimpleUploadedFile("u.csv", csv.encode("gbk"))
    )
    print("third", job.status, job.errors, job.failure)
    job = imports.import_commit(user=it, job=job)
    print(job.status, job.summary, job.failure)
    dept = DepartmentFactory.create(code="rd")
    csv = "ref,vendor,product,department,seats,unit_price,currency,term_start,term_end,auto_renew,tags\nN1,Atlassian,Jira,RD,20,100.50,usd,2026-01-01,2026-12-31,是,a;b\n"
    job = imports.import_upload(
        user=it, kind="subscriptions", upload=SimpleUploadedFile("s.csv", csv.encode())
    )
    print(job.status, job.errors, job.failure)
