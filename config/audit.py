"""The audit trail: which models are tracked and how.

Every insert, update and delete of a tracked model is written by a PostgreSQL trigger
(django-pghistory) into that model's event table, so bulk ``queryset.update()``, imports and raw
SQL are recorded as well as saves. Within a web request the trigger also records who acted and
on which URL (config.middleware.AuditMiddleware); in a worker, which task. Event tables refuse
UPDATE and DELETE (``PGHISTORY_APPEND_ONLY``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pghistory
from django.db.models import GeneratedField

M = TypeVar("M")

# Fields never copied into an event: secrets, derived search data, large extracted text.
NEVER_COPIED = {"password", "secret", "token", "search_vector", "text"}


def audited(*, exclude: list[str] | None = None, **kwargs: Any) -> Callable[[M], M]:
    """Track inserts, updates (when a copied field changed) and deletes of a model. Secrets,
    search data, extracted text and columns PostgreSQL computes are never copied."""

    def wrap(model: Any) -> Any:
        skip = set(exclude or [])
        for field in model._meta.local_fields:
            if field.name in NEVER_COPIED or isinstance(field, GeneratedField):
                skip.add(field.name)
        return pghistory.track(
            pghistory.InsertEvent(),
            pghistory.UpdateEvent(),
            pghistory.DeleteEvent(),
            exclude=sorted(skip),
            # "events" (pghistory's default) is taken: a renewal request has its own trail.
            obj_field=pghistory.ObjForeignKey(related_name="audit_events"),
            **kwargs,
        )(model)

    return wrap
