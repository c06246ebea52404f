"""A chat channel's signing secret is encrypted at rest (core/secrets.py), write-only in the
form, and the migration that brought the encryption encrypted the secrets stored before it."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from renewals.notify.models import ChatChannel
from tests.conftest import make_user
from tests.factories import DepartmentFactory
from tests.test_audit_secrets import public_dns  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db
SECRET = "SECa1b2c3d4e5f6-signing"  # noqa: S105 - a test value
MIGRATION = importlib.import_module("renewals.migrations.0022_chat_channel_secret_encrypted")


def stored(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM renewals_chatchannel WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


@pytest.mark.usefixtures("public_dns")  # the form checks that the robot's host is public
def test_the_secret_is_encrypted_at_rest_and_never_shown(client: Client) -> None:
    client.force_login(make_user("it", "it_admin"))
    department = DepartmentFactory.create()
    data = {"department": department.pk, "name": "研发群", "kind": "dingtalk", "is_active": "on",
            "url": "https://oapi.dingtalk.com/robot/send?access_token=abc", "secret": SECRET}  # fmt: skip
    response = client.post(reverse("renewals:channel-add"), data)
    assert response.status_code == 302, response.context["form"].errors
    channel = ChatChannel.objects.get()
    assert channel.secret == SECRET
    raw = stored(channel.pk)
    assert raw.startswith("fernet:") and SECRET not in raw
    edit = client.get(reverse("renewals:channel-edit", args=[channel.pk])).content.decode()
    assert SECRET not in edit


def test_the_migration_encrypts_secrets_stored_in_plain_text() -> None:
    channel = ChatChannel.objects.create(
        department=DepartmentFactory.create(), name="旧群", kind="dingtalk",
        url="https://oapi.dingtalk.com/robot/send?access_token=old",
    )  # fmt: skip
    with connection.cursor() as cursor:  # as the column held it before the migration
        cursor.execute(
            "UPDATE renewals_chatchannel SET secret = %s WHERE id = %s", [SECRET, channel.pk]
        )
    with connection.schema_editor() as editor:
        MIGRATION.encrypt_stored(None, editor)
        MIGRATION.encrypt_stored(None, editor)  # twice: an encrypted value is left alone
    assert stored(channel.pk).startswith("fernet:")
    channel.refresh_from_db()
    assert channel.secret == SECRET
    with connection.schema_editor() as editor:  # and back, for a rollback of the migration
        MIGRATION.decrypt_stored(None, editor)
    assert stored(channel.pk) == SECRET
