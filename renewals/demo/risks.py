"""Demo risk register: the generated risks of the demo data (the two leavers who still hold
seats raise account-chaos risks) plus two risks entered by hand. Idempotent."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from org.models import Department, User
from renewals.risks.models import Risk, RiskCategory
from renewals.risks.services import RefreshResult, add_quarter, risks_refresh

MANUAL = [
    # (title, category, department code or None, likelihood, impact, mitigation)
    (
        "核心研发工具集中于单一供应商（Atlassian）",
        RiskCategory.VENDOR_LOCK_IN,
        "rd",
        3,
        4,
        "每年评估一次替代方案（飞书项目、禅道），保留数据导出脚本并演练迁移。",
    ),
    (
        "客户资料存放在个人网盘账号中",
        RiskCategory.DATA_SECURITY,
        None,
        2,
        5,
        "统一使用企业网盘，离职交接清单中加入网盘账号回收。",
    ),
]


def build(*, today: dt.date | None = None) -> RefreshResult:
    """Run the generator, then add the manual risks once (found again by title)."""
    today = today or timezone.localdate()
    result = risks_refresh(today=today)
    creator = User.objects.filter(username="admin").first()  # the demo's IT admin
    for title, category, code, likelihood, impact, mitigation in MANUAL:
        department = Department.objects.filter(code=code).first() if code else None
        owner = department.heads.order_by("pk").first() if department else creator
        Risk.objects.get_or_create(
            title=title,
            rule="",
            defaults={
                "category": category, "department": department, "likelihood": likelihood,
                "impact": impact, "owner": owner, "mitigation": mitigation,
                "status": Risk.Status.MITIGATING, "created_by": creator,
                "next_review_on": add_quarter(today.replace(day=1)),
            },
        )  # fmt: skip
    return result
