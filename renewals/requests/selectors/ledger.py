"""The ledger's sources that are renewal requests (references "renewals.RenewalRequest:<pk>",
written by the approval and execution services), named and linked for budgets.references."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from budgets.references import Source
from core.rows import url_maker
from org.roles import DIRECTORY_ROLES, has_role
from org.scoping import visible_departments
from renewals.requests.models.requests import RenewalRequest

LABEL = "renewals.RenewalRequest"


def request_name(key: str) -> str:
    """'Renewal request #4', whether or not the viewer may open it."""
    return gettext("Renewal request #%(pk)s") % {"pk": key}


def request_sources(user: Any, keys: list[str]) -> dict[str, Source]:
    """The requests among ``keys`` that ``user`` may open (the request page's own rule: a role
    that sees requests, in a department they may see), with their page; one query."""
    pks = [int(key) for key in keys if key.isdigit()]
    if not pks or not has_role(user, *DIRECTORY_ROLES):
        return {}
    url = url_maker("renewals:request-detail")
    visible = RenewalRequest.objects.filter(
        pk__in=pks, department__in=visible_departments(user)
    ).values_list("pk", flat=True)
    return {str(pk): Source(request_name(str(pk)), url(pk)) for pk in visible}
