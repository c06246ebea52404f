"""Every role's main pages at phone, laptop and desktop widths, in both languages (#15 points 10
and 17): nothing sticks out sideways, axe-core finds no serious or critical violation, focus is
visible, and the approval inbox works with the keyboard alone.

One browser; per role one test, and per language one tab signed in once; each page is loaded once at
390 px and then widened (the layout is re-checked at every width without reloading), and axe runs
at 390 px and at the widest. The navigation bar is also checked at 1200, 1400 and 1536 px, where
the English labels used to push the bell and the user menu off-screen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from config.navigation import NAVIGATION
from org.models import User
from renewals.inventory.models import CurrencyRate
from renewals.requests import services as request_services
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.requests import RenewalRequest
from tests.conftest import Cast
from tests.helpers import contract_with_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (390, 1280, 1920)
NAVBAR_WIDTHS = (390, 1200, 1280, 1400, 1536, 1920)
SCREENSHOTS = Path("var") / "screenshots" / "layout"

# Elements wider than the viewport that are not clipped by a scrolling (or hidden-overflow)
# ancestor; and the document's own sideways scroll.
OVERFLOW_JS = """() => {
  const vw = document.documentElement.clientWidth;
  const out = [];
  if (document.documentElement.scrollWidth > window.innerWidth) {
    out.push(`document scrollWidth ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
  }
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
    (el.dataset && el.dataset.testid ? `[data-testid=${el.dataset.testid}]` : '');
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || (r.right <= vw + 1 && r.left >= -1)) continue;
    let clipped = false;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') { clipped = true; break; }
    }
    if (clipped || getComputedStyle(el).visibility === 'hidden') continue;
    out.push(`${name(el)} ${Math.round(r.left)}..${Math.round(r.right)} (${(el.textContent || '').trim().slice(0, 30)})`);
    if (out.length > 8) break;
  }
  return out;
}"""

# Two animation frames: the page's resize handlers (app.js marks boxes that scroll) have run.
NEXT_FRAMES_JS = """() => new Promise(done =>
  requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"""

AXE_JS = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}): ${v.help} — ` +
      v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
}"""


@dataclass
class Scene:
    request: RenewalRequest
    step: ApprovalStep
    contract_pk: int


@pytest.fixture
def scene(cast: Cast) -> Scene:
    """A submitted request of department A waiting for its head, a contract, a budget."""
    today = timezone.localdate()
    subscription = cast.subscription_a
    subscription.term_start = today - dt.timedelta(days=340)
    subscription.term_end = today + dt.timedelta(days=25)
    subscription.owner = cast.software_admin
    subscription.save()
    from budgets import services as budget_services

    new_start = subscription.term_end + dt.timedelta(days=1)
    budget = budget_services.budget_for(department=cast.dept_a, year=new_start.year)
    budget_services.budget_allocate(
        budget=budget, amount=Decimal("500000"), user=cast.finance, memo="年度预算"
    )
    request = request_services.request_create(
        subscription=subscription, user=cast.software_admin, justification="继续使用"
    )
    request = request_services.request_submit(request=request, user=cast.software_admin)
    step = ApprovalStep.objects.get(request=request, status="pending")
    document = contract_with_document(cast.it_admin, subscription, number="HT-2027-001")
    # A row on the exchange-rates page (its table stacks into cards on phones).
    CurrencyRate.objects.create(currency="USD", rate_to_base=Decimal("7.2345"), valid_from=today)
    return Scene(request=request, step=step, contract_pk=document.contract_id)


def main_pages(user: User, cast: Cast, scene: Scene) -> list[str]:
    """The role's main pages that it may open (the menu's rule decides, as for the links)."""
    may = {item.key for item in NAVIGATION if item.visible_to(user)}
    pages = ["/"]
    if "subscriptions" in may:
        pages += ["/subscriptions/", f"/subscriptions/{cast.subscription_a.pk}/"]
    if "requests" in may:
        pages += ["/requests/", f"/requests/{scene.request.pk}/"]
    if "approvals" in may:
        pages.append("/approvals/")
    if "budgets" in may:
        pages += ["/budgets/", f"/budgets/{cast.budget_a.pk}/"]
    if "contracts" in may:
        pages += ["/contracts/", f"/contracts/{scene.contract_pk}/"]
    if "calendar" in may:
        pages.append("/calendar/")
    if "briefings" in may:
        pages.append("/briefings/")
    if "suggestions" in may:
        pages.append("/suggestions/")
    if "rates" in may:
        pages.append("/exchange-rates/")
    if "tiers" in may:
        pages.append("/approval-tiers/")  # its table stacks into cards on phones
    return pages


def signed_in_page(browser: object, live_server: object, user: User, language: str) -> object:
    """A tab signed in as the user (the session made by Django's test client), in the language.
    bypass_csp lets add_script_tag inject axe-core; the app's own scripts are all files."""
    assert AXE.exists(), f"{AXE} is missing: `python3 dev.py test` installs it (npm ci)"
    client = Client()
    client.force_login(user)
    base = live_server.url  # type: ignore[attr-defined]
    context = browser.new_context(bypass_csp=True, locale="zh-CN")  # type: ignore[attr-defined]
    context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": base},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base},
        ]
    )  # fmt: skip
    return context.new_page()


