"""Issue #21's chat apps, in Chromium, as a new IT admin would try them: a fake Feishu open
platform on 127.0.0.1 (tests/fakes/feishu_chat.py) → IT finds Manage → Chat apps, chooses Feishu
and adds the app with its app ID and three secrets (write-only: the edit form shows them empty,
the app's page says only "set"), reads the callback address to enter on the platform → maps the
head of department A by hand on the People page (a second user on the same id is refused with a
clear error) → a request is submitted while the bot may not write to the head: the card is a dead
letter on the app's page; the cause fixed, "Send again" delivers it → the head decides on Feishu:
the request's trail says "via Feishu" / "通过飞书" → the list, the app's page, the form and the
People page pass axe, fit 390/1280/1920 px, link only to pages the user may open, in Chinese and
English with nothing left in the other language; an auditor reads them without edit, remove,
send-again or mapping controls.

Tasks run in-process (Q_CLUSTER "sync" in config/settings_test.py): the card is sent while the
submit (or "Send again") commits. Screenshots go to var/screenshots/chat-<language>/ for review."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from budgets import services as budget_services
from integrations.chat.models import ChatApp, ChatCard, ChatIdentity, ChatJob
from org.models import User
from renewals.requests import services as request_services
from renewals.requests.models.approvals import ApprovalStep, Via
from renewals.requests.models.requests import RenewalRequest
from tests.conftest import Cast
from tests.e2e.test_directory_journey import JOURNEY, Checks, Shots, _ok, shown
from tests.e2e.test_layout import NEXT_FRAMES_JS, OVERFLOW_JS, signed_in_page
from tests.fakes.feishu_chat import FakeFeishuChat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRETS = {
    "app_secret": "fake-app-secret",
    "verification_token": "vt-5512-feishu",
    "encrypt_key": "ek-8830-feishu",
}
APP_NAME = "飞书审批"
BAD_REQUEST = "Failed to load resource: the server responded with a status of 400 (Bad Request)"
FORBIDDEN = "Failed to load resource: the server responded with a status of 403 (Forbidden)"
REFUSED_BY_FEISHU = "Bot has NO availability to this user."  # the fake's message (code 230013)


@pytest.fixture(scope="module")
def feishu() -> Iterator[FakeFeishuChat]:
    with FakeFeishuChat() as fake:
        yield fake


def said(language: str, *msgids: str) -> list[str]:
    """The messages as the pages show them in the language."""
    with translation.override(language):
        return [gettext(msgid) for msgid in msgids]


def submit(cast: Cast, amount: str) -> RenewalRequest:
    """Department A's request at ``amount`` CNY, submitted by its software admin (its cards are
    queued and sent when it commits)."""
    request = request_services.request_create(
        subscription=cast.subscription_a, user=cast.software_admin, justification="继续使用"
    )
    assert request.chosen_quote is not None
    request_services.quote_save(
        request=request, user=cast.software_admin, quote=request.chosen_quote,
        data={"seats": 1, "unit_price": Decimal(amount), "term_months": 12},
    )  # fmt: skip
    request_services.request_submit(request=request, user=cast.software_admin)
    request.refresh_from_db()
    return request


def test_an_it_admin_adds_a_feishu_app_maps_people_and_sends_a_dead_letter_again(
    browser: object, live_server: object, cast: Cast, feishu: FakeFeishuChat
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    language = "zh-hans"
    shots, checks = Shots(language, "chat"), Checks(base, ())
    errors: list[str] = []
    set_label, duplicate = said(
        language, "set", "Another user is already mapped to this id on the app."
    )
    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("1000000"), user=cast.finance, memo="年度预算"
    )

    def tab(who: User, lang: str = language) -> object:
        page = signed_in_page(browser, live_server, who, lang)
        page.on("pageerror", lambda e: errors.append(str(e)))  # type: ignore[attr-defined]
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
        page.set_viewport_size(JOURNEY)  # type: ignore[attr-defined]
        return page

    # 1. IT finds the page in the menu, chooses Feishu and adds the app.
    it = tab(cast.it_admin)
    it.goto(base + "/")  # type: ignore[attr-defined]
    it.get_by_test_id("manage-menu").click()  # type: ignore[attr-defined]
    it.locator("[data-nav=chat]").click()  # type: ignore[attr-defined]
    it.get_by_test_id("chat-app-table").wait_for()  # type: ignore[attr-defined]
    assert it.get_by_test_id("no-chat-app").count()  # type: ignore[attr-defined]
    shots(it, "no-app-yet")
    it.select_option("[data-testid=add-chat-app] select[name=kind]", "feishu")  # type: ignore[attr-defined]
    it.click("[data-testid=add-chat-app] button[type=submit]")  # type: ignore[attr-defined]
    it.wait_for_selector("#id_app_id")  # type: ignore[attr-defined]
    assert "kind=feishu" in it.url  # type: ignore[attr-defined]
    it.fill("#id_name", APP_NAME)  # type: ignore[attr-defined]
    it.fill("#id_base_url", feishu.url)  # type: ignore[attr-defined]
    it.fill("#id_app_id", feishu.app_id)  # type: ignore[attr-defined]
    for key, value in SECRETS.items():
        it.fill(f"#id_{key}", value)  # type: ignore[attr-defined]
    shots(it, "form-filled")
    with it.expect_navigation():  # type: ignore[attr-defined]
        it.click("main form[method=post] button[type=submit]")  # type: ignore[attr-defined]
    it.get_by_test_id("callback-url").wait_for()  # type: ignore[attr-defined]
    _ok(it)
    app = ChatApp.objects.get()
    assert (app.kind, app.config, app.base_url) == ("feishu", {"app_id": feishu.app_id}, feishu.url)
    assert app.secrets == SECRETS
    assert not any(secret in it.content() for secret in SECRETS.values())  # type: ignore[attr-defined]
    # The callback address to enter on the platform, and the secrets only as "set".
    callback = settings.SITE_URL + reverse("integrations:chat-callback", args=[app.pk])
    assert it.inner_text("[data-testid=callback-url]").strip() == callback  # type: ignore[attr-defined]
    settings_card = it.inner_text("[data-testid=app-settings]")  # type: ignore[attr-defined]
    assert settings_card.count(set_label) == len(SECRETS) and feishu.app_id in settings_card
    shots(it, "app-added")

    # Write-only: the edit form shows the secrets empty; saving it keeps them.
    it.get_by_test_id("edit-chat-app").click()  # type: ignore[attr-defined]
    it.wait_for_selector("#id_app_secret")  # type: ignore[attr-defined]
    for key in SECRETS:
        assert it.input_value(f"#id_{key}") == "", key  # type: ignore[attr-defined]
    assert it.input_value("#id_app_id") == feishu.app_id  # type: ignore[attr-defined]
    assert not any(secret in it.content() for secret in SECRETS.values())  # type: ignore[attr-defined]
    with it.expect_navigation():  # type: ignore[attr-defined]
        it.click("main form[method=post] button[type=submit]")  # type: ignore[attr-defined]
    _ok(it)
    app.refresh_from_db()
    assert app.secrets == SECRETS

    # 2. The head of department A is mapped by hand; finance on the same id is refused.
    it.get_by_test_id("chat-people").click()  # type: ignore[attr-defined]
    it.get_by_test_id("identity-table").wait_for()  # type: ignore[attr-defined]
    assert it.get_by_test_id("no-identity").count()  # type: ignore[attr-defined]
    shots(it, "nobody-mapped")
    it.select_option("#id_user", str(cast.head_a.pk))  # type: ignore[attr-defined]
    it.fill("#id_platform_id", "head-a")  # type: ignore[attr-defined]
    with it.expect_navigation():  # type: ignore[attr-defined]
        it.click("[data-testid=map-person] button[type=submit]")  # type: ignore[attr-defined]
    _ok(it)
    assert "head-a" in it.inner_text("[data-testid=identity-table]")  # type: ignore[attr-defined]
    it.select_option("#id_user", str(cast.finance.pk))  # type: ignore[attr-defined]
    it.fill("#id_platform_id", "head-a")  # type: ignore[attr-defined]
    with it.expect_navigation():  # type: ignore[attr-defined]
        it.click("[data-testid=map-person] button[type=submit]")  # type: ignore[attr-defined]
    assert duplicate in it.inner_text("[data-testid=map-person]")  # type: ignore[attr-defined]
    errors.remove(BAD_REQUEST)  # the refused form comes back with 400
    assert it.input_value("#id_platform_id") == "head-a"  # type: ignore[attr-defined]  # kept
    assert list(ChatIdentity.objects.values_list("user", "platform_id")) == [
        (cast.head_a.pk, "head-a")
    ]
    shots(it, "duplicate-refused")

    # 3. The bot may not write to the head yet: the approval card is a dead letter.
    feishu.users = {"somebody-else"}
    request = submit(cast, "60000")
    card = ChatCard.objects.get(app=app, recipient=cast.head_a)
    send = ChatJob.objects.get(card=card, action=ChatJob.Action.SEND)
    assert send.status == ChatJob.Status.FAILED and REFUSED_BY_FEISHU in send.last_error
    it.goto(base + app.get_absolute_url())  # type: ignore[attr-defined]
    dead = it.inner_text("[data-testid=dead-letters]")  # type: ignore[attr-defined]
    assert str(cast.head_a) in dead and REFUSED_BY_FEISHU in dead, dead
    shots(it, "dead-letter")
    # IT makes the app available to everyone in the console and sends it again.
    feishu.users = None
    with it.expect_navigation():  # type: ignore[attr-defined]
        it.get_by_test_id("send-again").first.click()  # type: ignore[attr-defined]
    _ok(it)
    send.refresh_from_db()
    card.refresh_from_db()
    assert send.status == ChatJob.Status.DONE and card.message_id in feishu.messages
    assert feishu.messages[card.message_id]["receive_id"] == "head-a"
    assert not ChatJob.objects.filter(status=ChatJob.Status.FAILED).exists()
    assert it.get_by_test_id("no-dead-letter").count()  # type: ignore[attr-defined]
    shots(it, "sent-again")

    # 4. The head approves on the card: the trail says where.
    request_services.step_decide(
        request=request, user=cast.head_a, decision=ApprovalStep.Decision.APPROVE, via="feishu"
    )
    assert request.steps.get(position=1).via == "feishu"
    it.context.close()  # type: ignore[attr-defined]

    # 5. A notice card that failed every attempt stays a dead letter: the pages are checked with
    # one, and the auditor sees it without "Send again".
    notice = ChatCard.objects.create(
        app=app, key="rd-n-leaver-1", topic=ChatCard.Topic.NOTICE, recipient=cast.software_admin,
        platform_id="sa-7781", state=ChatCard.State.INFO, nonce="n" * 43,
        notice={"title": "离职人员仍占用 3 个席位：王芳", "text": "请清理其账号。", "url": "/",
                "action": "开始清理"},
    )  # fmt: skip
    ChatJob.objects.create(
        card=notice, action=ChatJob.Action.SEND, status=ChatJob.Status.FAILED, attempts=12,
        last_error="Feishu is unavailable (HTTP 503).",
    )  # fmt: skip

    # 6. The pages in both languages, and an auditor's view.
    app.refresh_from_db()
    checks.extra_data += [
        app.name, app.base_url, callback, feishu.app_id, "head-a", "somebody-else", "HTTP",
        REFUSED_BY_FEISHU, "https://open.feishu.cn", "https://open.larksuite.com",
        # Feishu's own names, as its Chinese developer console shows them:
        "App ID", "App Secret", "Verification Token", "Encrypt Key", "user_id", "Lark",
        "userId", "staffId", "unionId", "userid",  # DingTalk's and WeCom's field names
    ]  # fmt: skip
    checks.extra_data += list(
        ChatJob.objects.exclude(last_error="").values_list("last_error", flat=True)
    )
    checks.extra_data.append(notice.notice["title"])  # in its reader's language when made
    edit_path = reverse("integrations:chat-app-edit", args=[app.pk])
    pages = (
        ("/integrations/chat/", "list"),
        (app.get_absolute_url(), "app"),
        ("/integrations/chat/add/?kind=feishu", "form"),
        (reverse("integrations:chat-people", args=[app.pk]), "people"),
    )
    request_path = reverse("renewals:request-detail", args=[request.pk])
    for lang in ("zh-hans", "en"):
        page, lang_shots = (
            tab(cast.it_admin, lang),
            shots if lang == language else Shots(lang, "chat"),
        )
        for path, name in pages:
            checks.page(page, path, lang, lang_shots, name, cast.it_admin)
        # The edit form is the add form's template with the app's values: its width only.
        page.goto(base + edit_path)  # type: ignore[attr-defined]
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 800})  # type: ignore[attr-defined]
            page.evaluate(NEXT_FRAMES_JS)  # type: ignore[attr-defined]
            checks.problems += [f"{lang} {edit_path} at {width}px: {line}"
                                for line in page.evaluate(OVERFLOW_JS)]  # type: ignore[attr-defined]  # fmt: skip
            lang_shots(page, f"edit-form-{width}")
        page.goto(base + request_path)  # type: ignore[attr-defined]
        (via,) = shown(lang, Via.FEISHU.label)
        assert page.inner_text("[data-testid=step-via]").strip() == via  # type: ignore[attr-defined]
        assert via in page.inner_text("[data-testid=event-via]")  # type: ignore[attr-defined]
        lang_shots(page, "request-via-feishu")
        page.context.close()  # type: ignore[attr-defined]
    assert shown(language, Via.FEISHU.label) == ["通过飞书"]

    # The auditor reads the pages (checked in full in English), with no control to change them
    # and no link to a page they may not open (the forms answer 403).
    for lang in ("en", "zh-hans"):
        reader = tab(cast.auditor, lang)
        reader_shots = Shots(f"{lang}-auditor", "chat")
        for path in ("/integrations/chat/add/?kind=feishu", edit_path):
            assert reader.goto(base + path).status == 403  # type: ignore[attr-defined]
            errors.remove(FORBIDDEN)
        for path, name in pages:
            if name == "form":
                continue
            if lang == "en":
                checks.page(reader, path, lang, reader_shots, name, cast.auditor)
            else:
                reader.goto(base + path)  # type: ignore[attr-defined]
                checks.links(reader, cast.auditor, path)
                reader_shots(reader, name)
            if name == "app":
                dead = reader.inner_text("[data-testid=dead-letters]")  # type: ignore[attr-defined]
                assert str(cast.software_admin) in dead, dead
            for control in ("add-chat-app", "edit-chat-app", "remove-chat-app", "send-again",
                            "map-person", "remove-identity"):  # fmt: skip
                assert not reader.get_by_test_id(control).count(), (path, control)  # type: ignore[attr-defined]
            assert not reader.locator("main form[method=post]").count(), path  # type: ignore[attr-defined]
        reader.context.close()  # type: ignore[attr-defined]

    assert not errors, errors
    untranslated = [
        f"{where}:\n  " + "\n  ".join(texts) for where, texts in checks.untranslated.items()
    ]
    assert not checks.problems and not untranslated, "\n".join(
        [*checks.problems, "Left in the other language:", *untranslated]
    )
