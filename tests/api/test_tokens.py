"""The REST API (/api/v1/): tokens made and revoked on the page; expired, unknown, malformed
and deactivated users' tokens refused."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from tests.api.helpers import api, token_for
from tests.conftest import Cast


def test_a_token_made_on_the_page_works_until_revoked(cast: Cast) -> None:
    page = Client()
    page.force_login(cast.head_a)
    response = page.post(reverse("org:api-tokens"), {"action": "create"})
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret and secret.encode() in response.content
    stored = AuthToken.objects.get(user=cast.head_a)
    assert secret not in (stored.digest, stored.token_key)  # kept as a hash only
    # Shown once: the list afterwards has only the first characters.
    assert secret.encode() not in page.get(reverse("org:api-tokens")).content

    client = api(token=secret)
    listing = client.get(reverse("api:subscription-list"))
    assert listing.status_code == 200
    assert [s["ref"] for s in listing.json()["results"]] == ["A-1"]

    page.post(reverse("org:api-tokens"), {"action": "revoke", "key": stored.token_key})
    assert not AuthToken.objects.filter(user=cast.head_a).exists()
    assert client.get(reverse("api:subscription-list")).status_code == 401


def test_someone_elses_token_cannot_be_revoked_from_the_page(cast: Cast) -> None:
    token_for(cast.head_b)
    key = AuthToken.objects.get(user=cast.head_b).token_key
    page = Client()
    page.force_login(cast.head_a)
    page.post(reverse("org:api-tokens"), {"action": "revoke", "key": key})
    assert AuthToken.objects.filter(user=cast.head_b).exists()


def test_expired_unknown_and_malformed_tokens_are_401(cast: Cast) -> None:
    secret = token_for(cast.it_admin)
    url = reverse("api:subscription-list")
    with time_machine.travel(timezone.now() + timedelta(days=400)):
        assert api(token=secret).get(url).status_code == 401
    # A WSGI server hands headers over as latin-1 text: UTF-8 bytes arrive as mojibake.
    mojibake = ("测试" * 40).encode().decode("latin-1")
    for bad in ("x" * 64, "", "' OR 1=1 --", "Token", "\x00" * 10, mojibake, "a" * 5000):
        assert api(token=bad).get(url).status_code == 401, bad
    assert Client(headers={"Authorization": "Basic YWRtaW46YWRtaW4="}).get(url).status_code == 401


def test_a_deactivated_users_token_stops_working(cast: Cast) -> None:
    secret = token_for(cast.finance)
    cast.finance.is_active = False
    cast.finance.save()
    assert api(token=secret).get(reverse("api:budget-list")).status_code == 401
