"""Secrets never reach the audit trail (#16.4): every field of an audited model that looks
secret-bearing is declared; a known secret written through the normal path (the page, the
admin, queryset.update(), raw SQL, a delete) is nowhere in any event table nor on the audit
pages, in any webhook form (DingTalk access_token=, WeCom key=, Feishu and Slack hook paths,
user info); events written before the fix are masked by the migration; no log line of a save
or a send carries a secret."""

from __future__ import annotations

import importlib
import io
import logging
import os
import socket
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pgtrigger
import pytest
from django.apps import apps as django_apps
from django.db import connection, models
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from config.middleware import AuditMiddleware
from core.audit import (
    MASK,
    Secret,
    check_audit_secrets,
    event_models,
    looks_secret,
    mask_url,
    undeclared_secrets,
)
from org.models import User
from renewals.alerts.models import AlertDelivery
from renewals.inventory.models import Vendor
from renewals.notify.models import ChatChannel
from tests.conftest import Cast
from tests.factories import SubscriptionFactory
from tests.renewals.notify.test_webhooks import Receiver, receiver  # noqa: F401 - a fixture

# One known secret per webhook form; each must never be found in the trail.
DINGTALK = "DTaccess0token0SECRET1a2b3c"
WECOM = "693a91f6-wecom-4bc4-SECRET-0ec2sifa5aaa"
FEISHU = "d3b07384-d9a0-4c1e-SECRET-7c6a2f1e8a11"
SLACK_TEAM, SLACK_BOT, SLACK_TOKEN = "T0SECRET1", "B0SECRET2", "xoxSECRETslackPath1234"
GENERIC = "gen3ricSECRETpath9"
USERINFO = "userSECRETpass42"
SIGNING = "SECsigningSECRET0123456789"
SIGNING_2 = "SECrotatedSECRET9876543210"
PUBLIC_IP = "93.184.216.34"  # the platforms' hosts resolve here (no DNS in tests)

PLATFORM_URLS = {
    "dingtalk": f"https://oapi.dingtalk.com/robot/send?access_token={DINGTALK}",
    "wecom": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM}",
    "feishu": f"https://open.feishu.cn/open-apis/bot/v2/hook/{FEISHU}",
    "slack": f"https://hooks.slack.com/services/{SLACK_TEAM}/{SLACK_BOT}/{SLACK_TOKEN}",
    "generic": f"https://hooks.example.com/in/{GENERIC}?sign={GENERIC}x#{GENERIC}y",
}


@pytest.fixture
def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith((".com", ".cn")):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_IP, port or 443))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def event_tables() -> list[str]:
    return sorted({m._meta.db_table for m in event_models()} | {"pghistory_context"})


def tables_holding(secret: str) -> list[str]:
    """Every event table (and the context table) whose rows, as text, contain ``secret``."""
    found = []
    with connection.cursor() as cursor:
        for table in event_tables():
            cursor.execute(
                f'SELECT count(*) FROM "{table}" AS r WHERE r::text LIKE %s',  # noqa: S608
                [f"%{secret}%"],
            )
            if cursor.fetchone()[0]:
                found.append(table)
    return found


# --- the registry ------------------------------------------------------------------------------


def _field(name: str, cls: type[models.Field[Any, Any]] = models.CharField) -> Any:
    field = cls(max_length=100) if cls is not models.TextField else cls()
    field.set_attributes_from_name(name)
    return field


class EncryptedTextField(models.TextField):  # as django-fernet-fields and others name theirs
    pass


@pytest.mark.parametrize(
    "field",
    [
        _field("secret"), _field("api_key"), _field("accessToken"), _field("webhook_url"),
        _field("client_secret"), _field("signing_key"), _field("passwd"), _field("callback"),
        _field("homepage", models.URLField), _field("notes", EncryptedTextField),
    ],
    ids=lambda f: f.name,
)  # fmt: skip
def test_the_heuristic_flags_secret_looking_fields(field: Any) -> None:
    assert looks_secret(field)


@pytest.mark.parametrize("name", ["name", "notes", "signed_on", "seats", "keep_reason", "sha256"])
def test_the_heuristic_leaves_ordinary_fields_alone(name: str) -> None:
    assert not looks_secret(_field(name))


