"""No dead ends (#15): every link a role is shown opens for that role.

The demo company is loaded once; then, for each role's demo user, a crawler starts at the home page
and follows every same-origin GET link (``<a href>``) and redirect breadth-first with Django's test
client. Each answer must be 2xx/3xx. Links are visited once per URL pattern (with the ids of the
first link to it) and set of query parameters, at most ``LIMIT`` pages per role; in Chinese to any
depth, in English the home page and what it links to (the templates show the same links in both
languages: the English pass checks that, cheaply). Downloads (CSV/XLSX/PDF/iCal, contract files) are fetched and
checked, not parsed. The Django admin's own pages are checked where linked, not crawled (Django
guards them by model permissions).
"""

from __future__ import annotations

import io
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve

from org.models import User
from org.roles import Role

pytestmark = pytest.mark.django_db

LIMIT = 150  # pages per role and language
PER_PATTERN = 1  # objects per URL pattern
NOT_CRAWLED_PREFIXES = ("/admin/", "/api/", "/static/", "/media/")
SKIPPED_PATHS = ("/accounts/logout/",)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def links_of(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


@dataclass
class Crawl:
    visited: int = 0
    dead: list[str] = field(default_factory=list)
    patterns: set[str] = field(default_factory=set)


def _key(path: str, query: str) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    try:
        match = resolve(path)
    except Resolver404:
        return (path, (), ())  # a link nothing answers: visit it (and report it)
    names = tuple(sorted({k for k, _ in parse_qsl(query, keep_blank_values=True)}))
    ids = tuple(str(v) for v in match.kwargs.values())
    return (match.route, ids, names)


def crawl(client: Client, start: str = "/", depth: int = 99) -> Crawl:
    result = Crawl()
    queue: deque[tuple[str, str, int]] = deque([(start, "(start)", 0)])
    seen_keys: set[tuple[str, tuple[str, ...], tuple[str, ...]]] = set()
    per_pattern: dict[str, set[tuple[str, ...]]] = {}
    per_query: set[tuple[str, tuple[str, ...], tuple[str, ...]]] = set()
    while queue and result.visited < LIMIT:
        url, source, level = queue.popleft()
        parts = urlsplit(url)
        key = _key(parts.path, parts.query)
        if key is None or key in seen_keys:
            continue
        route, ids, names = key
        objects = per_pattern.setdefault(route, set())
        if ids not in objects and len(objects) >= PER_PATTERN:
            continue
        if names and (route, (), names) in per_query:
            continue  # this pattern with these query parameters was seen for another object
        seen_keys.add(key)
        objects.add(ids)
        if names:
            per_query.add((route, (), names))
        result.visited += 1
        result.patterns.add(route)
        response = client.get(url)
        status = response.status_code
        content_type = response.get("Content-Type", "")
        if response.streaming:
            # Read to the end: the client's wrapper then closes the response (closing it here
            # would fire request_finished and close the test's database connection).
            b"".join(response.streaming_content)  # type: ignore[attr-defined]
        if not 200 <= status < 400:
            result.dead.append(f"{url} -> {status} (linked from {source})")
            continue
        if 300 <= status < 400:
            queue.append((urljoin(url, response["Location"]), f"redirect of {url}", level))
            continue
        if level >= depth or "text/html" not in content_type:
            continue
        if parts.path.startswith(NOT_CRAWLED_PREFIXES):
            continue
        for href in links_of(response.content.decode()):
            target = urlsplit(
                urljoin(parts.path + ("?" + parts.query if parts.query else ""), href)
            )
            if target.scheme not in ("", "http") or target.netloc not in ("", "testserver"):
                continue  # another site (vendor websites, mailto:)
            if target.path in SKIPPED_PATHS:
                continue
            queue.append(
                (target.path + ("?" + target.query if target.query else ""), url, level + 1)
            )
    return result


def demo_user_per_role() -> dict[str, User]:
    """The demo's user for each role (one holding it, preferring one who holds only it), and
    a user with no role."""
    users = list(User.objects.filter(is_active=True).prefetch_related("groups").order_by("pk"))
    roles = {u.pk: {g.name for g in u.groups.all()} for u in users}
    chosen: dict[str, User] = {}
    for role in Role.values:
        holders = [u for u in users if role in roles[u.pk]]
        assert holders, f"the demo has no {role}"
        chosen[role] = min(holders, key=lambda u: len(roles[u.pk]))
    chosen["employee"] = next(u for u in users if not roles[u.pk] and not u.is_superuser)
    return chosen


def test_every_link_shown_to_each_role_opens_for_it() -> None:
    from renewals.requests.services.tiers import tiers_ensure_defaults

    tiers_ensure_defaults()  # a transactional test's flush removes what migrations installed
    call_command("seed_demo", stdout=io.StringIO())
    dead: list[str] = []
    for role, user in demo_user_per_role().items():
        for language in ("zh-hans", "en"):
            client = Client(raise_request_exception=False)  # a 500 is reported like a 403
            client.force_login(user)
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
            result = crawl(client, depth=99 if language == "zh-hans" else 1)
            dead += [f"{role}/{language} ({user.username}): {line}" for line in result.dead]
            # The crawl did reach beyond the home page (a menu, lists, detail pages).
            if language == "zh-hans":
                assert result.visited >= (3 if role == "employee" else 25), (role, result.visited)
    assert not dead, "\n".join(dead)


def test_the_crawler_reports_a_link_the_user_may_not_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """Self-test: a link to a page the role may not open, wherever it is shown, is reported with
    the page that showed it."""
    from tests.conftest import make_user

    user = make_user("swadmin_only", Role.SOFTWARE_ADMIN)
    client = Client()
    client.force_login(user)
    real_links_of = links_of
    monkeypatch.setattr(
        "tests.test_dead_links.links_of",
        lambda html: [*real_links_of(html), "/approvals/"],
    )
    result = crawl(client, start="/subscriptions/")
    assert "/approvals/ -> 403 (linked from /subscriptions/)" in result.dead
