"""The audit trail: which models are tracked and how.

Every insert, update and delete of a tracked model is written by a PostgreSQL trigger
(django-pghistory) into that model's event table, so bulk ``queryset.update()``, imports and raw
SQL are recorded as well as saves. Within a web request the trigger also records who acted and
on which URL (config.middleware.AuditMiddleware); in a worker, which task. Event tables refuse
UPDATE and DELETE (``PGHISTORY_APPEND_ONLY``).

Secrets never reach an event table. Each tracked model declares its secret-bearing fields
(``audited(secrets={...})``): a password hash is not copied at all (``Secret.OMIT``); a signing
secret is copied as a fixed mask, so the trail says it was set or cleared but never what it is
(``Secret.HIDDEN``); a webhook URL is copied with its credentials masked: every query value, the
user info, the fragment and every token-like path segment (``Secret.URL``: DingTalk's
``access_token=``, WeCom's ``key=``, Feishu's and Slack's hook paths). The masking is done by a
BEFORE INSERT trigger on the event table itself (the SQL functions ``audit_mask_secret`` and
``audit_mask_url``, org migration 0004), so no way of writing (a save, ``update()``, raw SQL,
an import) can put a secret into the trail. Fields whose names look secret (``looks_secret``)
must be declared, as a secret or as ``not_secret``; ``manage.py check`` fails on an undeclared
one that would be copied, and tests/test_audit_secrets.py on any undeclared one."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Any, TypeVar

import pghistory
import pgtrigger
from django.apps import apps
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Field, GeneratedField, URLField

M = TypeVar("M")

# What replaces a secret in an event (and in a logged or recorded URL).
MASK = "••••••"

# Fields never copied into an event unless declared otherwise: secrets (a safety net; such
# fields must still be declared), derived search data, large extracted text.
NEVER_COPIED = {"password", "secret", "token", "search_vector", "text"}


class Secret(StrEnum):
    """How a secret-bearing field is copied into its model's event table."""

    OMIT = "omit"  # not copied at all (password hashes)
    HIDDEN = "hidden"  # copied as MASK when set ("" stays ""): set/cleared is visible
    URL = "url"  # copied with query values, user info, fragment and token-like segments masked


# Words in a field's name that make it look secret-bearing, and words that make it look like a
# URL (which may carry a token in its query string or path).
SECRET_WORDS = frozenset(
    "secret secrets token tokens password passwd pwd passphrase key keys apikey credential "
    "credentials webhook hook sign signature salt otp totp cookie session private dsn auth "
    "authorization bearer cert certificate pin".split()
)
SECRET_PARTS = ("secret", "token", "password", "passwd", "webhook", "apikey", "credential")
URL_WORDS = frozenset("url urls uri link links website endpoint callback href".split())


def looks_secret_name(name: str) -> bool:
    """A name (of a field or a URL parameter) that suggests a secret or a URL."""
    lowered = name.lower()
    words = set(re.split(r"[^a-z0-9]+", re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()))
    return bool(words & (SECRET_WORDS | URL_WORDS)) or any(p in lowered for p in SECRET_PARTS)


def looks_secret(field: Field[Any, Any]) -> bool:
    """The heuristic half of the registry: a field that looks as if it may hold a secret (by its
    name, as a URL, or as an encrypted field) and so must be declared."""
    kind = type(field).__name__.lower()
    return (
        looks_secret_name(field.name)
        or isinstance(field, URLField)
        or any(word in kind for word in ("encrypt", "secret", "password"))
    )


def token_like(segment: str) -> bool:
    """A URL path segment or parameter that looks like a credential rather than a word or an id
    (the same rule as the SQL function audit_token_like)."""
    return (
        len(segment) >= 16
        or (
            len(segment) >= 5
            and bool(re.search("[0-9]", segment))
            and bool(re.search("[A-Za-z]", segment))
        )  # fmt: skip
        or (
            len(segment) >= 8
            and bool(re.search("[A-Z]", segment))
            and bool(re.search("[a-z]", segment))
        )  # fmt: skip
    )


