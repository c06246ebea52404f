"""#21's "Done when" as a new user tries it with ``dev.py start``: the chat platforms stand-in
(tests/fakes/chat_standin.py) and ``manage.py demo_chat`` against a live server; a request above
50,000 CNY is submitted, the head approves on the Feishu card of the stand-in's phone page and
finance on the DingTalk card (each click sent to our callback signed and encrypted as the
platform does); both cards show the outcome, the to-dos are done, the trail says "via Feishu" /
"via DingTalk"."""

from __future__ import annotations

import io
import urllib.parse
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from budgets import services as budget_services
from integrations.chat import outbox
from integrations.chat.models import ChatApp, ChatIdentity, ChatJob
from renewals.requests import services
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.requests import RenewalRequest
from tests.conftest import Cast
from tests.fakes.chat_standin import ChatStandin


class Forms(HTMLParser):
    """The phone page's forms: each one's hidden fields, text inputs and buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                {"action": a.get("action"), "fields": {}, "inputs": [], "buttons": []}
            )
        elif tag == "input" and self.forms:
            if a.get("type") == "hidden":
                self.forms[-1]["fields"][a["name"]] = a.get("value", "")
            else:
                self.forms[-1]["inputs"].append(a["name"])
        elif tag == "button" and self.forms:
            self.forms[-1]["buttons"].append((a.get("name"), a.get("value")))


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - local
        return response.read().decode()


def press(standin: ChatStandin, page: str, action: str, comment: str = "") -> str:
    """Press ``action`` on the first card of ``page`` that has it (as the person would):
    the stand-in's answer, the page again with the toast."""
    parser = Forms()
    parser.feed(page)
    form = next(f for f in parser.forms if ("action", action) in f["buttons"])
    data = {**form["fields"], "action": action}
    if "comment" in form["inputs"]:
        data["comment"] = comment
    body = urllib.parse.urlencode(data).encode()
    request = urllib.request.Request(standin.url + form["action"], data=body, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - follows the 303
        return response.read().decode()


@pytest.fixture
def standin() -> Iterator[ChatStandin]:
    with ChatStandin(port=0) as running:
        yield running


def submit(cast: Cast, amount: str) -> RenewalRequest:
    request = services.request_create(subscription=cast.subscription_a, user=cast.software_admin)
    assert request.chosen_quote is not None
    services.quote_save(
        request=request, user=cast.software_admin, quote=request.chosen_quote,
        data={"seats": 1, "unit_price": Decimal(amount), "term_months": 12},
    )  # fmt: skip
    services.request_submit(request=request, user=cast.software_admin)  # notices run on commit
    request.refresh_from_db()
    return request


@pytest.mark.django_db(transaction=True)  # the live server's thread sees what the test wrote
def test_the_done_when_by_hand_on_the_stand_in(
    cast: Cast, live_server: Any, settings: Any, standin: ChatStandin
) -> None:
    settings.SITE_URL = live_server.url  # the address the stand-in sends clicks to
    settings.DEBUG = True
    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("1000000"), user=cast.finance, memo="年度预算"
    )
    for user in (cast.head_a, cast.finance):  # their cards in English
        user.language = "en"
        user.save()
    out = io.StringIO()
    call_command("demo_chat", "--standin", standin.url, stdout=out)
    assert f"Chat platforms stand-in: {standin.url}/" in out.getvalue()
    call_command("demo_chat", "--standin", standin.url, stdout=io.StringIO())  # again: no change
    assert ChatApp.objects.count() == 2
    assert set(ChatIdentity.objects.values_list("app__kind", "platform_id")) == {
        ("feishu", "head_a"), ("feishu", "head_b"), ("dingtalk", "finance")
    }  # fmt: skip
    assert (
        standin.feishu_callback
        == f"{live_server.url}/integrations/chat/{ChatApp.objects.get(kind='feishu').pk}/callback/"
    )

    request = submit(cast, "60000")
    outbox.deliver()
    assert "head_a" in get(standin.url + "/")
    head_page = get(f"{standin.url}/p/feishu/head_a")
    assert "60,000.00 CNY" in head_page and "Budget 2027" in head_page
    assert "Approve" in head_page and "Return" in head_page and "Reject" in head_page
    assert head_page.count('name="comment"') == 2  # return and reject ask for a comment
    assert "○ open" in head_page  # the Feishu task

    refused = press(standin, head_page, "return", comment="")  # a return needs a comment
    assert "toast bad" in refused and 'value="return"' in refused  # still open
    after = press(standin, refused, "approve")
    assert "toast ok" in after and "Approved by" in after
    step = request.steps.get(position=1)
    assert (step.status, step.decided_by, step.via) == (
        ApprovalStep.Status.APPROVED, cast.head_a, "feishu"
    )  # fmt: skip

    outbox.deliver()
    finance_page = get(f"{standin.url}/p/dingtalk/finance")
    assert "60,000.00 CNY" in finance_page and "○ open" in finance_page
    after = press(standin, finance_page, "approve")
    assert "toast ok" in after and "Approved by" in after
    outbox.deliver()

    request.refresh_from_db()
    assert request.status == RenewalRequest.Status.APPROVED
    assert request.steps.get(position=2).via == "dingtalk"
    assert not ChatJob.objects.exclude(status__in=["done", "skipped"]).exists()
    for page in (get(f"{standin.url}/p/feishu/head_a"), get(f"{standin.url}/p/dingtalk/finance")):
        assert "Approved by" in page and "✓ done" in page and "○ open" not in page
        assert 'value="approve"' not in page  # no buttons left on a decided card
    web = Client()
    web.force_login(cast.auditor)
    web.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = web.get(reverse("renewals:request-detail", args=[request.pk])).content.decode()
    assert "via Feishu" in html and "via DingTalk" in html


@pytest.mark.django_db
def test_demo_chat_needs_the_web_server_and_debug(
    cast: Cast, settings: Any, standin: ChatStandin
) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo_chat", "--standin", standin.url)
    settings.DEBUG, settings.SITE_URL = True, "http://127.0.0.1:9"  # nothing answers there
    with pytest.raises(CommandError, match="did not take the callback address"):
        call_command("demo_chat", "--standin", standin.url, stdout=io.StringIO())