ROLES = ["it_admin", "finance", "head_a", "software_admin", "auditor", "employee"]


@pytest.mark.parametrize("role", ROLES)
def test_main_pages_fit_every_width_and_pass_axe(
    browser: object, live_server: object, cast: Cast, scene: Scene, role: str
) -> None:
    user = getattr(cast, role)
    base = live_server.url  # type: ignore[attr-defined]
    problems: list[str] = []
    page_errors: list[str] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for language in ("zh-hans", "en"):
        page = signed_in_page(browser, live_server, user, language)
        page.on("pageerror", lambda e: page_errors.append(str(e)))  # type: ignore[attr-defined]
        for path in main_pages(user, cast, scene):
            page.set_viewport_size({"width": 390, "height": 800})  # type: ignore[attr-defined]
            response = page.goto(base + path)  # type: ignore[attr-defined]
            assert response.status == 200, (path, response.status)
            assert page.get_attribute("html", "lang") == language  # type: ignore[attr-defined]
            page.add_script_tag(path=str(AXE))  # type: ignore[attr-defined]
            widths = NAVBAR_WIDTHS if path == "/" else WIDTHS
            for width in widths:
                page.set_viewport_size({"width": width, "height": 800})  # type: ignore[attr-defined]
                page.evaluate(NEXT_FRAMES_JS)  # type: ignore[attr-defined]
                for line in page.evaluate(OVERFLOW_JS):  # type: ignore[attr-defined]
                    problems.append(f"{language} {path} at {width}px: {line}")
                if width == 390 and path in ("/approvals/", f"/requests/{scene.request.pk}/"):
                    name = f"{role}-{language}-{path.strip('/').split('/')[0]}.png"
                    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)  # type: ignore[attr-defined]
                # axe at the phone's width (the folded menu, stacked cards) and the widest.
                if width in (widths[0], widths[-1]):
                    for line in page.evaluate(AXE_JS):  # type: ignore[attr-defined]
                        problems.append(f"{language} {path} at {width}px axe: {line}")
        page.context.close()  # type: ignore[attr-defined]
    assert not page_errors, page_errors
    assert not problems, "\n".join(problems)


def test_the_navbar_keeps_the_bell_and_user_menu_on_screen_in_english(
    browser: object, live_server: object, cast: Cast
) -> None:
    """The widest menu (the IT admin's) in English: at every laptop width the bell and the user
    menu are inside the window, or folded behind a visible toggler."""
    page = signed_in_page(browser, live_server, cast.it_admin, "en")
    base = live_server.url  # type: ignore[attr-defined]
    page.goto(base + "/")  # type: ignore[attr-defined]
    for width in (1200, 1280, 1366, 1400, 1440, 1536, 1600, 1700, 1920):
        page.set_viewport_size({"width": width, "height": 800})  # type: ignore[attr-defined]
        toggler = page.locator(".navbar-toggler")  # type: ignore[attr-defined]
        if toggler.is_visible():
            continue
        for testid in ("notification-bell", "user-menu"):
            box = page.get_by_test_id(testid).bounding_box()  # type: ignore[attr-defined]
            assert box and box["x"] + box["width"] <= width, (width, testid, box)
        nav = page.get_by_test_id("main-nav").bounding_box()  # type: ignore[attr-defined]
        assert nav and nav["height"] < 60, (width, nav)  # one line
    page.context.close()  # type: ignore[attr-defined]


