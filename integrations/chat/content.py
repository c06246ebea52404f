"""What a card says (``integrations.chat.platform.Card``), worked out when it is sent or updated,
in its recipient's language: an approval step's figures and buttons, or a notice's words; and
after a decision, the outcome in place of the buttons."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from budgets.models import Budget
from budgets.selectors import balance
from core.money import format_money
from integrations.chat.models import ChatCard
from integrations.chat.platform import Button, Card
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.requests import RenewalRequest
from renewals.requests.selectors.requests import tier_for

# The preset comments of platforms whose cards take no text (WeCom): id, label.
REASONS = (
    ("price", gettext_noop("The price is too high")),
    ("seats", gettext_noop("Fewer seats would do")),
    ("need", gettext_noop("The need is not shown")),
    ("info", gettext_noop("More information is needed")),
)


def language_of(card: ChatCard) -> str:
    return card.recipient.language or settings.LANGUAGE_CODE


def card_for(card: ChatCard) -> Card:
    """The card as it should look now."""
    with translation.override(language_of(card)):
        if card.topic == ChatCard.Topic.NOTICE:
            return _notice(card)
        return _approval(card)


def _cny(amount: Decimal | None) -> str:
    if amount is None:
        return "—"
    return f"{format_money(amount)} {settings.BASE_CURRENCY}"


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _notice(card: ChatCard) -> Card:
    notice = card.notice or {}
    url = str(notice.get("url") or "")
    return Card(
        key=card.key,
        recipient_id=card.platform_id,
        other_ids=dict(card.other_ids or {}),
        language=language_of(card),
        title=str(notice.get("title") or "")[:200],
        text=str(notice.get("text") or "")[:2000],
        buttons=(Button("link", str(notice.get("action") or _("Open")), url=url, style="primary"),),
        state=ChatCard.State.INFO,
        url=url,
        value={"c": card.pk, "n": card.nonce},
    )


def _budget_line(request: RenewalRequest) -> tuple[str, str] | None:
    budget = Budget.objects.filter(department=request.department, year=request.budget_year).first()
    label = _("Budget %(year)s") % {"year": request.budget_year}
    if budget is None:
        return label, _("no budget for the year")
    available = balance(budget).available
    if request.status == RenewalRequest.Status.APPROVED:
        return label, _("%(after)s left after this commitment") % {"after": _cny(available)}
    after = available - (request.amount_base or Decimal(0))
    return label, _("%(before)s available → %(after)s after") % {
        "before": _cny(available),
        "after": _cny(after),
    }


def _usage_lines(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    if not evidence:
        return []
    lines = [
        (
            _("Usage"),
            _("%(active)s active of %(seats)s seats · %(idle)s idle")
            % {
                "active": evidence.get("active_users")
                if evidence.get("active_users") is not None
                else "—",
                "seats": evidence.get("seats_purchased", "—"),
                "idle": evidence.get("idle_seats") or 0,
            },
        )
    ]
    underused = [
        s["name"] for s in evidence.get("series", []) if s.get("underused") and s.get("name")
    ]
    language = translation.get_language() or settings.LANGUAGE_CODE
    texts = (evidence.get("recommendations") or {}).get(language) or []
    saving = sum((Decimal(str(r.get("saving") or 0)) for r in texts), Decimal(0))
    if underused or saving:
        lines.append(
            (
                _("Savings"),
                _("under-used: %(modules)s · could save %(saving)s a year")
                % {"modules": ", ".join(underused) or "—", "saving": _cny(saving)},
            )
        )
    return lines


def _quote_line(request: RenewalRequest) -> tuple[str, str] | None:
    quote = request.chosen_quote
    if quote is None:
        return None
    now = (request.evidence or {}).get("annual_cost")  # frozen, in the base currency
    return _("Quote"), _("%(quote)s: %(new)s a year (now %(now)s)") % {
        "quote": str(quote),
        "new": _cny(quote.total_1y_base),
        "now": _cny(Decimal(str(now))) if now not in (None, "") else "—",
    }


def figures(request: RenewalRequest, step: ApprovalStep) -> tuple[tuple[str, str], ...]:
    tier = tier_for(request.amount_base) if request.amount_base is not None else None
    amount = _cny(request.amount_base)
    if tier is not None:
        amount = _("%(amount)s · tier %(tier)s") % {"amount": amount, "tier": tier.name}
    if request.currency and request.currency != settings.BASE_CURRENCY and request.amount:
        amount += f" ({format_money(request.amount)} {request.currency})"
    rows: list[tuple[str, str] | None] = [
        (_("Purpose"), str(request.get_purpose_display())),
        (_("Amount"), amount),
        _budget_line(request),
        *_usage_lines(request.evidence or {}),
        _quote_line(request),
    ]
    return tuple(r for r in rows if r is not None)[:6]


def outcome_of(
    step: ApprovalStep, request: RenewalRequest, round_no: int | None
) -> tuple[str, str]:
    """(state, text) of a card whose step no longer waits (("open", "") while it does)."""
    S = ApprovalStep.Status
    if step.status == S.PENDING and request.round == round_no:
        return ChatCard.State.OPEN, ""
    if step.decided_by_id and step.status in (S.APPROVED, S.REJECTED, S.RETURNED):
        at = timezone.localtime(step.decided_at).strftime("%H:%M") if step.decided_at else ""
        text = {
            S.APPROVED: _("Approved by %(name)s at %(at)s"),
            S.REJECTED: _("Rejected by %(name)s at %(at)s"),
            S.RETURNED: _("Returned by %(name)s at %(at)s"),
        }[ApprovalStep.Status(step.status)] % {"name": step.decided_by, "at": at}
        if step.via:
            text += f" ({step.get_via_display()})"
        return ChatCard.State.DECIDED, text
    return ChatCard.State.CHANGED, _("The request changed since this card; open it on the web.")


def _approval(card: ChatCard) -> Card:
    step = card.step
    request = card.request
    assert step is not None and request is not None
    url = _site(reverse("renewals:request-detail", args=[request.pk]))
    state, outcome = card.state, ""
    if state != ChatCard.State.OPEN:
        # Worked out again in the recipient's language (the stored text is the site's).
        now_state, outcome = outcome_of(step, request, card.round)
        if now_state == ChatCard.State.OPEN:
            outcome = card.outcome
        else:
            state = now_state
    if state == ChatCard.State.OPEN:
        buttons: tuple[Button, ...] = (
            Button("approve", _("Approve"), style="primary"),
            Button("return", _("Return"), style="default"),
            Button("reject", _("Reject"), style="danger"),
            Button("link", _("Open on the web"), url=url),
        )
    else:
        buttons = (Button("link", _("Open on the web"), url=url),)
    steps = request.steps.filter(round=step.round).count()
    title = _("Renewal approval: %(subscription)s") % {"subscription": request.subscription}
    return Card(
        key=card.key,
        recipient_id=card.platform_id,
        other_ids=dict(card.other_ids or {}),
        language=language_of(card),
        title=title[:200],
        subtitle=_("Step %(position)s of %(steps)s: %(role)s · request #%(pk)s")
        % {
            "position": step.position,
            "steps": steps,
            "role": step.get_role_display(),
            "pk": request.pk,
        },
        fields=figures(request, step),
        text=(request.justification or "")[:500],
        buttons=buttons,
        reasons=tuple((key, _(label)) for key, label in REASONS),
        comment_label=_("Why? (needed to return or reject)"),
        outcome=outcome,
        state=state,
        url=url,
        value={"c": card.pk, "n": card.nonce},
        todo_title=_("Approve: %(subscription)s, %(amount)s")
        % {"subscription": request.subscription, "amount": _cny(request.amount_base)},
    )
