"""Sign-in, sign-out, password change and the language preference."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import Cast
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_with_the_right_password_goes_to_the_dashboard(cast: Cast) -> None:
    client = Client()
    response = client.post(reverse("login"), {"username": "finance", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_login_with_a_wrong_password_says_so_in_chinese_and_english(cast: Cast) -> None:
    response = Client().post(reverse("login"), {"username": "finance", "password": "nope"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()
    response = Client(headers={"accept-language": "en"}).post(
        reverse("login"), {"username": "finance", "password": "nope"}
    )
    assert "Please enter a correct username and password" in response.content.decode()


def test_login_refuses_an_external_next_url(cast: Cast) -> None:
    response = Client().post(
        reverse("login") + "?next=https://evil.example/",
        {"username": "finance", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("home")


def test_logout_is_post_only(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.finance)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_password_change(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.finance)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "年度续费 2027 ok!",
            "new_password2": "年度续费 2027 ok!",
        },
    )
    assert response.status_code == 302
    cast.finance.refresh_from_db()
    assert cast.finance.check_password("年度续费 2027 ok!")


def test_password_change_with_a_wrong_old_password_changes_nothing(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.finance)
    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "x" * 20, "new_password2": "x" * 20},
    )
    assert response.status_code == 200 and response.context["form"].errors
    cast.finance.refresh_from_db()
    assert cast.finance.check_password(PASSWORD)


def test_switching_language_is_remembered_for_the_next_sign_in(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.finance)
    client.post(reverse("set-language"), {"language": "en", "next": "/"})
    cast.finance.refresh_from_db()
    assert cast.finance.language == "en"
    assert "Dashboard" in client.get(reverse("home")).content.decode()

    fresh = Client()
    response = fresh.post(reverse("login"), {"username": "finance", "password": PASSWORD})
    assert response.cookies["django_language"].value == "en"
    assert "Dashboard" in fresh.get(reverse("home")).content.decode()


def test_an_unknown_language_is_ignored(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.finance)
    client.post(reverse("set-language"), {"language": "xx-evil", "next": "/"})
    cast.finance.refresh_from_db()
    assert cast.finance.language == ""


def test_the_default_language_is_simplified_chinese(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.finance)
    html = client.get(reverse("home")).content.decode()
    assert 'lang="zh-hans"' in html and "仪表盘" in html