_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*:)?(//[^/?#]*)?([^?#]*)(\?[^#]*)?(#.*)?", re.S)


def mask_secret(value: Any) -> Any:
    """A hidden secret as the trail shows it (the SQL function audit_mask_secret)."""
    return MASK if value not in (None, "") else value


def _mask_param(param: str) -> str:
    if "=" in param:
        key, value = param.split("=", 1)
        return f"{MASK if token_like(key) else key}={MASK if value else ''}"
    return MASK if token_like(param) else param


def mask_url(value: Any) -> Any:
    """A URL with its credentials masked: every query value, the user info, the fragment and
    token-like path segments (the SQL function audit_mask_url does the same in the database)."""
    if not isinstance(value, str) or not value:
        return value
    match = _URL.fullmatch(value)
    if match is None:  # pragma: no cover - the pattern matches every string
        return MASK
    scheme, authority, path, query, fragment = match.groups()
    authority = authority or ""
    if "@" in authority:
        authority = f"//{MASK}@" + authority.rsplit("@", 1)[1]
    path = "/".join(MASK if token_like(s) else s for s in path.split("/")) if path else ""
    masked = (scheme or "") + authority + path
    if query is not None:
        params = query[1:].split("&") if query[1:] else []
        masked += "?" + "&".join(_mask_param(p) for p in params)
    if fragment is not None:
        masked += "#" + (MASK if fragment[1:] else "")
    return masked


MASKERS: dict[Secret, Callable[[Any], Any]] = {Secret.HIDDEN: mask_secret, Secret.URL: mask_url}
SQL_MASKERS = {Secret.HIDDEN: "audit_mask_secret", Secret.URL: "audit_mask_url"}


def _mask_trigger(model: Any, masked: Mapping[str, Secret]) -> pgtrigger.Trigger:
    """BEFORE INSERT on the event table: masks the declared columns of every new event, however
    the tracked row was written."""
    sets = []
    for name, how in sorted(masked.items()):
        field = model._meta.get_field(name)
        expr = f'{SQL_MASKERS[how]}(NEW."{field.column}")'
        if getattr(field, "max_length", None):  # a mask may be longer than what it hides
            expr = f"left({expr}, {field.max_length})"
        sets.append(f'NEW."{field.column}" := {expr};')
    return pgtrigger.Trigger(
        name="mask_secrets",
        operation=pgtrigger.Insert,
        when=pgtrigger.Before,
        func=" ".join(sets) + " RETURN NEW;",
    )


def audited(
    *,
    exclude: list[str] | None = None,
    secrets: Mapping[str, Secret] | None = None,
    not_secret: Iterable[str] = (),
    **kwargs: Any,
) -> Callable[[M], M]:
    """Track inserts, updates (when a copied field changed) and deletes of a model. Declared
    secrets are masked or left out (see the module's docstring); ``not_secret`` names fields
    that look secret but were checked and are not. Search data, extracted text and columns
    PostgreSQL computes are never copied."""

    def wrap(model: Any) -> Any:
        declared = {name: Secret(how) for name, how in (secrets or {}).items()}
        names = {field.name for field in model._meta.local_fields}
        unknown = (set(declared) | set(not_secret)) - names
        if unknown:
            raise ImproperlyConfigured(f"{model.__name__}: no fields {sorted(unknown)} to declare")
        skip = set(exclude or [])
        for field in model._meta.local_fields:
            if declared.get(field.name) == Secret.OMIT:
                skip.add(field.name)
            elif field.name not in declared and (
                field.name in NEVER_COPIED or isinstance(field, GeneratedField)
            ):
                skip.add(field.name)
        masked = {n: how for n, how in declared.items() if how != Secret.OMIT and n not in skip}
        meta = dict(kwargs.pop("meta", None) or {})
        if masked:
            meta["triggers"] = [*meta.get("triggers", []), _mask_trigger(model, masked)]
        model.audit_secrets = declared
        model.audit_not_secret = frozenset(not_secret)
        return pghistory.track(
            pghistory.InsertEvent(),
            pghistory.UpdateEvent(),
            pghistory.DeleteEvent(),
            exclude=sorted(skip),
            # "events" (pghistory's default) is taken: a renewal request has its own trail.
            obj_field=pghistory.ObjForeignKey(related_name="audit_events"),
            meta=meta,
            **kwargs,
        )(model)

    return wrap


def event_models() -> list[Any]:
    """Every event model (one per tracked model)."""
    return [
        m
        for m in apps.get_models()
        if getattr(m, "pgh_tracked_model", None) is not None and getattr(m, "pgh_trackers", None)
    ]


def undeclared_secrets(*, copied_only: bool) -> list[tuple[Any, str]]:
    """(tracked model, field name) of fields that look secret but are declared neither as a
    secret nor as not secret; with ``copied_only``, only those the event table copies."""
    found = []
    for event_model in event_models():
        tracked = event_model.pgh_tracked_model
        declared = set(getattr(tracked, "audit_secrets", {})) | getattr(
            tracked, "audit_not_secret", frozenset()
        )
        copied = {f.name for f in event_model._meta.fields}
        for field in tracked._meta.concrete_fields:
            if field.name in declared or not looks_secret(field):
                continue
            if not copied_only or field.name in copied:
                found.append((tracked, field.name))
    return found


@checks.register(checks.Tags.models)
def check_audit_secrets(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A field that looks secret and is copied into an event table unmasked stops the app."""
    return [
        checks.Error(
            f"{model._meta.label}.{name} looks secret-bearing and is copied into the audit trail",
            hint="Declare it in @audited(secrets={...: Secret.…}) or not_secret=[...] "
            "(core/audit.py).",
            obj=model,
            id="audit.E001",
        )
        for model, name in undeclared_secrets(copied_only=True)
    ]
