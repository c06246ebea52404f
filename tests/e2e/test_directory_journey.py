"""Issue #19's "done when", in Chromium, as a new IT admin would try it (the journey in Chinese;
the pages checked in Chinese and in English):

A real slapd (tests/integrations/ldap_server.py) with 30 people in 4 departments → IT adds it
through Manage → Directory sources → "Sync now": the run succeeds with its figures, the people
and departments are there → a seat holder is deleted in LDAP → the next sync marks a leaver and
the software admin of the subscription's department sees the bell within the minute → a SCIM
source, a token made on its page, an Entra-shaped User pushed and deactivated over HTTP: a
leaver too → most people deleted in LDAP: the sync is held for confirmation, nobody has left,
Discard keeps it so, a second held sync is confirmed → the source list, the source page (runs,
held banner), the SCIM source's page and the add form pass axe, fit 390/1280/1920 px, link only
to pages the user may open (an auditor's view too), and leave no English on the Chinese pages
beyond names and technical terms (no Chinese on the English ones).

Tasks run in-process (Q_CLUSTER "sync" in config/settings_test.py): "Sync now" returns once the
sync and the leavers' task have run. Screenshots go to var/screenshots/directory-<language>/
(and directory-en-auditor/) for review."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings
from django.utils import translation

from integrations.models import DirectoryLink, DirectorySource, ScimToken, SyncRun
from integrations.views import COUNT_LABELS
from org.models import Department, Person, User
from renewals.inventory.models import Subscription
from renewals.notify.models import Notification
from tests.conftest import Cast
from tests.e2e.test_layout import AXE, NEXT_FRAMES_JS, OVERFLOW_JS, signed_in_page
from tests.factories import SeatFactory
from tests.integrations.ldap_server import SLAPD, SUFFIX, LdapServer, person_dn, tree_ldif

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAFF = f"ou=Staff,{SUFFIX}"
PEOPLE, DEPARTMENTS = 30, 4
LEAVER, LATER_LEAVER = 5, 13  # hold seats of the software admin's subscription
MASS = range(10, 30)  # deleted at once: held for confirmation
WIDTHS = (390, 1280, 1920)
JOURNEY = {"width": 1600, "height": 900}  # the menu bar is unfolded from 1400 px
SCIM_JSON = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTRA_USER: dict[
    str, Any
] = {  # as Entra ID provisions a user (see tests/integrations/scim/test_idp.py)
    "schemas": [USER, ENTERPRISE],
    "externalId": "5f0e9c1a-7a43-4b8e-9d0f-2c6b1e4a8d21",
    "userName": "wang.fang@corp.example",
    "active": True,
    "displayName": "王芳",
    "emails": [{"primary": True, "type": "work", "value": "wang.fang@corp.example"}],
    "meta": {"resourceType": "User"},
    "name": {"formatted": "王芳", "familyName": "王", "givenName": "芳"},
    ENTERPRISE: {"employeeNumber": "E-90001", "department": "研发中心 A"},
    "roles": [],
}

# What a Chinese page may show in Latin letters: names and technical terms.
TERMS = [
    "Active Directory", "OpenLDAP", "LDAP", "SCIM", "StartTLS", "TLS", "DN", "AD", "CA", "ID",
    "URL", "HR", "API", "Entra", "Lark", "ldaps", "ldap", "English", "SECRETS_ENCRYPTION_KEYS",
    "inetOrgPerson", "ou", "department",  # the last two: attribute names in a help text
]  # fmt: skip
LDAP_FILTER = re.compile(r"\([^()]*=[^()]*\)")  # (employeeType=left)
COMMAND = re.compile(r"manage\.py[\w \"'-]*")  # a command line, with its options
HOSTS = re.compile(r"\b[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?\b")  # dc1.example.cn:636

TEXTS_JS = """() => {
  const out = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.textContent.replace(/\\s+/g, ' ').trim();
    if (text && !n.parentElement.closest('code, script, style, noscript, option[lang]')) {
      out.push(text);
    }
  }
  for (const el of document.body.querySelectorAll('[placeholder], [aria-label], [title], [alt]')) {
    for (const a of ['placeholder', 'aria-label', 'title', 'alt']) {
      if (el.getAttribute(a)) out.push(el.getAttribute(a).trim());
    }
  }
  return out;
}"""
# As tests/e2e/test_layout.py's, with what axe measured (say, the contrast ratio found).
AXE_JS = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}): ${v.help} — ` + v.nodes.slice(0, 3).map(n =>
      n.target.join(' ') + ' "' + (n.html || '').slice(0, 120) + '" ' +
      ((n.any[0] || n.all[0] || n.none[0] || {}).message || '')).join(' | '));
}"""
LINKS_JS = "() => [...new Set([...document.querySelectorAll('a[href]')].map(a => a.href))]"


