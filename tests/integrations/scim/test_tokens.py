"""SCIM tokens: made and shown once (only their SHA-256 kept), listed, revoked; and the
``scim_token`` command."""

from __future__ import annotations

import datetime as dt
import hashlib
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from integrations.models import DirectorySource, ScimToken
from integrations.scim.tokens import MARK, token_create, token_revoke
from tests.integrations.scim.conftest import Scim

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("scim_token", *args, stdout=out)
    return out.getvalue()


def test_a_token_is_kept_only_as_its_hash(source):
    token, plain = token_create(source=source, name="Entra ID")
    assert plain.startswith(MARK) and len(plain) > 40
    assert token.key_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert token.prefix == plain[len(MARK) : len(MARK) + 8]
    stored = ScimToken.objects.filter(pk=token.pk).values().get()
    assert plain not in str(stored)
    again = token_create(source=source, name="Entra ID")[1]
    assert again != plain


def test_tokens_only_for_scim_sources_and_expiring_in_the_future(source):
    ldap = DirectorySource.objects.create(name="AD", kind="ldap")
    with pytest.raises(ValidationError):
        token_create(source=ldap, name="x")
    with pytest.raises(ValidationError):
        token_create(source=source, name="x", expires_at=timezone.now() - dt.timedelta(days=1))


def test_revoking_keeps_the_first_time(source):
    token = token_create(source=source, name="x")[0]
    first = token_revoke(token=token).revoked_at
    assert first is not None
    assert token_revoke(token=token).revoked_at == first


def test_command_creates_the_scim_source_and_prints_the_token_once(db):
    assert not DirectorySource.objects.exists()
    out = run("create", "--name", "Okta", "--expires-days", "30")
    plain = next(line for line in out.splitlines() if line.startswith(MARK))
    source = DirectorySource.objects.get(name="SCIM")
    assert source.kind == DirectorySource.Kind.SCIM
    token = ScimToken.objects.get(source=source, name="Okta")
    assert token.expires_at is not None
    assert token.expires_at - timezone.now() > dt.timedelta(days=29)
    assert Scim(Client(), plain)("GET", "Users").status_code == 200
    listed = run("list")
    assert token.prefix in listed and "Okta" in listed and plain not in listed
    assert "active" in listed


def test_command_revokes_by_prefix(source, scim):
    token, plain = token_create(source=source, name="Entra ID")
    assert "Revoked" in run("revoke", "--prefix", token.prefix)
    assert scim("GET", "Users", token=plain).status_code == 401
    assert "revoked" in run("list")
    with pytest.raises(CommandError):
        run("revoke", "--prefix", token.prefix)


def test_command_refuses_a_source_that_is_not_scim_or_missing(db):
    DirectorySource.objects.create(name="AD", kind="ldap")
    with pytest.raises(CommandError):
        run("create", "--name", "x", "--source", "AD")
    with pytest.raises(CommandError):
        run("create", "--name", "x", "--source", "Nope")
    with pytest.raises(CommandError):
        run("create", "--name", "x", "--expires-days", "0")
    assert not ScimToken.objects.exists()
