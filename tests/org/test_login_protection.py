"""Sign-in protection: lock-out by (username, client address) that a forged X-Forwarded-For does
not get around, Argon2 hashing, password reset links from SITE_URL only, session expiry, the
security headers, and the optional OIDC sign-in."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from config import settings as production_settings
from org.models import User
from tests.conftest import Cast

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def alice(db: None) -> User:
    user = User.objects.create_user(username="alice", email="alice@example.cn", password=PASSWORD)
    return user


def sign_in(client: Client, username: str, password: str, **extra: Any) -> int:
    response = client.post(reverse("login"), {"username": username, "password": password}, **extra)
    return int(response.status_code)


def test_five_failures_lock_the_pair_and_the_right_password_then_fails_too(alice: User) -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(5):
        assert sign_in(client, "alice", "wrong") in (200, 429)
    locked = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "15" in locked.content.decode()  # says for how long, in the reader's language
    # Another address is a different pair: the owner, signing in from their desk, is not locked out.
    elsewhere = Client(REMOTE_ADDR="198.51.100.20")
    assert sign_in(elsewhere, "alice", PASSWORD) == 302
    # After the cool-off the pair may try again.
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert sign_in(client, "alice", PASSWORD) == 302


def test_a_forged_forwarded_for_header_does_not_reset_the_count(alice: User) -> None:
    """Without a trusted proxy, X-Forwarded-For is ignored: rotating it changes nothing."""
    client = Client(REMOTE_ADDR="203.0.113.7")
    for i in range(6):
        sign_in(client, "alice", "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
    assert sign_in(client, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9") == 429


def _behind_proxies(count: int) -> Any:
    return override_settings(TRUSTED_PROXY_COUNT=count)


def test_behind_one_proxy_only_the_address_the_proxy_saw_counts(alice: User) -> None:
    """nginx appends the client's address; what the client wrote before it is noise."""
    with _behind_proxies(1):
        proxy = Client(REMOTE_ADDR="10.0.0.2")  # every request arrives from the proxy
        for i in range(6):
            sign_in(proxy, "alice", "wrong", HTTP_X_FORWARDED_FOR=f"1.2.3.{i}, 10.1.2.3")
        for forged in ("9.9.9.9, 10.1.2.3", "10.1.2.3", "8.8.8.8,10.1.2.3"):
            assert sign_in(proxy, "alice", PASSWORD, HTTP_X_FORWARDED_FOR=forged) == 429, forged
        # A colleague behind the same proxy, at another desk, signs in.
        assert sign_in(proxy, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="10.1.2.3, 10.7.7.7") == 302


def test_behind_two_proxies_the_second_from_the_right_is_the_client(alice: User) -> None:
    with _behind_proxies(2):
        proxy = Client(REMOTE_ADDR="10.0.0.2")
        for i in range(6):
            sign_in(proxy, "alice", "wrong", HTTP_X_FORWARDED_FOR=f"1.1.1.{i}, 10.1.2.3, 10.0.0.9")
        assert sign_in(proxy, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="10.1.2.3, 10.0.0.9") == 429
        # A header shorter than the proxy chain, or not an address: REMOTE_ADDR is counted.
        assert sign_in(proxy, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="10.1.2.3") == 302


def test_new_passwords_are_hashed_with_argon2_and_old_hashes_upgrade() -> None:
    assert production_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    with override_settings(PASSWORD_HASHERS=production_settings.PASSWORD_HASHERS):
        assert make_password("x").startswith("argon2$")


@pytest.mark.django_db
def test_a_pbkdf2_hash_is_upgraded_to_argon2_at_sign_in() -> None:
    with override_settings(PASSWORD_HASHERS=production_settings.PASSWORD_HASHERS):
        user = User.objects.create(
            username="legacy",
            password=make_password(PASSWORD, hasher="pbkdf2_sha256"),
        )
        assert sign_in(Client(), "legacy", PASSWORD) == 302
        user.refresh_from_db()
        assert user.password.startswith("argon2$")