class Shots:
    def __init__(self, language: str, journey: str = "directory") -> None:
        self.folder = Path(settings.BASE_DIR) / "var" / "screenshots" / f"{journey}-{language}"
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def __call__(self, page: object, name: str) -> None:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        assert path.stat().st_size > 5000, f"{path} looks empty"


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LdapServer]:
    """A private slapd on 127.0.0.1 with ou=Staff: 30 people in 4 departments."""
    if not Path(SLAPD).exists():
        pytest.fail("slapd is missing: apt-get install slapd ldap-utils (devtools/packages.py)")
    server = LdapServer(tmp_path_factory.mktemp("slapd-journey"))
    out = io.StringIO()
    tree_ldif(out, people=PEOPLE, departments=DEPARTMENTS, base=STAFF)
    server.load(out.getvalue())
    server.start()
    yield server
    server.stop()


def dn(i: int) -> str:
    return person_dn(i, DEPARTMENTS, STAFF, 1)


def email(i: int) -> str:
    return f"u{i:06d}@example.org"


def _ok(page: object) -> None:
    """The page that came back is no error page."""
    assert not page.locator(".alert-danger, .invalid-feedback").count(), page.inner_text("main")  # type: ignore[attr-defined]


def latest_run(page: object) -> tuple[str, str]:
    """(status, counts) of the newest run in the source page's table."""
    row = page.locator("[data-testid=run-table] li").first  # type: ignore[attr-defined]
    status = row.get_by_test_id("run-status").inner_text().strip()
    return status, row.inner_text()


def sync_now(page: object) -> float:
    """Press "Sync now" (the task runs in-process: Q_CLUSTER sync in settings_test); the time."""
    started = time.monotonic()
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.get_by_test_id("sync-now").click()  # type: ignore[attr-defined]
    _ok(page)
    return started


def shown(language: str, *labels: object) -> list[str]:
    with translation.override(language):
        return [str(label) for label in labels]


def data_strings() -> list[str]:
    """What the pages show that is data (names, e-mails, DNs ...), longest first."""
    found: set[str] = set()
    for name, mail, number in Person.objects.values_list("name", "email", "employee_no"):
        found |= {name, mail, number}
    found |= set(Department.objects.values_list("name", flat=True))
    found |= {str(u) for u in User.objects.all()} | set(
        User.objects.values_list("username", flat=True)
    )
    for source in DirectorySource.objects.all():
        found |= {source.name, *(str(v) for v in source.config.values())}
    for name, prefix in ScimToken.objects.values_list("name", "prefix"):
        found |= {name, prefix}
    for product, vendor, ref in Subscription.objects.values_list("product", "vendor__name", "ref"):
        found |= {product, vendor, ref}
    return sorted((s for s in found if s and len(s) > 1), key=len, reverse=True)


