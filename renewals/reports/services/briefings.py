"""Monthly usage briefings: queue, render (in a worker, never in a web request), store and send.

A briefing's PDF is rendered by a django-q2 task with the page's own figures and charts, stored
under ``MEDIA_ROOT/private/briefings/`` with a generated name and recorded on its ``Briefing``
row in the same step: the row says "ready" only with its file, and a failure leaves no file.
Two workers on the same briefing serialise on the row lock; the second finds it ready.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from core.filenames import clean_name
from core.pdf import render_pdf
from org.models import Department, User
from renewals.notify.services import messaging
from renewals.reports.models import Briefing
from renewals.reports.selectors.briefings import briefing_charts, briefing_figures
from renewals.usage.selectors import month_start

logger = logging.getLogger(__name__)

STORAGE_DIR = "private/briefings"
PDF_TEMPLATE = "pdf/briefing.html"
# Seconds a worker may spend on one department's briefings (render in every language and
# send); django-q2 kills the task after that. Below Q_CLUSTER["retry"] so that a task still
# running is never handed to a second worker.
TIME_LIMIT = 180
LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)


def check_month(month: dt.date, *, today: dt.date | None = None) -> dt.date:
    """The first day of ``month``; refused if the month has not started yet."""
    today = today or timezone.localdate()
    month = month_start(month)
    if month > month_start(today) or month.year < 2000:
        raise ValidationError(_("There is no briefing for that month."))
    return month


# The PDF lists this many modules (least used first) and recommendations (largest saving first);
# the page lists all. A department with hundreds of them would otherwise make a PDF of dozens of
# pages that takes WeasyPrint many seconds (bench/bench_briefing.py), and nobody reads row 300.
PDF_ROWS = 30
# Bars per chart in the PDF (the page draws 25): WeasyPrint lays out SVG text one letter at a
# time, so chart labels cost more than table cells; the tables list every subscription.
PDF_BARS = 12


def briefing_context(figures: dict[str, Any], *, pdf: bool = False) -> dict[str, Any]:
    """What the page and the PDF template both get: the figures, the charts drawn from them, and
    the module and recommendation rows to list (all of them on the page, the first PDF_ROWS in
    the PDF). ``pdf`` also tells the template to set its tables in fewer, wider cells."""
    modules = figures["modules"]
    advice = figures["recommendations"]
    if pdf:
        modules = sorted(
            modules, key=lambda m: (m["utilisation"] is None, Decimal(m["utilisation"] or 0))
        )[:PDF_ROWS]
        advice = sorted(advice, key=lambda r: -Decimal(r["yearly_saving"] or 0))[:PDF_ROWS]
    return {
        "pdf": pdf,
        "figures": figures,
        "charts": briefing_charts(figures, limit=PDF_BARS) if pdf else briefing_charts(figures),
        "modules": modules,
        "modules_more": len(figures["modules"]) - len(modules),
        "recommendations": advice,
        "recommendations_more": len(figures["recommendations"]) - len(advice),
    }


def download_name(briefing: Briefing) -> str:
    """The file name offered for download and attached to e-mails (safe for any header)."""
    with translation.override(briefing.language):
        stem = _("Usage briefing %(department)s %(month)s") % {
            "department": briefing.department.name,
            "month": f"{briefing.month:%Y-%m}",
        }
    return clean_name(stem, ".pdf")


def briefing_request(
    *,
    user: User | None,
    department: Department,
    month: dt.date,
    language: str,
    enqueue: bool = True,
) -> Briefing:
    """The stored briefing, or a queued one whose PDF a worker renders (``enqueue=False``: the
    caller, a worker itself, renders it). Safe to call twice at once (one row per department,
    month and language: the unique constraint decides)."""
    if language not in LANGUAGES:
        raise ValidationError(_("Choose a language."))
    month = check_month(month)
    with transaction.atomic():
        briefing, created = Briefing.objects.get_or_create(
            department=department, month=month, language=language,
            defaults={"requested_by": user},
        )  # fmt: skip
        briefing = Briefing.objects.select_for_update().get(pk=briefing.pk)
        if briefing.status == Briefing.Status.READY:
            return briefing
        stale = timezone.now() - dt.timedelta(seconds=TIME_LIMIT + 30)
        if briefing.status == Briefing.Status.FAILED or created or briefing.created_at < stale:
            # A failed one is tried again; a queued one whose worker died long ago too.
            Briefing.objects.filter(pk=briefing.pk).update(
                status=Briefing.Status.QUEUED, error="", requested_by=user or briefing.requested_by,
                created_at=timezone.now(),
            )  # fmt: skip
            if enqueue:
                pk = briefing.pk
                transaction.on_commit(lambda: enqueue_render(pk))
    briefing.refresh_from_db()
    return briefing


def enqueue_render(briefing_id: int) -> None:
    async_task(
        "renewals.tasks.render_briefing", briefing_id,
        timeout=TIME_LIMIT, task_name=f"briefing-{briefing_id}",
    )  # fmt: skip


def briefing_render(*, briefing_id: int, today: dt.date | None = None) -> Briefing | None:
    """Render, store and record one briefing's PDF (in a worker). Returns None if the row is
    gone; a briefing already ready is left as it is."""
    stored: list[str] = []
    try:
        with transaction.atomic():
            briefing = (
                Briefing.objects.select_for_update(of=("self",))
                .select_related("department")
                .filter(pk=briefing_id)
                .first()
            )
            if briefing is None or briefing.status == Briefing.Status.READY:
                return briefing
            try:
                with transaction.atomic():  # a savepoint: a failure can still be recorded
                    with translation.override(briefing.language):
                        figures = briefing_figures(briefing.department, briefing.month, today=today)
                        pdf = render_pdf(PDF_TEMPLATE, briefing_context(figures, pdf=True))
                    name = default_storage.save(
                        f"{STORAGE_DIR}/{uuid.uuid4().hex}.pdf", ContentFile(pdf)
                    )
                    stored.append(name)
                    briefing.status = Briefing.Status.READY
                    briefing.stored_name = name
                    briefing.size = len(pdf)
                    briefing.sha256 = hashlib.sha256(pdf).hexdigest()
                    briefing.figures = figures
                    briefing.error = ""
                    briefing.generated_at = timezone.now()
                    briefing.save()
            except Exception as exc:  # noqa: BLE001 - recorded on the row and logged
                logger.exception("briefing %s failed", briefing_id)
                _discard(stored)
                briefing.status = Briefing.Status.FAILED
                briefing.error = f"{type(exc).__name__}: {exc}"[:2000]
                Briefing.objects.filter(pk=briefing.pk).update(
                    status=briefing.status, error=briefing.error
                )
    except BaseException:
        _discard(stored)  # the row did not commit: its file must not stay behind either
        raise
    return briefing


def _discard(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:  # pragma: no cover - logged, the integrity of rows is what matters
            logger.exception("could not delete %s", name)
    names.clear()


def head_language(user: User) -> str:
    return user.language if user.language in LANGUAGES else settings.LANGUAGE_CODE


def briefing_send(*, department_id: int, month: dt.date, today: dt.date | None = None) -> str:
    """The monthly job for one department: render the briefing in each language its heads
    read, then send it to them once (e-mail with the PDF, in-app notification) and post a link
    to the department's chat. Each language's row is claimed by setting ``sent_at`` under its
    lock, so two workers never send the same briefing twice (at most once: a crash after the
    claim loses that month's e-mail, never doubles it)."""
    department = Department.objects.filter(pk=department_id).first()
    if department is None:
        return "gone"
    month = month_start(month)
    heads = list(department.heads.filter(is_active=True))
    if not heads:
        return "no heads"
    languages = sorted({head_language(h) for h in heads})
    for language in languages:
        briefing = briefing_request(
            user=None, department=department, month=month, language=language, enqueue=False
        )
        if briefing.status != Briefing.Status.READY:
            briefing_render(briefing_id=briefing.pk, today=today)
    with transaction.atomic():
        claimed = list(
            Briefing.objects.select_for_update()
            .filter(
                department=department,
                month=month,
                language__in=languages,
                status=Briefing.Status.READY,
                sent_at__isnull=True,
            )  # fmt: skip
            .order_by("language")
        )
        Briefing.objects.filter(pk__in=[b.pk for b in claimed]).update(sent_at=timezone.now())
    told = 0
    for briefing in claimed:
        briefing.department = department
        path = reverse("renewals:briefing-detail", args=[department.pk, f"{month:%Y-%m}"])
        with default_storage.open(briefing.stored_name, "rb") as handle:
            pdf = handle.read()
        told += messaging.notify_users(
            [h for h in heads if head_language(h) == briefing.language],
            template="renewals/email/briefing",
            context={"department": department, "month": month, "url": settings.SITE_URL + path,
                     "figures": briefing.figures},
            url=path, subscription=None,
            attachments=[(download_name(briefing), pdf, "application/pdf")],
        )  # fmt: skip
    if claimed:
        path = reverse("renewals:briefing-detail", args=[department.pk, f"{month:%Y-%m}"])
        with translation.override(settings.LANGUAGE_CODE):
            text = _("Usage briefing %(department)s %(month)s: %(url)s") % {
                "department": department.name,
                "month": f"{month:%Y-%m}",
                "url": settings.SITE_URL + path,
            }
        messaging.chat_post(department, text=text, data={"briefing": claimed[0].pk})
    return f"{len(claimed)} sent, {told} told"
