"""Permission-matrix rows of the monthly usage briefings (#8): heads and software admins of the
department, IT, finance and auditors read them; another department's head gets 404 on every
URL, including the PDF's status and download."""

from __future__ import annotations

import datetime as dt

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from renewals.reports.models import Briefing
from renewals.usage.selectors import add_months, month_start
from tests.conftest import Cast
from tests.matrix_common import DIRECTORY, LOGIN, Row


def _month() -> dt.date:
    return add_months(month_start(timezone.localdate()), -1)


def _department(c: Cast) -> dict[str, object]:
    return {"department": c.dept_a.pk, "month": f"{_month():%Y-%m}"}


def _stored(c: Cast) -> dict[str, object]:
    """A ready briefing of department A with its file (once per test)."""
    briefing = Briefing.objects.filter(department=c.dept_a).first()
    if briefing is None:
        name = default_storage.save("private/briefings/matrix.pdf", ContentFile(b"%PDF-1.7\n%%EOF"))
        briefing = Briefing.objects.create(
            department=c.dept_a, month=_month(), language="zh-hans", status="ready",
            stored_name=name, size=14, sha256="0" * 64, generated_at=timezone.now(),
        )  # fmt: skip
    return {"pk": briefing.pk}


# Department A's briefing: readable like its subscriptions; head B gets 404.
READ_A = {"anonymous": LOGIN, **DIRECTORY, "head_b": 404}
# Asking for the PDF redirects back to the page (a worker makes it).
REQUEST_A = {r: (302 if code == 200 else code) for r, code in READ_A.items()}

ROWS: dict[str, Row] = {
    "renewals:briefing-list": Row({"anonymous": LOGIN, **DIRECTORY}),
    "renewals:briefing-detail": Row(READ_A, kwargs=_department),
    "renewals:briefing-request": Row(
        REQUEST_A, method="post", kwargs=_department, data=lambda c: {"language": "zh-hans"}
    ),
    "renewals:briefing-status": Row(READ_A, kwargs=_stored),
    "renewals:briefing-download": Row(READ_A, kwargs=_stored),
}