def leftovers(texts: list[str], language: str, data: list[str]) -> list[str]:
    """Texts of the page in the other language: Latin words on a Chinese page beyond names and
    technical terms, Chinese characters on an English one."""
    out = []
    for text in texts:
        rest = text
        for value in data:
            rest = rest.replace(value, " ")
        if language == "en":
            if re.search(r"[\u3400-\u9fff]", rest):
                out.append(text)
            continue
        rest = HOSTS.sub(" ", LDAP_FILTER.sub(" ", COMMAND.sub(" ", rest)))
        for term in TERMS:
            rest = re.sub(rf"(?<![A-Za-z]){re.escape(term)}(?![A-Za-z])", " ", rest)
        if re.search(r"[A-Za-z]{2,}", rest):
            out.append(text)
    return out


class Checks:
    """A page's checks: nothing sticks out sideways at 390, 1280 and 1920 px, axe-core finds
    nothing serious at the narrowest and the widest, every link opens for the user, no raw count
    key, the language complete. Problems are collected (the other language's leftovers apart)
    and asserted together at the end, so one run reports them all."""

    def __init__(self, base: str, count_keys: object = COUNT_LABELS) -> None:
        self.base = base
        self.count_keys = list(count_keys)  # type: ignore[call-overload]  # a run's raw figures
        self.extra_data: list[str] = []  # more data and technical terms the pages may show
        self.problems: list[str] = []
        self.untranslated: dict[str, list[str]] = {}
        self.links_seen: dict[tuple[int, str], int] = {}

    def page(
        self, page: object, path: str, language: str, shots: Shots, name: str, user: User
    ) -> None:
        page.set_viewport_size({"width": WIDTHS[0], "height": 800})  # type: ignore[attr-defined]
        response = page.goto(self.base + path)  # type: ignore[attr-defined]
        assert response.status == 200, (path, response.status)
        assert page.get_attribute("html", "lang") == language  # type: ignore[attr-defined]
        page.add_script_tag(path=str(AXE))  # type: ignore[attr-defined]
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})  # type: ignore[attr-defined]
            page.evaluate(NEXT_FRAMES_JS)  # type: ignore[attr-defined]
            for line in page.evaluate(OVERFLOW_JS):  # type: ignore[attr-defined]
                self.problems.append(f"{language} {path} at {width}px: {line}")
            if width in (WIDTHS[0], WIDTHS[-1]):
                for line in page.evaluate(AXE_JS):  # type: ignore[attr-defined]
                    self.problems.append(f"{language} {path} at {width}px axe: {line}")
            if width != 1920:
                shots(page, f"{name}-{width}")
        raw_keys = [k for k in self.count_keys if "_" in k and k in page.inner_text("main")]  # type: ignore[attr-defined]
        if raw_keys:
            self.problems.append(f"{language} {path}: raw count keys shown {raw_keys}")
        data = sorted({*data_strings(), *self.extra_data}, key=len, reverse=True)
        left = leftovers(page.evaluate(TEXTS_JS), language, data)  # type: ignore[attr-defined]
        if left:
            self.untranslated[f"{language} {path}"] = sorted(set(left))
        self.links(page, user, path)

    def links(self, page: object, user: User, path: str) -> None:
        """Every same-site link of the page opens for this user (no 403/404/500, no sign-in)."""
        for href in page.evaluate(LINKS_JS):  # type: ignore[attr-defined]
            url = href.split("#")[0]
            if not url.startswith(self.base) or (user.pk, url) in self.links_seen:
                continue
            answer = page.request.get(url)  # type: ignore[attr-defined]  # the tab's cookies
            status = answer.status if "/accounts/login/" not in answer.url else 401
            self.links_seen[(user.pk, url)] = status
            if status >= 400:
                self.problems.append(f"{user.username} on {path}: link {url} answers {status}")


