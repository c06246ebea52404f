"""The API in the browser: a user makes a token from the user menu, the interactive docs (our own
Swagger UI files, under the Content-Security-Policy) list the endpoints, and the token works."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.conftest import Cast
from tests.e2e.test_navigation import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("language", "create"), [("zh-hans", "创建令牌"), ("en", "Create a token")]
)
def test_a_head_makes_a_token_reads_the_docs_and_calls_the_api(
    page: object, live_server: object, cast: Cast, console_errors: list[str],
    language: str, create: str,
) -> None:  # fmt: skip
    base = live_server.url  # type: ignore[attr-defined]
    sign_in(page, base, cast.head_a.username, language)
    page.get_by_test_id("user-menu").click()  # type: ignore[attr-defined]
    page.get_by_test_id("api-tokens").click()  # type: ignore[attr-defined]
    page.get_by_role("button", name=create).click()  # type: ignore[attr-defined]
    token = page.get_by_test_id("new-token").inner_text().strip()  # type: ignore[attr-defined]
    assert len(token) >= 32

    page.goto(base + "/api/v1/docs/")  # type: ignore[attr-defined]
    page.locator(".opblock").first.wait_for()  # type: ignore[attr-defined]
    assert page.locator(".opblock").count() > 20  # type: ignore[attr-defined]
    assert "/api/v1/usage/bulk/" in page.locator("#swagger-ui").inner_text()  # type: ignore[attr-defined]

    request = urllib.request.Request(
        base + "/api/v1/subscriptions/", headers={"Authorization": f"Token {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the live server
        body = json.load(response)
    assert [s["ref"] for s in body["results"]] == ["A-1"]
    assert console_errors == []