def test_the_inbox_works_with_the_keyboard_and_focus_is_visible(
    browser: object, live_server: object, cast: Cast, scene: Scene
) -> None:
    """Tab to the row's comment box, type, Tab to Approve (its focus ring visible), Enter: the
    decision is recorded with the comment."""
    page = signed_in_page(browser, live_server, cast.head_a, "zh-hans")
    base = live_server.url  # type: ignore[attr-defined]
    page.set_viewport_size({"width": 390, "height": 800})  # type: ignore[attr-defined]
    page.goto(base + "/approvals/")  # type: ignore[attr-defined]
    target = f'[data-testid=inbox-decision] input[name=step][value="{scene.step.pk}"]'
    page.wait_for_selector(target, state="attached")  # type: ignore[attr-defined]
    # Usable at 390 px without scrolling sideways: the comment box is wide, the three buttons
    # and the subscription's name are on screen (it used to wrap one character per line).
    form = page.get_by_test_id("inbox-decision").first  # type: ignore[attr-defined]
    comment = form.locator("input[name=comment]").bounding_box()
    assert comment and comment["width"] >= 200 and comment["x"] + comment["width"] <= 390, comment
    for decision in ("approve", "return", "reject"):
        box = form.locator(f"button[value={decision}]").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (decision, box)
    # Without the header row, each value says what it is ("金额（元） 10,000.00").
    amount_label = page.evaluate(  # type: ignore[attr-defined]
        "() => getComputedStyle(document.querySelector('[data-testid=inbox] td.text-end'),"
        " '::before').content"
    )
    assert "金额" in amount_label, amount_label
    name = page.get_by_text(scene.request.subscription.product).first.bounding_box()  # type: ignore[attr-defined]
    assert name and name["width"] >= 100 and name["x"] + name["width"] <= 390, name
    for _ in range(80):
        page.keyboard.press("Tab")  # type: ignore[attr-defined]
        if page.evaluate(  # type: ignore[attr-defined]
            "(sel) => document.activeElement.name === 'comment' && "
            "document.activeElement.form && !!document.activeElement.form.querySelector(sel)",
            target.split(" ", 1)[1],
        ):
            break
    else:
        pytest.fail("Tab never reached the row's comment box")
    page.keyboard.type("同意，按原方案续费")  # type: ignore[attr-defined]
    page.keyboard.press("Tab")  # type: ignore[attr-defined]
    focused = page.evaluate(  # type: ignore[attr-defined]
        "() => { const e = document.activeElement, s = getComputedStyle(e);"
        " return {value: e.value, outline: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }"
    )
    assert focused["value"] == "approve", focused
    assert focused["outline"] != "none" and focused["width"] >= 2, focused  # focus is visible
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.get_by_test_id("inbox-result").wait_for()  # type: ignore[attr-defined]
    scene.step.refresh_from_db()
    assert scene.step.status == "approved"
    assert scene.step.comment == "同意，按原方案续费"
    assert scene.step.decided_by == cast.head_a
    # The request's quotes at 390 px: what each quote is stays readable (the table scrolls inside
    # its box; the page does not).
    page.goto(f"{base}/requests/{scene.request.pk}/")  # type: ignore[attr-defined]
    quote = page.get_by_test_id("quote-row").first.locator("td").first.bounding_box()  # type: ignore[attr-defined]
    assert quote and quote["width"] >= 200 and quote["x"] + quote["width"] <= 390, quote
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # type: ignore[attr-defined]
    page.context.close()  # type: ignore[attr-defined]
