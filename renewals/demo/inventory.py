"""Demo inventory as CSV files, relative to today: ~60 subscriptions across the demo departments,
seats, 12 months of usage and account activity. ``seed_demo`` imports them through the same
import engine users use; ``demo_csvs`` writes them out for trying the import pages by hand.

Built in on purpose: idle seats in most subscriptions, one clearly under-used paid module
(Jira "Advanced Roadmaps" in 研发中心), exactly two people who left the company but still hold
seats, and overlapping tools (``categorise``): nine project-management tools (飞书项目, Jira,
Asana, ClickUp, Monday.com, Zoho Projects, Teambition, Tower, 禅道) across the departments, two
chat suites (钉钉, 企业微信), and products bought by several departments (WPS 365 and 飞书项目 in
almost every one, Jira in 研发中心, 质量保障 and IT).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field

from org.models import Person
from renewals.inventory.models import Subscription
from renewals.inventory.models.subscriptions import Category


@dataclass(frozen=True)
class Product:
    vendor: str
    product: str
    edition: str
    currency: str
    unit_price: str
    billing: str
    modules: tuple[tuple[str, str | None], ...] = ()  # (name, price per seat per period)
    tags: tuple[str, ...] = ()


CATALOGUE = [
    Product(
        "飞书",
        "飞书项目",
        "企业版",
        "CNY",
        "480.00",
        "annual",
        (("甘特图", None), ("自动化", "120.00")),
        ("项目管理",),
    ),
    Product(
        "Atlassian",
        "Jira Software",
        "Standard",
        "USD",
        "8.60",
        "monthly",
        (("Advanced Roadmaps", "3.50"), ("Mobile", None)),
        ("项目管理", "研发"),
    ),
    Product("Atlassian", "Confluence", "Standard", "USD", "6.40", "monthly", (), ("文档",)),
    Product(
        "Asana",
        "Asana",
        "Business",
        "USD",
        "299.88",
        "annual",
        (("Portfolios", None),),
        ("项目管理",),
    ),
    Product(
        "ClickUp",
        "ClickUp",
        "Business",
        "USD",
        "12.00",
        "monthly",
        (("Automations", None),),
        ("项目管理",),
    ),
    Product(
        "monday.com",
        "Monday.com Work Management",
        "Pro",
        "USD",
        "228.00",
        "annual",
        (),
        ("项目管理",),
    ),
    Product("Zoho", "Zoho Projects", "Premium", "USD", "60.00", "annual", (), ("项目管理",)),
    Product(
        "阿里巴巴",
        "Teambition",
        "企业版",
        "CNY",
        "365.00",
        "annual",
        (("甘特图", "60.00"),),
        ("项目管理",),
    ),
    Product("彩程设计", "Tower", "专业版", "CNY", "299.00", "annual", (), ("项目管理",)),
    Product("禅道软件", "禅道", "企业版", "CNY", "1500.00", "perpetual", (), ("研发", "项目管理")),
    Product("钉钉", "钉钉专业版", "专业版", "CNY", "9800.00", "multi_year", (), ("协同",)),
    Product("腾讯", "企业微信", "高级版", "CNY", "120.00", "annual", (), ("协同",)),
    Product(
        "金山办公",
        "WPS 365",
        "商业版",
        "CNY",
        "39.00",
        "quarterly",
        (("PDF 编辑", "15.00"),),
        ("办公",),
    ),
    Product("Figma", "Figma", "Organization", "USD", "45.00", "monthly", (), ("设计",)),
    Product(
        "GitHub",
        "GitHub",
        "Enterprise",
        "USD",
        "21.00",
        "monthly",
        (("Copilot", "19.00"),),
        ("研发",),
    ),
    Product("Salesforce", "Sales Cloud", "Enterprise", "USD", "165.00", "monthly", (), ("销售",)),
    Product("用友", "用友 YonSuite 财务", "标准版", "CNY", "3600.00", "annual", (), ("财务",)),
    Product("北森", "北森 iTalent", "专业版", "CNY", "240.00", "annual", (), ("人事",)),
]

# The category of each catalogue product (by index): the import has no category column, so
# ``categorise`` sets them once the subscriptions are imported.
CATEGORIES = (
    Category.PROJECT, Category.PROJECT, Category.DOCUMENTS, Category.PROJECT, Category.PROJECT,
    Category.PROJECT, Category.PROJECT, Category.PROJECT, Category.PROJECT, Category.PROJECT,
    Category.COMMUNICATION, Category.COMMUNICATION, Category.OFFICE, Category.DESIGN,
    Category.DEVELOPMENT, Category.CRM, Category.FINANCE, Category.HR,
)  # fmt: skip

# Which products each demo department uses (department code -> catalogue indexes).
DEPARTMENT_PRODUCTS = {
    "hq": [0, 11, 12, 10, 3, 8],
    "rd": [1, 2, 14, 9, 0, 13, 12],
    "rd-qa": [1, 9, 2, 12, 7, 4],
    "pmo": [0, 3, 5, 6, 7, 8, 12],
    "mkt": [5, 13, 4, 11, 12, 0, 6],
    "sales": [15, 11, 12, 8, 0, 3],
    "fin": [16, 12, 11, 0, 8, 6],
    "hr": [17, 12, 11, 0, 7, 3],
    "it": [1, 2, 14, 4, 12, 11, 10, 5],
}
UNDERUSED = ("rd", 1, "Advanced Roadmaps")  # department, product, module
# The demo user without a role holds seats of these tools of their department (catalogue
# indexes), active lately, so their "My software" page has content.
EMPLOYEE_USER = "employee"
EMPLOYEE_TOOLS = (11, 12, 0)


@dataclass
class DemoFiles:
    subscriptions: list[dict[str, object]] = field(default_factory=list)
    seats: list[dict[str, object]] = field(default_factory=list)
    usage: list[dict[str, object]] = field(default_factory=list)
    activity: list[dict[str, object]] = field(default_factory=list)

    def csv(self, kind: str) -> str:
        rows = getattr(self, kind)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()


def _months_back(today: dt.date, count: int) -> list[dt.date]:
    first = today.replace(day=1)
    months = []
    for i in range(count, 0, -1):
        index = first.year * 12 + first.month - 1 - i
        months.append(dt.date(index // 12, index % 12 + 1, 1))
    return months


# Days a demo term lasts, by billing cycle.
TERM_DAYS = {"monthly": 365, "quarterly": 365, "annual": 365, "multi_year": 1095, "perpetual": 365}

Employee = tuple[str, str] | None  # (employee number, department code) of the demo employee


def build(*, today: dt.date, owners: dict[str, str]) -> DemoFiles:
    """The demo inventory for the demo organisation (people must exist already)."""
    rng = random.Random(20261126)  # noqa: S311 - demo data
    files = DemoFiles()
    by_department, leavers, employee = _people()
    months = _months_back(today, 12)
    employee_tools = {(employee[1], i) for i in EMPLOYEE_TOOLS} if employee else set()
    n = 0
    for dept, indexes in DEPARTMENT_PRODUCTS.items():
        staff = by_department.get(dept, [])
        for index in indexes:
            product = CATALOGUE[index]
            n += 1
            ref = f"SUB-{n:04d}"
            holders = (
                rng.sample(staff, k=max(1, int(len(staff) * rng.uniform(0.5, 1.0))))
                if staff
                else []
            )
            # Not drawn from rng, so the rest of the demo stays what it was.
            extra = [employee[0]] if employee and (dept, index) in employee_tools else []
            seats_purchased = len(holders) + len(extra) + rng.randint(0, 4)
            files.subscriptions.append(
                _subscription(
                    rng, ref=ref, product=product, dept=dept, owner=owners.get(dept, "admin"),
                    seats=seats_purchased, today=today,
                )
            )  # fmt: skip
            module_names = [m for m, _price in product.modules]
            _add_seats(files, rng, ref=ref, module_names=module_names, holders=holders, today=today)
            _add_employee_seats(files, ref=ref, module_names=module_names, extra=extra, today=today)
            _add_usage(
                files, rng, ref=ref, underused=(dept, index), module_names=module_names,
                holders=holders, months=months,
            )  # fmt: skip
    _add_leaver_seats(files, leavers=leavers, today=today)
    return files


def categorise() -> int:
    """Give the demo subscriptions without a category their product's (after the import);
    how many were given one."""
    given = 0
    for product, category in zip(CATALOGUE, CATEGORIES, strict=True):
        given += Subscription.objects.filter(
            vendor__name=product.vendor, product=product.product, category=""
        ).update(category=category)
    return given


def _people() -> tuple[dict[str, list[str]], list[str], Employee]:
    """Active demo people by department, the people who left, and the demo employee."""
    people = list(
        Person.objects.filter(employee_no__startswith="E")
        .order_by("employee_no")
        .values_list("employee_no", "department__code", "status", "left_on")
    )
    by_department: dict[str, list[str]] = {}
    for no, dept, status, _left in people:
        if status == "active":
            by_department.setdefault(dept, []).append(no)
    leavers = [no for no, _d, status, _left in people if status == "left"]
    employee = (
        Person.objects.filter(user__username=EMPLOYEE_USER)
        .values_list("employee_no", "department__code")
        .first()
    )
    return by_department, leavers, employee


def _subscription(
    rng: random.Random,
    *,
    ref: str,
    product: Product,
    dept: str,
    owner: str,
    seats: int,
    today: dt.date,
) -> dict[str, object]:
    """One row of demo-subscriptions.csv (its term ends between 20 days ago and in 300 days)."""
    term_days = TERM_DAYS[product.billing]
    term_end = today + dt.timedelta(days=rng.randint(-20, 300))
    auto_renew = rng.random() < 0.45
    return {
        "ref": ref,
        "vendor": product.vendor,
        "product": product.product,
        "edition": product.edition,
        "department": dept,
        "owner": owner,
        "seats": seats,
        "unit_price": product.unit_price,
        "currency": product.currency,
        "billing_cycle": product.billing,
        "term_start": (term_end - dt.timedelta(days=term_days)).isoformat(),
        "term_end": term_end.isoformat(),
        "auto_renew": "yes" if auto_renew else "no",
        "notice_period_days": rng.choice([30, 30, 45, 60]),
        "status": "expired" if term_end < today else "active",
        "tags": ";".join(product.tags),
        "notes": "",
        "modules": ";".join(f"{m}={p}" if p else m for m, p in product.modules),
    }


def _add_seats(
    files: DemoFiles,
    rng: random.Random,
    *,
    ref: str,
    module_names: list[str],
    holders: list[str],
    today: dt.date,
) -> None:
    """The holders' seats and account activity; a few of them idle for two months or more."""
    idle_share = rng.uniform(0.05, 0.2)
    for holder in holders:
        idle = rng.random() < idle_share
        last = today - dt.timedelta(days=rng.randint(65, 200) if idle else rng.randint(0, 12))
        files.seats.append(
            {
                "subscription": ref,
                "employee_no": holder,
                "account": f"{holder.lower()}@demo-corp.example",
                "modules": ";".join(module_names),
                "assigned_on": (today - dt.timedelta(days=rng.randint(200, 700))).isoformat(),
                "revoked_on": "",
                "last_active_on": last.isoformat(),
            }
        )
        files.activity.append(
            {"subscription": ref, "account": holder, "last_active_on": last.isoformat()}
        )