def test_every_secret_looking_field_of_an_audited_model_is_declared() -> None:
    assert len(event_models()) >= 20  # the walk sees the event tables
    assert undeclared_secrets(copied_only=False) == []
    assert check_audit_secrets() == []


def test_a_new_secret_field_fails_until_it_is_declared(monkeypatch: pytest.MonkeyPatch) -> None:
    from renewals.risks.models import Risk

    # As if Risk.key had just been added without a declaration.
    monkeypatch.setattr(Risk, "audit_not_secret", frozenset())
    assert (Risk, "key") in undeclared_secrets(copied_only=False)
    (error,) = check_audit_secrets()
    assert error.id == "audit.E001" and "renewals.Risk.key" in error.msg


@pytest.mark.django_db
def test_declared_secrets_are_left_out_or_masked_by_the_event_tables_trigger() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, p.prosrc FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_proc p ON p.oid = t.tgfoid WHERE t.tgname LIKE 'pgtrigger_mask_secrets_%%'"
        )
        installed = dict(cursor.fetchall())
    declared = 0
    for event_model in event_models():
        tracked = event_model.pgh_tracked_model
        copied = {f.name for f in event_model._meta.fields}
        for name, how in getattr(tracked, "audit_secrets", {}).items():
            declared += 1
            column = tracked._meta.get_field(name).column
            if how == Secret.OMIT:
                assert name not in copied, f"{tracked._meta.label}.{name}"
            else:
                source = installed.get(event_model._meta.db_table, "")
                masked = (f'NEW."{column}" := left(audit_mask_', f'NEW."{column}" := audit_mask_')
                assert any(m in source for m in masked), event_model._meta.label
    assert declared >= 4


# --- writing secrets through the normal paths -------------------------------------------------


def _write_chat_channels(cast: Cast) -> list[str]:
    """IT admin's pages: each platform's robot added with a signing secret, one edited to another
    URL and secret, one deleted; then queryset.update() and raw SQL (user info in the URL)."""
    client = Client()
    client.force_login(cast.it_admin)
    for kind, url in PLATFORM_URLS.items():
        data = {"department": cast.dept_a.pk, "name": f"{kind}群", "kind": kind, "url": url,
                "secret": SIGNING, "is_active": "on"}  # fmt: skip
        response = client.post(reverse("renewals:channel-add"), data)
        assert response.status_code == 302, response.content.decode()[:2000]
    channel = ChatChannel.objects.get(name="dingtalk群")
    edit = {"department": cast.dept_a.pk, "name": "钉钉群", "kind": "dingtalk", "is_active": "on",
            "url": PLATFORM_URLS["dingtalk"] + "&x=1", "secret": SIGNING_2}  # fmt: skip
    assert client.post(reverse("renewals:channel-edit", args=[channel.pk]), edit).status_code == 302
    ChatChannel.objects.filter(name="wecom群").update(
        url=f"https://{USERINFO}:{USERINFO}@qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM}"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE renewals_chatchannel SET url = %s, secret = %s WHERE name = 'slack群'",
            [PLATFORM_URLS["slack"] + "/again", SIGNING_2],
        )
    feishu = ChatChannel.objects.get(name="feishu群")
    assert client.post(reverse("renewals:channel-delete", args=[feishu.pk])).status_code == 302
    assert ChatChannel.objects.get(pk=channel.pk).secret == SIGNING_2  # the writes did happen
    return [DINGTALK, WECOM, FEISHU, SLACK_TEAM, SLACK_BOT, SLACK_TOKEN, GENERIC, USERINFO,
            SIGNING, SIGNING_2]  # fmt: skip


def _write_vendors(cast: Cast) -> list[str]:
    """The admin's vendor form (IT admins), then raw SQL as the import engine writes."""
    client = Client()
    client.force_login(cast.it_admin)
    website = f"https://portal.vendor.com/partner/{GENERIC}?login_token={DINGTALK}"
    data = {"name": "某厂商", "website": website, "contacts": "", "notes": ""}
    assert client.post(reverse("admin:renewals_vendor_add"), data).status_code == 302
    vendor = Vendor.objects.get(name="某厂商")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE renewals_vendor SET website = %s WHERE id = %s",
            [f"https://{USERINFO}@vendor.com/?k={WECOM}", vendor.pk],
        )
    return [GENERIC, DINGTALK, USERINFO, WECOM]


