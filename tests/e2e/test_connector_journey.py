"""Issue #20's first part, in Chromium, as a new IT admin would try it: a real SCIM server
(scim2-server, tests/integrations/connectors/scim_server.py) holds a tool's accounts → IT adds a
SCIM connector through Manage → Usage connectors for department A's subscription → "Sync now":
the run succeeds with its figures, the accounts matched to people hold seats, the unknown
accounts are listed → an account deactivated in the tool gives its seat back at the next sync →
the list, the connector's page and the form pass axe, fit 390/1280/1920 px, link only to pages
the user may open (an auditor's view too), both languages complete.

Tasks run in-process (Q_CLUSTER "sync" in config/settings_test.py). Screenshots go to
var/screenshots/connectors-<language>/ for review."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.connectors import playbooks, revoking
from integrations.connectors.views import COUNT_LABELS
from integrations.models import Account, Connector, ConnectorRun, IdleNotice, Playbook, Revocation
from org.models import User
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.e2e.test_directory_journey import (
    JOURNEY,
    Checks,
    Shots,
    _ok,
    latest_run,
    shown,
    sync_now,
)
from tests.e2e.test_layout import signed_in_page
from tests.factories import PersonFactory
from tests.integrations.connectors.scim_server import ScimServer, user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def tool() -> Iterator[ScimServer]:
    server = ScimServer(token="jira-admin-token-3390").start()
    yield server
    server.stop()


def test_a_new_it_admin_connects_a_tool_and_sees_its_accounts(
    browser: object, live_server: object, cast: Cast, tool: ScimServer
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    language = "zh-hans"
    shots, checks = Shots(language, "connectors"), Checks(base, COUNT_LABELS)
    errors: list[str] = []
    subscription = cast.subscription_a
    staff = [PersonFactory.create(name=f"员工{i}", email=f"staff{i}@example.cn",
                                  department=subscription.department) for i in range(4)]  # fmt: skip
    ids = tool.add(
        *(user(f"staff{i}", email=f"staff{i}@example.cn", display=f"员工{i}") for i in range(4)),
        user("partner", email="partner@gmail.com", display="Partner Guest"),
    )
    succeeded = shown(language, ConnectorRun.Status.SUCCEEDED.label)[0]
    given, unknown_label, revoked = shown(language, COUNT_LABELS["seats_created"],
                                          COUNT_LABELS["unknown"], COUNT_LABELS["seats_revoked"])  # fmt: skip

    def tab(who: User, lang: str = language) -> object:
        page = signed_in_page(browser, live_server, who, lang)
        page.on("pageerror", lambda e: errors.append(str(e)))  # type: ignore[attr-defined]
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
        page.set_viewport_size(JOURNEY)  # type: ignore[attr-defined]
        return page

    # 1. IT finds the page in the menu and adds the connector.
    it = tab(cast.it_admin)
    it.goto(base + "/")  # type: ignore[attr-defined]
    it.get_by_test_id("manage-menu").click()  # type: ignore[attr-defined]
    it.locator("[data-nav=connectors]").click()  # type: ignore[attr-defined]
    it.get_by_test_id("connector-table").wait_for()  # type: ignore[attr-defined]
    shots(it, "no-connector-yet")
    it.get_by_test_id("add-connector").click()  # type: ignore[attr-defined]
    it.wait_for_selector("#id_base_url")  # type: ignore[attr-defined]
    it.select_option("#id_subscription", str(subscription.pk))  # type: ignore[attr-defined]
    it.fill("#id_name", "Jira 账号")  # type: ignore[attr-defined]
    it.fill("#id_base_url", tool.url)  # type: ignore[attr-defined]
    it.fill("#id_token", tool.token)  # type: ignore[attr-defined]
    it.fill("#id_page_size", "2")  # type: ignore[attr-defined]
    shots(it, "form-filled")
    it.click("main form[method=post] button[type=submit]")  # type: ignore[attr-defined]
    it.get_by_test_id("sync-now").wait_for()  # type: ignore[attr-defined]
    _ok(it)
    connector = Connector.objects.get()
    assert connector.secrets == {"token": tool.token} and tool.token not in it.content()  # type: ignore[attr-defined]

    # 2. Sync now: seats for the four staff, the guest listed as unknown.
    sync_now(it)
    status, counts = latest_run(it)
    assert status == succeeded, (status, counts)
    assert f"{given} 4" in counts and f"{unknown_label} 1" in counts, counts
    assert "partner@gmail.com" in it.inner_text("[data-testid=unknown-accounts]")  # type: ignore[attr-defined]
    held = Seat.objects.filter(subscription=subscription, revoked_on__isnull=True)
    assert {s.person_id for s in held} >= {p.pk for p in staff}
    shots(it, "first-sync")

    # The guest is a contractor here after all: IT maps the account by employee number.
    contractor = PersonFactory.create(name="外包 王", employee_no="C-0042",
                                      department=subscription.department)  # fmt: skip
    it.locator("[data-testid=map-account] input[name=person]").first.fill("C-0042")  # type: ignore[attr-defined]
    with it.expect_navigation():  # type: ignore[attr-defined]
        it.locator("[data-testid=map-account] button").first.click()  # type: ignore[attr-defined]
    _ok(it)
    assert not it.locator("[data-testid=map-account]").count()  # type: ignore[attr-defined]
    mapped = Account.objects.get(user_name="partner")
    assert mapped.person == contractor and mapped.matched_by == "hand"
    assert Seat.objects.filter(
        person=contractor, subscription=subscription, revoked_on__isnull=True
    ).exists()
    shots(it, "account-mapped")

    # 3. An account deactivated in the tool: its seat is given back at the next sync.
    tool.patch_active(ids[0], False)
    sync_now(it)
    status, counts = latest_run(it)
    assert status == succeeded and f"{revoked} 1" in counts, (status, counts)
    assert Account.objects.get(user_name="partner").person == contractor  # the mapping stays
    assert Seat.objects.get(person=staff[0], subscription=subscription).revoked_on is not None
    assert not Account.objects.get(external_id=ids[0]).active
    shots(it, "deactivated-sync")
    tool.add(user("visitor", email="visitor@163.com", display="Visitor"))  # an unknown account
    sync_now(it)  # left on the page, so its "map" form is checked below
    assert it.locator("[data-testid=map-account]").count() == 1  # type: ignore[attr-defined]
    it.context.close()  # type: ignore[attr-defined]

    visitor = Account.objects.get(user_name="visitor")
    # 3b. IT turns the idle playbook on; a run as of 91 days ahead tells the holders (one of
    # them is the employee, who opens the notice's Keep my seat page), and one revocation a
    # playbook held over the 10% waits for IT.
    it = tab(cast.it_admin)
    it.goto(base + connector.get_absolute_url())  # type: ignore[attr-defined]
    it.check("#id_idle_enabled")  # type: ignore[attr-defined]
    with it.expect_navigation():  # type: ignore[attr-defined]
        it.locator("[data-testid=playbook-form] button[type=submit]").click()  # type: ignore[attr-defined]
    _ok(it)
    it.context.close()  # type: ignore[attr-defined]
    assert Playbook.objects.get(subscription=subscription).idle_enabled
    staff[1].user = cast.employee
    staff[1].save()
    Account.objects.filter(connector=connector).update(last_active_at=timezone.now())
    playbooks.idle_run(timezone.localdate() + dt.timedelta(days=91))
    notice = IdleNotice.objects.get(person=staff[1])
    revoking.revocations_request(connector=connector, account_ids=[Account.objects.get(
        person=staff[2]).pk], user=None, reason="闲置 91 天", source="idle", held=True)  # fmt: skip
    # The pages in both languages, and an auditor's view. Data and technical terms they show:
    for account in Account.objects.all():
        checks.extra_data += [account.user_name, account.display_name, account.email]
    checks.extra_data += [connector.name, connector.base_url, "https://api.atlassian.com/scim/directory/",
                          "PATCH active: false", "Bearer", "Atlassian", "Jira", "Confluence",
                          "GitHub", "CSV/XLSX", "HTTPS", "SFTP", "Lark", "闲置 91 天"]  # fmt: skip
    for lang in ("zh-hans", "en"):
        page = tab(cast.it_admin, lang)
        lang_shots = shots if lang == language else Shots(lang, "connectors")
        for path, name in (
            ("/integrations/connectors/", "connector-list"),
            (connector.get_absolute_url(), "connector-page"),
            ("/integrations/connectors/add/", "add-form"),
            (
                f"/integrations/connectors/{connector.pk}/revoke/?account={visitor.pk}",
                "revoke-preview",
            ),
        ):
            checks.page(page, path, lang, lang_shots, name, cast.it_admin)
        page.context.close()  # type: ignore[attr-defined]
        page = tab(cast.employee, lang)  # the holder's page behind the notice's Keep my seat
        checks.page(page, reverse("integrations:idle-keep", args=[notice.pk]), lang, lang_shots,
                    "keep-my-seat", cast.employee)  # fmt: skip
        page.context.close()  # type: ignore[attr-defined]
    reader = tab(cast.auditor, "en")
    checks.page(reader, connector.get_absolute_url(), "en", Shots("en-auditor", "connectors"),
                "auditor", cast.auditor)  # fmt: skip
    assert not reader.get_by_test_id("sync-now").count()  # type: ignore[attr-defined]
    assert not reader.get_by_test_id("remove-connector").count()  # type: ignore[attr-defined]
    reader.context.close()  # type: ignore[attr-defined]

    # 4. The visitor's account is revoked in the tool: preview, reason, done by the worker.
    Revocation.objects.filter(status="held").update(status="cancelled")
    it = tab(cast.it_admin)
    it.goto(base + connector.get_absolute_url())  # type: ignore[attr-defined]
    it.get_by_test_id("revoke-account").click()  # type: ignore[attr-defined]
    assert "visitor@163.com" in it.inner_text("[data-testid=revoke-preview]")  # type: ignore[attr-defined]
    it.fill("#id_reason", "外部访客，无需账号")  # type: ignore[attr-defined]
    with it.expect_navigation():  # type: ignore[attr-defined]
        it.get_by_test_id("confirm-revoke").click()  # type: ignore[attr-defined]
    _ok(it)
    done = shown(language, Revocation.Status.DONE.label)[0]
    assert it.inner_text("[data-testid=revocation-status]").strip() == done  # type: ignore[attr-defined]
    assert tool.client().get(f"/Users/{visitor.external_id}").json()["active"] is False
    shots(it, "revoked")
    it.context.close()  # type: ignore[attr-defined]

    assert not errors, errors
    untranslated = [
        f"{where}:\n  " + "\n  ".join(texts) for where, texts in checks.untranslated.items()
    ]
    assert not checks.problems and not untranslated, "\n".join(
        [*checks.problems, "Left in the other language:", *untranslated]
    )
