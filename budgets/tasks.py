"""django-q2 entry points of the budgets app."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from org.models import User
from org.roles import Role


def quarterly_review_reminder() -> int:
    """First day of each quarter: remind finance to review and re-forecast the budgets."""
    recipients = User.objects.filter(groups__name=Role.FINANCE, is_active=True).exclude(email="")
    url = settings.SITE_URL + reverse("budgets:overview")
    sent = 0
    for user in recipients:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            context = {"user": user, "url": url, "today": timezone.localdate()}
            subject = render_to_string(
                "budgets/email/quarterly-review-subject.txt", context
            ).strip()
            body = render_to_string("budgets/email/quarterly-review-body.txt", context)
        sent += send_mail(subject, body, None, [user.email])
    return sent
