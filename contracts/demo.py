"""Demo contracts, so the archive, its search and the subscriptions' contract-trap panel show
something on a fresh demo: a few signed agreements for demo subscriptions, each with a real PDF
(rendered by WeasyPrint) stored and text-extracted through the same services users go through.

禅道's contract is stored as a scan (its text read by OCR); Jira's renews at the then-current
price list with sixty days' notice: the contract traps the archive flags.

Idempotent: a contract already on file (same counterparty and number) is left alone, and a
document is only uploaded to a contract that has none. 飞书项目 also gets the two-year contract
signed a year earlier, which the current one (an upgrade) supersedes.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from contracts import services
from contracts.models import Contract
from contracts.terms.services import terms_refresh
from core.pdf import render_pdf
from org.models import User
from renewals.inventory.models import Subscription
from renewals.inventory.selectors import with_figures

BUYER = "示例科技有限公司"


@dataclass(frozen=True)
class DemoContract:
    product: str
    prefix: str
    counterparty: str
    notice_days: int
    price_cap: str | None
    auto_renew_clause: str
    price_terms: str
    payment_terms: str
    tags: tuple[str, ...]
    scanned: bool = False  # stored as a scan (image pages): its text is read by OCR


CONTRACTS = [
    DemoContract(
        "飞书项目", "FS", "北京飞书科技有限公司", 30, "5",
        "本合同期满前三十日内，任何一方未以书面形式通知对方终止的，本合同自动续约一年，"
        "续约期内的服务内容与价格条款不变。",
        "按席位计费，每席位每年人民币 480 元。", "甲方应于合同签署后十五个工作日内一次性支付全部价款。",
        ("项目管理", "自动续约"),
    ),
    DemoContract(
        "Jira Software", "ATL", "Atlassian Pty Ltd", 60, "7",
        "除非任何一方在服务期满前六十日书面通知不再续订，订阅将按当时有效的价目自动续订十二个月。",
        "按月订阅，每用户每月 8.60 美元，按实际开通账号数结算。", "按月预付，以美元结算，汇率以付款当日中国银行牌价为准。",
        ("研发", "境外供应商"),
    ),
    DemoContract(
        "禅道", "ZT", "青岛易软天创网络科技有限公司", 30, None,
        "本合同为一次性买断授权，另含一年维护服务；维护期满后如需继续维护，双方另行签订维护合同，不自动续约。",
        "永久授权费按用户数一次性收取，维护费为授权费的百分之二十每年。", "合同签署后支付百分之七十，验收合格后支付百分之三十。",
        ("研发", "永久授权"), scanned=True,
    ),
    DemoContract(
        "Teambition", "TB", "阿里云计算有限公司", 15, "10",
        "服务期满前十五日甲方未提出异议的，本服务自动续费一年，费用从甲方阿里云账户扣除。",
        "企业版，每席位每年人民币 365 元。", "通过阿里云账户预付，开具增值税专用发票。",
        ("项目管理", "自动续约"),
    ),
    DemoContract(
        "钉钉专业版", "DD", "钉钉（中国）信息技术有限公司", 30, "3",
        "合同期满前三十日双方均未书面提出终止的，合同自动续约三年，续约价格按本合同价格上浮不超过百分之三。",
        "专业版三年套餐，人民币 9800 元每年。", "每年服务期开始前十个工作日内支付当年费用。",
        ("办公协同", "多年合同", "自动续约"),
    ),
]  # fmt: skip


def _subscription(spec: DemoContract, taken: set[int], today: dt.date) -> Subscription | None:
    """The subscription an earlier run gave this contract to; else an active demo subscription
    of the product whose term is running, auto-renewing ones first (they are the ones the
    contract-trap panel is about)."""
    earlier = (
        Contract.objects.filter(
            counterparty=spec.counterparty, number__startswith=f"{spec.prefix}-"
        )
        .select_related("subscription__vendor", "subscription__department")
        .first()
    )
    if earlier is not None:
        return earlier.subscription
    return (
        Subscription.objects.filter(
            product=spec.product,
            status=Subscription.Status.ACTIVE,
            term_start__lte=today,
            term_end__gte=today,
        )  # fmt: skip
        .exclude(pk__in=taken)
        .select_related("vendor", "department")
        .order_by("-auto_renew", "ref")
        .first()
    )


def _pdf(contract: Contract, spec: DemoContract, subscription: Subscription) -> bytes:
    title = f"{subscription.product}软件订阅服务合同"
    with translation.override("zh-hans"):
        return render_pdf(
            "contracts/pdf/demo_contract.html",
            {
                "title": title, "number": contract.number, "buyer": BUYER,
                "counterparty": contract.counterparty, "product": subscription.product,
                "edition": subscription.edition, "department": subscription.department.name,
                "seats": contract.seats, "valid_from": contract.valid_from,
                "valid_to": contract.valid_to, "signed_on": contract.signed_on,
                "currency": contract.currency, "total_value": contract.total_value,
                "price_terms": spec.price_terms, "payment_terms": spec.payment_terms,
                "auto_renew_clause": contract.auto_renew_clause, "price_cap": spec.price_cap,
            },
        )  # fmt: skip


def _ensure(
    *, user: User, spec: DemoContract, subscription: Subscription, start: dt.date, end: dt.date
) -> Contract:
    number = f"{spec.prefix}-{start:%Y%m}-{subscription.pk:04d}"
    contract = Contract.objects.filter(counterparty=spec.counterparty, number=number).first()
    if contract is None:
        # The contract's value in its own currency (the subscription's): seats and priced
        # modules per billing period, times the periods of a year, times the years it runs.
        figures = with_figures(Subscription.objects.filter(pk=subscription.pk)).get()
        periods = getattr(figures, "periods", None) or Decimal(1)
        cost = (subscription.seats_purchased * subscription.unit_price + figures.modules_cost) * (
            periods
        )
        years = max(1, round((end - start).days / 365))
        contract = services.contract_save(
            user=user,
            subscription=subscription,
            data={
                "number": number, "counterparty": spec.counterparty,
                "signed_on": start - dt.timedelta(days=12), "valid_from": start, "valid_to": end,
                "seats": subscription.seats_purchased,
                "total_value": (cost * years).quantize(Decimal("0.01")),
                "currency": subscription.currency, "price_terms": spec.price_terms,
                "auto_renew": subscription.auto_renew,
                "auto_renew_clause": spec.auto_renew_clause,
                "notice_period_days": spec.notice_days,
                "price_cap_percent": Decimal(spec.price_cap) if spec.price_cap else None,
                "payment_terms": spec.payment_terms, "tags": list(spec.tags),
                "status": Contract.Status.ACTIVE,
            },
        )  # fmt: skip
    if not contract.documents.exists():
        body = _pdf(contract, spec, subscription)
        name = f"{contract.number}.pdf"
        if spec.scanned:
            body, name = scanned(body), f"{contract.number}-扫描件.pdf"
        upload = SimpleUploadedFile(name, body, "application/pdf")
        document = services.document_upload(
            contract=contract, user=user, upload=upload, kind="main"
        )
        # Read now rather than waiting for a worker, so search finds it right after seeding and
        # its key terms and traps are on the contract page.
        services.document_extract_text(document_id=document.pk)
        terms_refresh(document_id=document.pk)
    return contract


def scanned(pdf: bytes, dpi: int = 150) -> bytes:
    """The PDF as a scan would be: each page an image (greyscale JPEG), no text layer."""
    import pypdfium2

    pages = []
    document = pypdfium2.PdfDocument(pdf)
    for page in document:
        image = page.render(scale=dpi / 72).to_pil().convert("L")
        pages.append(image)
    out = io.BytesIO()
    pages[0].save(out, "PDF", resolution=dpi, save_all=True, append_images=pages[1:], quality=80)
    return out.getvalue()


def seed_contracts(*, user: User, today: dt.date) -> int:
    """The demo contracts (see the module docstring); returns how many are on file."""
    taken: set[int] = set()
    count = 0
    for spec in CONTRACTS:
        subscription = _subscription(spec, taken, today)
        if subscription is None:
            continue
        taken.add(subscription.pk)
        start, end = subscription.term_start, subscription.term_end
        if spec.prefix == "FS":
            # A two-year contract on the standard edition, replaced after a year by the current
            # one (upgrade): saving the current one supersedes it.
            previous = start - dt.timedelta(days=365)
            _ensure(user=user, spec=spec, subscription=subscription, start=previous,
                    end=previous + dt.timedelta(days=2 * 365 - 1))  # fmt: skip
            count += 1
        _ensure(user=user, spec=spec, subscription=subscription, start=start, end=end)
        count += 1
    return count