def _write_passwords(cast: Cast) -> list[str]:
    """A user added in the admin with a password, which they then change on the account page."""
    admin = Client()
    admin.force_login(cast.it_admin)
    first = "initial-PW-SECRET-0001"
    response = admin.post(
        reverse("admin:org_user_add"),
        {"username": "newcomer", "password1": first, "password2": first, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="newcomer")
    hashes = [user.password]
    client = Client()
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": first, "new_password1": SIGNING, "new_password2": SIGNING},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(SIGNING)
    hashes.append(user.password)
    return [first, SIGNING, *hashes, *(h.split("$")[-1] for h in hashes)]


def _write_directory_sources(cast: Cast) -> list[str]:
    """IT admin's page: an LDAP source with a bind password, then edited with another; the
    stored (encrypted) value is a secret too."""
    from integrations.models import DirectorySource

    client = Client()
    client.force_login(cast.it_admin)
    data = {"kind": "ldap", "name": "AD", "enabled": "on", "sync_every_minutes": "60",
            "cfg_url": "ldaps://dc1.example.cn", "cfg_flavour": "ad", "cfg_bind_dn": "cn=svc",
            "cfg_base_dn": "dc=example,dc=cn", "cfg_bind_password": SIGNING}  # fmt: skip
    assert client.post(reverse("integrations:source-add"), data).status_code == 302
    source = DirectorySource.objects.get(name="AD")
    edit = {**data, "cfg_bind_password": SIGNING_2}
    response = client.post(reverse("integrations:source-edit", args=[source.pk]), edit)
    assert response.status_code == 302
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials FROM integrations_directorysource WHERE id = %s", [source.pk]
        )
        stored = cursor.fetchone()[0]
    return [SIGNING, SIGNING_2, stored, stored.removeprefix("fernet:")[:40]]


def _write_connectors(cast: Cast) -> list[str]:
    """manage.py connector add with the token in the environment, then a new token saved;
    the stored (encrypted) value is a secret too."""
    from django.core.management import call_command

    from integrations.connectors.services import connector_save
    from integrations.models import Connector

    subscription = SubscriptionFactory.create(ref="SUB-AUDIT")
    with mock.patch.dict(os.environ, {"CONNECTOR_TOKEN": SIGNING}):
        call_command("connector", "add", "scim", "--name", "Jira", "--subscription",
                     "SUB-AUDIT", "--url", "https://jira.example.cn/scim/v2", stdout=io.StringIO())  # fmt: skip
    connector = Connector.objects.get(name="Jira")
    connector_save(
        connector=connector, subscription=subscription, kind="scim", name="Jira",
        base_url=connector.base_url, config={}, secrets={"token": SIGNING_2},
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials FROM integrations_connector WHERE id = %s", [connector.pk]
        )
        stored = cursor.fetchone()[0]
    return [SIGNING, SIGNING_2, stored, stored.removeprefix("fernet:")[:40]]