def test_a_new_it_admin_follows_the_directory_and_leavers_reach_the_software_admin(
    browser: object, live_server: object, cast: Cast, slapd: LdapServer
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    language = "zh-hans"
    shots, checks = Shots(language), Checks(base)
    errors: list[str] = []
    subscription = cast.subscription_a  # department A, whose software admin is cast.software_admin
    succeeded, held_status, discarded = shown(
        language, SyncRun.Status.SUCCEEDED.label, SyncRun.Status.HELD.label,
        SyncRun.Status.DISCARDED.label,
    )  # fmt: skip
    added, leavers_label = shown(language, COUNT_LABELS["people_created"], COUNT_LABELS["leavers"])

    def tab(user: User, lang: str = language) -> object:
        page = signed_in_page(browser, live_server, user, lang)
        page.on("pageerror", lambda e: errors.append(str(e)))  # type: ignore[attr-defined]
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
        page.set_viewport_size(JOURNEY)  # type: ignore[attr-defined]
        return page

    # 1. IT finds the page in the menu, adds the LDAP server and syncs it.
    it = tab(cast.it_admin)
    it.goto(base + "/")  # type: ignore[attr-defined]
    it.get_by_test_id("manage-menu").click()  # type: ignore[attr-defined]
    it.locator("[data-nav=directory]").click()  # type: ignore[attr-defined]
    it.get_by_test_id("source-table").wait_for()  # type: ignore[attr-defined]
    shots(it, "no-source-yet")
    it.select_option("#id_kind", "ldap")  # type: ignore[attr-defined]
    it.get_by_test_id("add-source").click()  # type: ignore[attr-defined]
    it.wait_for_selector("#id_cfg_url")  # type: ignore[attr-defined]
    it.fill("#id_name", "总部 LDAP")  # type: ignore[attr-defined]
    it.fill("#id_cfg_url", slapd.url)  # type: ignore[attr-defined]
    it.select_option("#id_cfg_flavour", "openldap")  # type: ignore[attr-defined]
    it.fill("#id_cfg_bind_dn", slapd.reader_dn)  # type: ignore[attr-defined]
    it.fill("#id_cfg_bind_password", slapd.reader_password)  # type: ignore[attr-defined]
    it.fill("#id_cfg_base_dn", STAFF)  # type: ignore[attr-defined]
    shots(it, "ldap-form-filled")
    it.click("main form[method=post] button[type=submit]")  # type: ignore[attr-defined]
    it.get_by_test_id("sync-now").wait_for()  # type: ignore[attr-defined]
    _ok(it)
    source = DirectorySource.objects.get(kind="ldap")
    assert source.secrets == {"bind_password": slapd.reader_password}
    assert slapd.reader_password not in it.content()  # type: ignore[attr-defined]
    assert source.config["base_dn"] == STAFF and source.config["flavour"] == "openldap"
    if "OpenLDAP" not in it.inner_text(".card"):  # type: ignore[attr-defined]
        checks.problems.append("source page: the Directory setting shows the raw value openldap")
    sync_now(it)
    status, counts = latest_run(it)
    assert status == succeeded, (status, counts, it.inner_text("[data-testid=run-table]"))  # type: ignore[attr-defined]
    assert f"{added} {PEOPLE}" in counts, counts
    shots(it, "first-sync")
    links = DirectoryLink.objects.filter(source=source)
    assert links.filter(kind="department").count() == DEPARTMENTS
    assert links.filter(kind="person", person__status="active").count() == PEOPLE
    assert sorted(Department.objects.filter(directory_links__source=source).values_list(
        "name", flat=True)) == [f"Dept {d:05d}" for d in range(DEPARTMENTS)]  # fmt: skip
    it.goto(base + "/org/people/?q=example.org")  # type: ignore[attr-defined]
    assert str(PEOPLE) in it.inner_text("[data-testid=person-count]")  # type: ignore[attr-defined]
    assert "Person 000013" in it.inner_text("[data-testid=person-table]")  # type: ignore[attr-defined]
    shots(it, "people-from-ldap")

    # Two of them hold seats of department A's subscription (the software admin's).
    holders = {i: Person.objects.get(email=email(i)) for i in (LEAVER, LATER_LEAVER)}
    for person in holders.values():
        SeatFactory.create(subscription=subscription, person=person)

    # 2. A seat holder is deleted in LDAP: the next sync marks a leaver; the software admin's
    # bell says so within the minute.
    slapd.delete(dn(LEAVER))
    it.goto(base + source.get_absolute_url())  # type: ignore[attr-defined]
    started = sync_now(it)
    status, counts = latest_run(it)
    assert status == succeeded and f"{leavers_label} 1" in counts, (status, counts)
    shots(it, "leaver-sync")
    holders[LEAVER].refresh_from_db()
    assert holders[LEAVER].status == "left" and holders[LEAVER].left_on is not None
    admin = tab(cast.software_admin)
    admin.goto(base + "/")  # type: ignore[attr-defined]
    assert admin.inner_text("[data-testid=unread-count]").strip() == "1"  # type: ignore[attr-defined]
    admin.get_by_test_id("notification-bell").click()  # type: ignore[attr-defined]
    first = admin.get_by_test_id("notification-list").locator(".list-group-item").first  # type: ignore[attr-defined]
    assert "Person 000005" in first.inner_text(), first.inner_text()
    told_after = time.monotonic() - started
    assert told_after < 60, told_after
    shots(admin, "bell-ldap-leaver")

    # 3. SCIM: a source and a token made on its page, a User pushed and deactivated by "Entra".
    it.goto(base + "/integrations/directory/")  # type: ignore[attr-defined]
    it.select_option("#id_kind", "scim")  # type: ignore[attr-defined]
    it.get_by_test_id("add-source").click()  # type: ignore[attr-defined]
    it.wait_for_selector("#id_name")  # type: ignore[attr-defined]
    assert not it.locator("#id_sync_every_minutes").count()  # type: ignore[attr-defined]
    it.fill("#id_name", "Entra ID")  # type: ignore[attr-defined]
    it.click("main form[method=post] button[type=submit]")  # type: ignore[attr-defined]
    it.get_by_test_id("token-form").wait_for()  # type: ignore[attr-defined]
    _ok(it)
    assert not it.get_by_test_id("sync-now").count()  # type: ignore[attr-defined]
    assert it.inner_text("[data-testid=scim-url]").strip() == base + "/scim/v2/"  # type: ignore[attr-defined]
    it.fill("#token-name", "Entra ID provisioning")  # type: ignore[attr-defined]
    it.fill("#token-days", "365")  # type: ignore[attr-defined]
    it.click("[data-testid=token-form] button[type=submit]")  # type: ignore[attr-defined]
    plain = it.inner_text("[data-testid=plain-token]").strip()  # type: ignore[attr-defined]
    token = ScimToken.objects.get(source__name="Entra ID")
    assert plain.startswith("rdscim_" + token.prefix) and len(plain) > 40, plain
    shots(it, "scim-token-shown-once")
    it.click("main a.btn-primary")  # type: ignore[attr-defined]  # "Done"
    it.get_by_test_id("tokens").wait_for()  # type: ignore[attr-defined]
    assert plain not in it.content() and token.prefix in it.inner_text("[data-testid=tokens]")  # type: ignore[attr-defined]
    shots(it, "scim-source")
    scim = requests.Session()
    scim.headers.update({"Authorization": f"Bearer {plain}", "Content-Type": SCIM_JSON})
    created = scim.post(f"{base}/scim/v2/Users", json=ENTRA_USER, timeout=30)
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    pushed = Person.objects.get(employee_no="E-90001")
    assert pushed.name == "王芳" and pushed.email == "wang.fang@corp.example"
    assert pushed.status == "active"
    SeatFactory.create(subscription=subscription, person=pushed)
    deactivate: dict[str, Any] = {  # as Entra sends it ("False": a string)
        "schemas": [PATCH],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
    }
    started = time.monotonic()
    patched = scim.patch(f"{base}/scim/v2/Users/{user_id}", json=deactivate, timeout=30)
    assert patched.status_code in (200, 204), patched.text
    pushed.refresh_from_db()
    assert pushed.status == "left" and pushed.left_on is not None
    assert scim.get(f"{base}/scim/v2/Users/{user_id}", timeout=30).json()["active"] is False
    admin.goto(base + "/")  # type: ignore[attr-defined]
    assert admin.inner_text("[data-testid=unread-count]").strip() == "2"  # type: ignore[attr-defined]
    admin.get_by_test_id("notification-bell").click()  # type: ignore[attr-defined]
    first = admin.get_by_test_id("notification-list").locator(".list-group-item").first  # type: ignore[attr-defined]
    assert "王芳" in first.inner_text(), first.inner_text()
    assert time.monotonic() - started < 60
    shots(admin, "bell-scim-leaver")

    # 4. Most people deleted in LDAP: the sync is held, nobody has left; Discard keeps it so.
    left_before = Person.objects.filter(status="left").count()
    slapd.delete(*(dn(i) for i in MASS))
    it.goto(base + source.get_absolute_url())  # type: ignore[attr-defined]
    sync_now(it)
    banner = it.get_by_test_id("held-run")  # type: ignore[attr-defined]
    assert banner.is_visible()
    status, _counts = latest_run(it)
    assert status == held_status, status
    assert all(f"Person {i:06d}" in banner.inner_text() for i in MASS)
    assert Person.objects.filter(status="left").count() == left_before
    shots(it, "held-sync")

    # The pages, both languages (the held banner on the source page), and an auditor's view.
    for lang in ("zh-hans", "en"):
        page, lang_shots = tab(cast.it_admin, lang), shots if lang == language else Shots(lang)
        for path, name in (
            ("/integrations/directory/", "source-list"),
            (source.get_absolute_url(), "source-page"),
            (DirectorySource.objects.get(kind="scim").get_absolute_url(), "scim-source-page"),
            ("/integrations/directory/add/?kind=ldap", "add-form"),
        ):
            checks.page(page, path, lang, lang_shots, name, cast.it_admin)
        page.context.close()  # type: ignore[attr-defined]
    reader = tab(cast.auditor, "en")
    checks.page(
        reader, source.get_absolute_url(), "en", Shots("en-auditor"), "auditor", cast.auditor
    )
    assert not reader.get_by_test_id("sync-now").count()  # type: ignore[attr-defined]
    assert not reader.locator("[data-testid=held-run] form").count()  # type: ignore[attr-defined]
    reader.context.close()  # type: ignore[attr-defined]

    it.goto(base + source.get_absolute_url())  # type: ignore[attr-defined]
    with it.expect_navigation():  # type: ignore[attr-defined]
        it.click("[data-testid=held-run] form:has(input[value=discard]) button")  # type: ignore[attr-defined]
    assert not it.get_by_test_id("held-run").count()  # type: ignore[attr-defined]
    assert latest_run(it)[0] == discarded
    assert Person.objects.filter(status="left").count() == left_before
    shots(it, "held-sync-discarded")

    # The next sync is held again; this time IT confirms: they have left, the bell rings again.
    sync_now(it)
    assert latest_run(it)[0] == held_status
    with it.expect_navigation():  # type: ignore[attr-defined]
        it.get_by_test_id("confirm-held").click()  # type: ignore[attr-defined]
    _ok(it)
    assert Person.objects.filter(status="left").count() == left_before + len(MASS)
    holders[LATER_LEAVER].refresh_from_db()
    assert holders[LATER_LEAVER].status == "left"
    assert Notification.objects.filter(user=cast.software_admin, read_at__isnull=True).count() == 3
    shots(it, "held-sync-confirmed")
    it.goto(base + "/integrations/directory/")  # type: ignore[attr-defined]
    shots(it, "source-list-end")
    for page in (it, admin):
        page.context.close()  # type: ignore[attr-defined]

    assert not errors, errors
    untranslated = [
        f"{where}:\n  " + "\n  ".join(texts) for where, texts in checks.untranslated.items()
    ]
    assert not checks.problems and not untranslated, "\n".join(
        [*checks.problems, "Left in the other language:", *untranslated]
    )
