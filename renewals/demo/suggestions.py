"""Demo data of the reports part (#8) that belongs to the savings suggestions: a few suggestions
in every state, one accepted and realised (it shows on the KPI dashboard's realised savings).
No clean-up campaign is opened: opening one is what a demo user should try."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from org.models import User
from renewals.inventory.models import Subscription
from renewals.suggestions import selectors, services
from renewals.suggestions.models import Suggestion

# (author, department code, title, details, estimated yearly saving, what IT did)
DEMO_SUGGESTIONS = [
    ("swadmin_rd", "rd", "下次续费时减少 5 个闲置席位",
     "过去三个月有 5 个账号从未登录，建议续费时按实际使用人数采购。", "6000.00", "realised"),
    ("head_mkt", "mkt", "改用团队版替代企业版",
     "市场部只用到基础协作功能，企业版的高级审计功能无人使用。", "12000.00", "accepted"),
    ("employee", "sales", "合并两个在线会议工具",
     "销售部同时在用两个会议工具，功能重复。", "8000.00", "declined"),
    ("head_rd", "rd", "年付改为三年合同锁定价格",
     "供应商承诺三年合同单价下浮 10%。", "15000.00", "submitted"),
]  # fmt: skip


def demo_suggestions(*, today: dt.date | None = None) -> int:
    """Create the demo suggestions once (idempotent by title); returns how many are new."""
    today = today or timezone.localdate()
    admin = User.objects.get(username="admin")
    created = 0
    for username, code, title, details, saving, outcome in DEMO_SUGGESTIONS:
        if Suggestion.objects.filter(title=title).exists():
            continue
        author = User.objects.filter(username=username).first()
        subscription = (
            Subscription.objects.filter(department__code=code).order_by("-unit_price").first()
        )
        if author is None or subscription is None:
            continue
        if not selectors.suggestable_subscriptions(author).filter(pk=subscription.pk).exists():
            # The employee suggests on a tool they hold a seat of.
            subscription = selectors.suggestable_subscriptions(author).order_by("pk").first()
            if subscription is None:
                continue
        suggestion = services.suggestion_submit(
            user=author, subscription=subscription, title=title, details=details,
            estimated_saving=Decimal(saving),
        )  # fmt: skip
        if outcome in ("accepted", "realised"):
            services.suggestion_decide(suggestion=suggestion, user=admin, accept=True)
        elif outcome == "declined":
            services.suggestion_decide(
                suggestion=suggestion, user=admin, accept=False,
                note="两个工具分别绑定不同客户的合同，年内无法合并。",
            )  # fmt: skip
        if outcome == "realised":
            services.suggestion_realise(
                suggestion=suggestion, user=admin, realised_saving=Decimal("5000.00"),
                realised_on=today - dt.timedelta(days=20),
            )  # fmt: skip
        created += 1
    return created