@override_settings(
    SITE_URL="https://renewals.example.cn", ALLOWED_HOSTS=["testserver", "alias.intranet"]
)
def test_reset_links_use_the_site_url_whatever_host_was_asked(alice: User) -> None:
    response = Client().post(
        reverse("password_reset"), {"email": "alice@example.cn"}, HTTP_HOST="alias.intranet"
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    body = str(mail.outbox[0].body)
    links = re.findall(r"https?://\S+", body)
    assert links and all(link.startswith("https://renewals.example.cn/") for link in links)
    assert "alias.intranet" not in body
    # The link works once: choose a new password, then sign in with it.
    path = links[0].removeprefix("https://renewals.example.cn")
    client = Client()
    form = client.get(path, follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-new-long-passphrase-7", "new_password2": "a-new-long-passphrase-7"},
    )
    assert done.status_code == 302
    assert sign_in(Client(), "alice", "a-new-long-passphrase-7") == 302
    again = Client().get(path, follow=True)
    assert not again.context["validlink"]


def test_a_forged_host_header_is_refused_and_sends_nothing(alice: User) -> None:
    response = Client().post(
        reverse("password_reset"), {"email": "alice@example.cn"}, HTTP_HOST="evil.example"
    )
    assert response.status_code == 400
    assert mail.outbox == []


def test_an_unknown_address_gets_the_same_answer_and_no_mail(alice: User) -> None:
    response = Client().post(reverse("password_reset"), {"email": "nobody@example.cn"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


@override_settings(SESSION_COOKIE_AGE=3600)
def test_a_session_ends_after_its_age(alice: User) -> None:
    client = Client()
    assert sign_in(client, "alice", PASSWORD) == 302
    assert client.get(reverse("home")).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(seconds=3601)):
        response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_pages_carry_the_security_headers(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.head_a)
    response = client.get(reverse("home"))
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    with override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_SSL_REDIRECT=False):
        fresh = Client()  # middleware reads its settings when the client's handler starts
        fresh.force_login(cast.head_a)
        secure = fresh.get(reverse("home"), secure=True)
        assert secure["Strict-Transport-Security"].startswith("max-age=31536000")


# --- optional single sign-on (OIDC) ----------------------------------------------------------


def test_the_oidc_backend_matches_by_email_and_creates_users_without_roles(db: None) -> None:
    from org.oidc import OIDCBackend
    from org.roles import roles_of

    with override_settings(
        OIDC_RP_CLIENT_ID="rd",
        OIDC_RP_CLIENT_SECRET="s",
        OIDC_OP_TOKEN_ENDPOINT="https://sso.example.cn/token",
        OIDC_OP_USER_ENDPOINT="https://sso.example.cn/userinfo",
        OIDC_RP_SIGN_ALGO="HS256",
    ):
        backend = OIDCBackend()
        existing = User.objects.create_user(username="zhang", email="Zhang@Example.cn")
        assert list(backend.filter_users_by_claims({"email": "zhang@example.cn"})) == [existing]
        assert not backend.filter_users_by_claims({"email": ""}).exists()
        created = backend.create_user(
            {"email": "li@example.cn", "preferred_username": "li", "name": "李四"}
        )
        assert created.username == "li" and created.display_name == "李四"
        assert roles_of(created) == frozenset()
        assert not created.has_usable_password()


def test_an_sso_user_is_linked_to_their_directory_person_when_unambiguous(db: None) -> None:
    from org.oidc import OIDCBackend
    from tests.factories import PersonFactory

    with override_settings(
        OIDC_RP_CLIENT_ID="rd",
        OIDC_RP_CLIENT_SECRET="s",
        OIDC_OP_TOKEN_ENDPOINT="https://sso.example.cn/token",
        OIDC_OP_USER_ENDPOINT="https://sso.example.cn/userinfo",
        OIDC_RP_SIGN_ALGO="HS256",
    ):
        wang = PersonFactory.create(email="Wang@Example.cn")
        PersonFactory.create(email="twin@example.cn")
        PersonFactory.create(email="twin@example.cn")
        backend = OIDCBackend()
        user = backend.create_user({"email": "wang@example.cn", "preferred_username": "wang"})
        wang.refresh_from_db()
        assert wang.user == user
        twin = backend.create_user({"email": "twin@example.cn", "preferred_username": "twin"})
        assert not hasattr(twin, "person") or twin.person is None  # two candidates: no guess


@pytest.mark.urls("tests.org.oidc_urls")
def test_the_sso_button_sends_the_browser_to_the_identity_provider(db: None) -> None:
    with override_settings(
        OIDC_ENABLED=True,
        OIDC_RP_CLIENT_ID="rd",
        OIDC_RP_CLIENT_SECRET="s",
        OIDC_OP_AUTHORIZATION_ENDPOINT="https://sso.example.cn/authorize",
        OIDC_OP_TOKEN_ENDPOINT="https://sso.example.cn/token",
        OIDC_OP_USER_ENDPOINT="https://sso.example.cn/userinfo",
        OIDC_RP_SIGN_ALGO="HS256",
    ):
        page = Client().get(reverse("login"))
        assert b'data-testid="sso"' in page.content
        response = Client().get(reverse("oidc_authentication_init"))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("https://sso.example.cn/authorize?")
    assert "client_id=rd" in location and "state=" in location and "nonce=" in location
