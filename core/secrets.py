"""Secrets at rest: a model field that stores its value encrypted (Fernet: AES-128-CBC with an
HMAC-SHA256, from the well-kept ``cryptography`` package) under keys from the environment.

``SECRETS_ENCRYPTION_KEYS`` (settings) is a list of Fernet keys: the first encrypts, all decrypt,
so a key is rotated by putting the new one first and re-saving (``manage.py rotate_secrets`` is not
needed: every save re-encrypts with the first key). In development (DEBUG) a key derived from
SECRET_KEY is used when none is set; with DEBUG off and no key, storing or reading a secret raises
ImproperlyConfigured with a message saying what to set.

A value that no key can decrypt (a lost or removed key) reads as ``UNREADABLE``: an empty string
that says so (``is_unreadable``), so a page can ask for the secret again instead of failing. The
plain value never reaches the audit trail (declare the field ``Secret.HIDDEN`` in ``audited``)
nor a log line.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.translation import gettext_lazy as _

PREFIX = "fernet:"


class _Unreadable(str):
    """An empty secret that could not be decrypted with any configured key."""

    __slots__ = ()


UNREADABLE = _Unreadable("")


def is_unreadable(value: object) -> bool:
    return isinstance(value, _Unreadable)


def development_key(secret_key: str) -> str:
    """The development-only key derived from SECRET_KEY (DEBUG with no key set)."""
    digest = hashlib.sha256(f"renewaldesk-secrets:{secret_key}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "SECRETS_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64 "
            'bytes; make one with `python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"`).'
        ) from exc


def fernet() -> MultiFernet:
    keys = tuple(k for k in getattr(settings, "SECRETS_ENCRYPTION_KEYS", []) if k)
    if not keys:
        if not settings.DEBUG:
            raise ImproperlyConfigured(
                "SECRETS_ENCRYPTION_KEYS is not set: Renewal Desk stores the credentials of "
                "directory sources and connectors encrypted with it. Set it to a Fernet key "
                '(`python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"`) and keep it apart from the database '
                "backups."
            )
        keys = (development_key(settings.SECRET_KEY),)
    return _fernet(keys)


def encrypt(value: str) -> str:
    if not value:
        return ""
    return PREFIX + fernet().encrypt(value.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        return UNREADABLE
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        return UNREADABLE


class EncryptedTextField(models.TextField):
    """A text column holding ``fernet:<token>``; Python code sees the plain value. Not
    searchable or orderable by its plain value (by design)."""

    description = "Text encrypted at rest (Fernet)"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)  # never in a ModelForm by accident: write-only fields
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return None
        if is_unreadable(value):
            raise ValueError("An unreadable secret cannot be stored again; ask for it anew.")
        return encrypt(str(value))


class WithSecrets(models.Model):
    """Holds a JSON object of secret values (bind password, app secret, encrypt key, API
    token), encrypted at rest, never shown back, never in the audit trail."""

    credentials = EncryptedTextField(_("credentials"))

    class Meta:
        abstract = True

    @property
    def secrets(self) -> dict[str, str]:
        """The decrypted credentials ({} when none or unreadable)."""
        raw = self.credentials
        if not raw or is_unreadable(raw):
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}

    @property
    def secrets_unreadable(self) -> bool:
        return is_unreadable(self.credentials)

    def set_secrets(self, values: dict[str, Any]) -> None:
        """Replace the named secrets; an empty value keeps what is stored (write-only forms)."""
        merged = self.secrets
        merged.update({k: str(v) for k, v in values.items() if v})
        self.credentials = json.dumps(merged, sort_keys=True) if merged else ""
