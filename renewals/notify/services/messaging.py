"""Telling people about a request: in-app notification, e-mail in their language, and the
department's chat channels. Called from django-q2 tasks after the decision has committed, so a
slow mail server or chat webhook never holds a lock or rolls a decision back."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from org.models import Department, User
from renewals.notify import webhooks
from renewals.notify.models import ChatChannel, Notification

logger = logging.getLogger(__name__)


def _language(user: User | None) -> str:
    return (user.language if user else "") or settings.LANGUAGE_CODE


def render_message(template: str, context: dict[str, Any], language: str) -> tuple[str, str, str]:
    """Subject, text and HTML of ``renewals/email/<template>-{subject,body}.{txt,html}``."""
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}-subject.txt", context).split())
        text = render_to_string(f"{template}-body.txt", context)
        html = render_to_string(f"{template}-body.html", context)
    return subject, text, html


# An e-mail attachment: file name, content, MIME type.
Attachment = tuple[str, bytes, str]


def notify_users(
    users: Iterable[User],
    *,
    template: str,
    context: dict[str, Any],
    url: str,
    subscription: Any,
    attachments: Sequence[Attachment] = (),
) -> int:
    """One in-app notification and one e-mail per user (each in the user's language), the
    e-mail carrying ``attachments`` if any."""
    count = 0
    for user in {u.pk: u for u in users if u.is_active}.values():
        subject, text, html = render_message(template, {**context, "user": user}, _language(user))
        # The bell's entry is itself the link (to ``url``, on the address the page was opened
        # at): its text leaves out the e-mail's written-out address.
        _subject, in_app, _html = render_message(
            template, {**context, "user": user, "url": ""}, _language(user)
        )
        Notification.objects.create(
            user=user, subscription=subscription, title=subject[:200], body=in_app.strip(), url=url
        )
        if user.email:
            send_email(user.email, subject, text, html, attachments=attachments)
        count += 1
    return count


def send_email(
    address: str, subject: str, text: str, html: str, *, attachments: Sequence[Attachment] = ()
) -> bool:
    message = EmailMultiAlternatives(subject, text, to=[address])
    message.attach_alternative(html, "text/html")
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    try:
        message.send()
    except Exception:  # noqa: BLE001 - a mail failure is logged, the in-app notice stands
        logger.exception("e-mail to %s failed", address)
        return False
    return True


def chat_post(department: Department, *, text: str, data: dict[str, Any]) -> int:
    """Post ``text`` to the department's active chat channels; returns how many accepted it."""
    posted = 0
    for channel in ChatChannel.objects.filter(department=department, is_active=True):
        outcome = chat_post_to(channel, text=text, data=data)
        if outcome.ok:
            posted += 1
        else:  # the channel id, never its URL or secret, goes to the log
            logger.warning(
                "chat channel %s refused a request notice: %s", channel.pk, outcome.error
            )
    return posted


def chat_post_to(channel: ChatChannel, *, text: str, data: dict[str, Any]) -> webhooks.Outcome:
    """Post ``text`` to one chat channel, once (no retry)."""
    url, body = webhooks.build_request(
        channel.kind, channel.url, channel.secret, webhooks.neutralise(text), data
    )
    return webhooks.post(url, body)