def _write_chat_apps(cast: Cast) -> list[str]:
    """manage.py chat_app add with the secrets in the environment, then a new app secret saved
    through the page's service; the stored (encrypted) value is a secret too."""
    from django.core.management import call_command

    from integrations.chat.models import ChatApp
    from integrations.chat.services import chat_app_save

    env = {
        "CHAT_APP_APP_SECRET": SIGNING,
        "CHAT_APP_VERIFICATION_TOKEN": "verification-" + SIGNING,
        "CHAT_APP_ENCRYPT_KEY": "encrypt-" + SIGNING,
    }
    with mock.patch.dict(os.environ, env):
        call_command("chat_app", "add", "feishu", "--name", "飞书", "--set", "app_id=cli_audit",
                     stdout=io.StringIO())  # fmt: skip
    app = ChatApp.objects.get(name="飞书")
    chat_app_save(
        app=app, kind="feishu", name="飞书", base_url=app.base_url, config={},
        secrets={"app_secret": SIGNING_2},
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM integrations_chatapp WHERE id = %s", [app.pk])
        stored = cursor.fetchone()[0]
    return [SIGNING, SIGNING_2, *env.values(), stored, stored.removeprefix("fernet:")[:40]]


def _write_scim_tokens(cast: Cast) -> list[str]:
    """IT admin's page: a SCIM token made (shown once), then revoked; the stored hash is a
    secret too."""
    from integrations.models import ScimToken
    from integrations.scim.tokens import scim_source

    client = Client()
    client.force_login(cast.it_admin)
    source = scim_source()
    response = client.post(reverse("integrations:token-create", args=[source.pk]), {"name": "Okta"})
    assert response.status_code == 200
    plain = response.context["plain"]
    token = ScimToken.objects.get(name="Okta")
    client.post(reverse("integrations:token-revoke", args=[source.pk, token.pk]))
    return [plain, token.key_hash]


# Every audited model with a declared secret, and how a person writes it. A model that gains a
# secret field needs an entry here (the test below fails until it has one).
WRITERS: dict[str, Callable[[Cast], list[str]]] = {
    "renewals.ChatChannel": _write_chat_channels,
    "renewals.Vendor": _write_vendors,
    "org.User": _write_passwords,
    "integrations.DirectorySource": _write_directory_sources,
    "integrations.ScimToken": _write_scim_tokens,
    "integrations.Connector": _write_connectors,
    "integrations.ChatApp": _write_chat_apps,
}


def _models_with_secrets() -> list[str]:
    return sorted(
        m.pgh_tracked_model._meta.label
        for m in event_models()
        if getattr(m.pgh_tracked_model, "audit_secrets", None)
    )


def test_every_model_with_secrets_has_a_writer() -> None:
    assert set(_models_with_secrets()) <= set(WRITERS)


@pytest.mark.parametrize("label", sorted(WRITERS))
@pytest.mark.usefixtures("public_dns")
def test_a_written_secret_is_nowhere_in_the_trail_nor_on_the_audit_pages(
    cast: Cast, label: str
) -> None:
    event_model = next(m for m in event_models() if m.pgh_tracked_model._meta.label == label)
    before = event_model.objects.count()
    secrets = WRITERS[label](cast)
    assert event_model.objects.count() > before  # the writes were recorded
    for secret in secrets:
        assert tables_holding(secret) == [], secret
    auditor = Client()
    auditor.force_login(cast.auditor)
    pages = [auditor.get(reverse("audit-list"), {"model": event_model._meta.label})]
    pages += [auditor.get(reverse("audit-list"), {"page": n}) for n in (1, 2, 3)]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        for secret in secrets:
            assert secret not in html, secret
    shown = set(event_model.pgh_tracked_model.audit_secrets.values()) - {Secret.OMIT}
    if shown:  # the auditor sees that a masked secret is there
        assert MASK in pages[0].content.decode()


@pytest.mark.usefixtures("public_dns")
def test_the_auditor_reads_which_robot_changed_but_not_its_token(cast: Cast) -> None:
    _write_chat_channels(cast)
    auditor = Client()
    auditor.force_login(cast.auditor)
    html = auditor.get(
        reverse("audit-list"), {"model": "renewals.ChatChannelEvent"}
    ).content.decode()
    assert f"https://oapi.dingtalk.com/robot/send?access_token={MASK}" in html
    assert f"https://open.feishu.cn/open-apis/bot/v2/hook/{MASK}" in html
    assert f"https://hooks.slack.com/services/{MASK}/{MASK}/{MASK}" in html
    assert f"https://{MASK}@qyapi.weixin.qq.com/cgi-bin/webhook/send?key={MASK}" in html


def test_events_written_before_the_fix_are_masked_by_the_migration(cast: Cast) -> None:
    # An event as the old triggers wrote it: the mask trigger bypassed for this one insert.
    with pgtrigger.ignore(
        "renewals.ChatChannelEvent:mask_secrets", "renewals.VendorEvent:mask_secrets"
    ):
        ChatChannel.objects.create(
            department=cast.dept_a, name="旧群", kind="dingtalk",
            url=PLATFORM_URLS["dingtalk"], secret=SIGNING,
        )  # fmt: skip
        Vendor.objects.create(name="旧厂商", website=PLATFORM_URLS["generic"])
    assert tables_holding(DINGTALK) == ["renewals_chatchannelevent"]  # the scan sees a leak
    assert tables_holding(GENERIC) == ["renewals_vendorevent"]
    migration = importlib.import_module("renewals.migrations.0014_audit_masked_secrets")
    with connection.schema_editor() as editor:
        migration.scrub(django_apps, editor)
    for secret in (DINGTALK, SIGNING, GENERIC):
        assert tables_holding(secret) == [], secret
    with connection.cursor() as cursor:  # as stored (the secret column decrypts when read)
        cursor.execute(
            "SELECT url, secret FROM renewals_chatchannelevent ORDER BY pgh_id DESC LIMIT 1"
        )
        assert cursor.fetchone() == (mask_url(PLATFORM_URLS["dingtalk"]), MASK)


@pytest.mark.parametrize(
    "url",
    [
        *PLATFORM_URLS.values(),
        "https://user:pa@ss@example.com:8443/x/y?a=&b&c=1#frag",
        "https://x.example/h?", "https://x.example/h#", "", "relative/path?x=1", "mailto:a@b.c",
        "https://hooks.zapier.com/hooks/catch/123456/bkz0ab1/", "https://a.b/??=x&&",
        "https://a.b/ABCDEFGHijkl?TOKENabc123==x", "line\nbreak?x=1", "https://t.cn/v2/Ab1",
    ],
)  # fmt: skip
@pytest.mark.django_db
def test_the_database_and_the_pages_mask_urls_alike(url: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT audit_mask_url(%s)", [url])
        in_database = cursor.fetchone()[0]
    assert in_database == mask_url(url)
    assert mask_url(in_database) == in_database  # masking twice changes nothing


def test_a_secret_in_a_request_path_is_masked_in_the_recorded_context() -> None:
    middleware = AuditMiddleware(lambda request: HttpResponse())
    factory = RequestFactory()
    feed = reverse("renewals:calendar-feed", args=[DINGTALK])
    assert middleware.get_context(factory.post(feed))["url"] == feed.replace(DINGTALK, MASK)
    unknown = f"/hooks/feishu/{FEISHU}/"
    assert middleware.get_context(factory.post(unknown))["url"] == f"/hooks/feishu/{MASK}/"
    plain = reverse("renewals:channel-edit", args=[12345678])
    assert middleware.get_context(factory.post(plain))["url"] == plain  # ids stay readable


# --- logs ----------------------------------------------------------------------------------------


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)  # as with LOG_LEVEL=DEBUG
    yield caplog


@pytest.mark.usefixtures("public_dns")
def test_no_log_line_of_a_save_or_a_send_carries_a_secret(
    cast: Cast,
    receiver: str,  # noqa: F811 - the fixture imported above
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    import datetime as dt

    from renewals.alerts import services as alerts
    from renewals.notify.services import messaging

    secrets = _write_chat_channels(cast)
    ChatChannel.objects.update(is_active=False)
    hook = receiver.replace("access_token=t", f"access_token={DINGTALK}")
    closed = hook.replace(receiver.split("/")[2], "127.0.0.1:9")  # nothing listens there
    term_end = dt.date(2027, 3, 31)
    SubscriptionFactory.create(department=cast.dept_b, term_end=term_end)
    for name, url in (("ok", hook), ("closed", closed)):
        ChatChannel.objects.create(
            department=cast.dept_b, name=name, kind="dingtalk", url=url, secret=SIGNING
        )
    Receiver.script = [(500, {}), (404, {}), (200, {})]
    alerts.alerts_sweep(today=term_end - dt.timedelta(days=7))
    alerts.alerts_deliver()
    Receiver.script = [(404, {})]
    messaging.chat_post(cast.dept_b, text="通知", data={})
    assert Receiver.received, "the sends reached the receiver"
    assert debug_logs.records, "something was logged"
    errors = list(AlertDelivery.objects.exclude(last_error="").values_list("last_error", flat=True))
    assert errors, "a send failed and said why"
    for secret in [*secrets, DINGTALK, SIGNING]:
        assert secret not in debug_logs.text, secret
        assert not any(secret in error for error in errors), secret