def _add_employee_seats(
    files: DemoFiles, *, ref: str, module_names: list[str], extra: list[str], today: dt.date
) -> None:
    """The demo employee's seat, active yesterday (nothing drawn from rng)."""
    for holder in extra:
        last = today - dt.timedelta(days=1)
        files.seats.append(
            {
                "subscription": ref,
                "employee_no": holder,
                "account": f"{holder.lower()}@demo-corp.example",
                "modules": ";".join(module_names),
                "assigned_on": (today - dt.timedelta(days=400)).isoformat(),
                "revoked_on": "",
                "last_active_on": last.isoformat(),
            }
        )
        files.activity.append(
            {"subscription": ref, "account": holder, "last_active_on": last.isoformat()}
        )


def _add_usage(
    files: DemoFiles,
    rng: random.Random,
    *,
    ref: str,
    underused: tuple[str, int],
    module_names: list[str],
    holders: list[str],
    months: list[dt.date],
) -> None:
    """Monthly usage of the subscription and of each of its modules (``underused`` is the
    subscription's department and catalogue index, matched against ``UNDERUSED``)."""
    for month in months:
        active = max(0, int(len(holders) * rng.uniform(0.7, 0.95)))
        files.usage.append(
            {
                "subscription": ref, "module": "", "month": month.strftime("%Y-%m"),
                "active_users": active, "tasks_created": active * rng.randint(8, 20),
                "tasks_completed": active * rng.randint(6, 16),
            }
        )  # fmt: skip
        for module in module_names:
            is_underused = (*underused, module) == UNDERUSED
            share = rng.uniform(0.08, 0.2) if is_underused else rng.uniform(0.45, 0.9)
            files.usage.append(
                {
                    "subscription": ref, "module": module, "month": month.strftime("%Y-%m"),
                    "active_users": int(len(holders) * share), "tasks_created": "",
                    "tasks_completed": "",
                }
            )  # fmt: skip


def _add_leaver_seats(files: DemoFiles, *, leavers: list[str], today: dt.date) -> None:
    """Two people who left still hold seats (a security finding); the seats were never revoked.
    A subscription with no free seat for them had one more seat bought (the purchased count is
    a hard limit)."""
    for leaver, row in zip(leavers[:2], files.subscriptions[1::17], strict=False):
        held = sum(1 for seat in files.seats if seat["subscription"] == row["ref"])
        row["seats"] = max(int(str(row["seats"])), held + 1)
        files.seats.append(
            {
                "subscription": row["ref"],
                "employee_no": leaver,
                "account": f"{leaver.lower()}@demo-corp.example",
                "modules": "",
                "assigned_on": (today - dt.timedelta(days=500)).isoformat(),
                "revoked_on": "",
                "last_active_on": (today - dt.timedelta(days=90)).isoformat(),
            }
        )
