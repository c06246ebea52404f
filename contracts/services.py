"""Every write of the contract archive: contracts, their documents, terms applied to the
subscription, text extraction and the integrity check."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.mail import mail_admins, send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from contracts import search
from contracts.files import sniff
from contracts.models import Contract, ContractDocument, IntegrityCheck
from contracts.textread import TYPES as TEXT_TYPES
from contracts.textread import read_text
from core.filenames import clean_name
from org.models import User
from org.roles import Role, has_role
from renewals.inventory.models import Subscription

logger = logging.getLogger(__name__)

STORAGE_DIR = "private/contracts"
CONTRACT_FIELDS = (
    "number", "counterparty", "signed_on", "valid_from", "valid_to", "seats", "total_value",
    "currency", "price_terms", "auto_renew", "auto_renew_clause", "notice_period_days",
    "price_cap_percent", "payment_terms", "tags", "status",
)  # fmt: skip


def may_edit(user: Any) -> bool:
    """IT admins keep the archive; finance may too (it pays the contracts)."""
    return has_role(user, Role.IT_ADMIN, Role.FINANCE)


def _require_edit(user: Any) -> None:
    if not may_edit(user):
        raise PermissionDenied


@transaction.atomic
def contract_save(
    *,
    user: User,
    data: dict[str, Any],
    contract: Contract | None = None,
    subscription: Subscription | None = None,
    renewal_request: Any = None,
) -> Contract:
    """Create (for ``subscription``) or change a contract; its subscription never changes.

    Saving may supersede the subscription's older active contracts, or mark this one expired
    (contract_statuses_refresh)."""
    _require_edit(user)
    if contract is None:
        if subscription is None:
            raise ValidationError(_("Choose the subscription the contract is for."))
        contract = Contract(subscription=subscription, created_by=user)
        if renewal_request is not None and renewal_request.subscription_id == subscription.pk:
            contract.renewal_request = renewal_request
    # Race: two contracts of one subscription saved at once would each miss the other (neither
    # is committed yet) and both stay active. The subscription's row lock makes them take turns;
    # the second then sees the first and supersedes it (or is superseded).
    Subscription.objects.select_for_update().only("pk").get(pk=contract.subscription_id)
    for field in CONTRACT_FIELDS:
        if field in data:
            setattr(contract, field, data[field])
    contract.full_clean()
    contract.save()
    contract_statuses_refresh(subscription_id=contract.subscription_id)
    contract.refresh_from_db(fields=["status"])
    search_refresh(contract_id=contract.pk)
    return contract


def _supersedable(today: dt.date) -> Q:
    """Active contracts for which a newer active contract of the same subscription has already
    started (newer = later valid_from; the same day: added later)."""
    newer = Contract.objects.filter(
        subscription=OuterRef("subscription"),
        status=Contract.Status.ACTIVE,
        valid_from__lte=today,
        valid_to__gte=today,
    ).filter(
        Q(valid_from__gt=OuterRef("valid_from"))
        | Q(valid_from=OuterRef("valid_from"), pk__gt=OuterRef("pk"))
    )
    return Q(status=Contract.Status.ACTIVE) & Q(Exists(newer))


def contract_statuses_refresh(
    *, subscription_id: int | None = None, today: dt.date | None = None
) -> dict[str, int]:
    """Active contracts whose validity has ended become expired; an active contract becomes
    superseded once a newer active contract of its subscription has started. For one
    subscription (after a save, with its row locked) or, daily, for all (set-based; both only
    move a contract out of "active", so a save running at the same time cannot be undone)."""
    today = today or timezone.localdate()
    contracts = Contract.objects.all()
    if subscription_id is not None:
        contracts = contracts.filter(subscription_id=subscription_id)
    now = timezone.now()
    with transaction.atomic():
        expired = contracts.filter(status=Contract.Status.ACTIVE, valid_to__lt=today).update(
            status=Contract.Status.EXPIRED, updated_at=now
        )
        superseded = contracts.filter(_supersedable(today)).update(
            status=Contract.Status.SUPERSEDED, updated_at=now
        )
    return {"expired": expired, "superseded": superseded}


def search_refresh(*, contract_id: int) -> None:
    """Rebuild the contract's search tokens from its metadata and its documents' text."""
    contract = Contract.objects.select_related("subscription__vendor").get(pk=contract_id)
    parts = [
        contract.number, contract.counterparty, contract.price_terms, contract.auto_renew_clause,
        contract.payment_terms, " ".join(contract.tags), contract.subscription.product,
        contract.subscription.vendor.name,
    ]  # fmt: skip
    parts += list(contract.documents.values_list("original_name", flat=True))
    parts += list(contract.documents.values_list("text", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE contracts_contract SET search_vector = to_tsvector('simple', %s) WHERE id = %s",
            [search.tokens(" ".join(p for p in parts if p)), contract_id],
        )


# --- Documents ---------------------------------------------------------------------------------


def document_upload(*, contract: Contract, user: User, upload: Any, kind: str) -> ContractDocument:
    """Store one file: checked by content, hashed, written under a generated name outside the web
    root, and recorded; the row and the file exist together or not at all."""
    _require_edit(user)
    if kind not in ContractDocument.Kind.values:
        raise ValidationError(_("Choose what the document is."))
    if upload.size > settings.CONTRACT_MAX_BYTES:
        raise ValidationError(
            _("The file is larger than %(limit)s MB.")
            % {"limit": settings.CONTRACT_MAX_BYTES // (1024 * 1024)}
        )
    sniffed = sniff(upload)
    existing = ContractDocument.objects.filter(sha256=sniffed.sha256).select_related("contract")
    if (found := existing.first()) is not None:
        raise ValidationError(
            _(
                "This file is already stored: %(name)s (version %(version)s of contract %(contract)s)."
            )
            % {"name": found.original_name, "version": found.version, "contract": found.contract}
        )
    stored = f"{STORAGE_DIR}/{uuid.uuid4().hex}{sniffed.extension}"
    saved_as = default_storage.save(stored, upload)
    try:
        with transaction.atomic():
            locked = Contract.objects.select_for_update().get(pk=contract.pk)
            version = (
                locked.documents.filter(kind=kind)
                .order_by("-version")
                .values_list("version", flat=True)
                .first()
                or 0
            ) + 1
            document = ContractDocument.objects.create(
                contract=locked,
                kind=kind,
                version=version,
                original_name=clean_name(upload.name, sniffed.extension),
                stored_name=saved_as,
                content_type=sniffed.content_type,
                size=sniffed.size,
                sha256=sniffed.sha256,
                text_status=ContractDocument.Text.PENDING,  # PDFs and scans alike (OCR)
                uploaded_by=user,
            )
            search_refresh(contract_id=locked.pk)
            pk = document.pk
            transaction.on_commit(
                lambda: async_task(
                    "contracts.tasks.extract_text", pk, task_name=f"contract-text-{pk}"
                )
            )
    except IntegrityError as exc:
        default_storage.delete(saved_as)  # the same file uploaded twice at the same moment
        raise ValidationError(_("This file is already stored.")) from exc
    except BaseException:
        default_storage.delete(saved_as)  # no row, so no file either
        raise
    return document


def _local_copy(document: ContractDocument) -> tuple[str, Any]:
    """A path on disk for the extractor (storage may be remote): the file itself when stored
    locally, else a temporary copy."""
    try:
        return default_storage.path(document.stored_name), None
    except NotImplementedError:
        suffix = Path(document.stored_name).suffix or ".pdf"
        temp = tempfile.NamedTemporaryFile(suffix=suffix)  # noqa: SIM115 - closed by the caller
        with default_storage.open(document.stored_name, "rb") as source:
            while chunk := source.read(1 << 20):
                temp.write(chunk)
        temp.flush()
        return temp.name, temp


def document_extract_text(*, document_id: int) -> str:
    """Read the text of a PDF or a scan (contracts.textread: child processes with a time and
    memory limit, OCR for scanned pages); store it with its status, source, page count and note
    in one update. A file that loops, crashes the reader or runs out of time gets its status and
    reason, and the contract stays usable."""
    document = ContractDocument.objects.filter(pk=document_id).first()
    if document is None or document.content_type not in TEXT_TYPES:
        return "skipped"
    path, temp = _local_copy(document)
    try:
        result = read_text(path, document.content_type)
    finally:
        if temp is not None:
            temp.close()
    text = "\f".join(result.pages)[: search.MAX_TEXT].replace("\x00", "")
    ContractDocument.objects.filter(pk=document_id).update(
        text=text,
        text_status=result.status,
        text_error=result.error[:300],
        text_source=result.source,
        page_count=result.page_count,
        text_note=result.note,
    )
    search_refresh(contract_id=document.contract_id)
    return str(result.status)


# --- Terms -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TermChange:
    field: str
    label: str
    current: Any
    contract: Any


def terms_diff(contract: Contract) -> list[TermChange]:
    """What applying the contract's terms would change on its subscription."""
    sub = contract.subscription
    changes = []
    if (
        contract.notice_period_days is not None
        and contract.notice_period_days != sub.notice_period_days
    ):
        changes.append(
            TermChange("notice_period_days", _("Notice period (days)"), sub.notice_period_days,
                       contract.notice_period_days)
        )  # fmt: skip
    if contract.auto_renew != sub.auto_renew:
        changes.append(
            TermChange("auto_renew", _("Auto-renews"), sub.auto_renew, contract.auto_renew)
        )
    return changes


@transaction.atomic
def contract_apply_terms(*, contract: Contract, user: User) -> list[TermChange]:
    """Copy the notice period and the auto-renew flag of the newest active contract to its
    subscription (the user saw the difference and confirmed)."""
    _require_edit(user)
    contract = Contract.objects.select_related("subscription").get(pk=contract.pk)
    newest = (
        Contract.objects.filter(
            subscription=contract.subscription_id, status=Contract.Status.ACTIVE
        )
        .order_by("-valid_from", "-pk")
        .first()
    )
    if newest is None or newest.pk != contract.pk:
        raise ValidationError(_("Only the newest active contract's terms can be applied."))
    changes = terms_diff(contract)
    subscription = Subscription.objects.select_for_update().get(pk=contract.subscription_id)
    for change in changes:
        setattr(subscription, change.field, change.contract)
    if changes:
        subscription.save(update_fields=[c.field for c in changes] + ["updated_at"])
    return changes


# --- Integrity ---------------------------------------------------------------------------------


def integrity_check() -> IntegrityCheck:
    """Every stored document: does its file exist, and does its content still hash to the
    recorded SHA-256? The result is kept; problems are logged and mailed to IT admins."""
    missing: list[dict[str, Any]] = []
    mismatched: list[dict[str, Any]] = []
    checked = 0
    for document in ContractDocument.objects.select_related("contract").order_by("pk").iterator():
        checked += 1
        entry = {
            "document": document.pk,
            "contract": document.contract_id,
            "name": document.original_name,
            "stored_name": document.stored_name,
        }
        if not default_storage.exists(document.stored_name):
            missing.append(entry)
            continue
        digest = hashlib.sha256()
        with default_storage.open(document.stored_name, "rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        if digest.hexdigest() != document.sha256:
            mismatched.append(entry)
    result = IntegrityCheck.objects.create(checked=checked, missing=missing, mismatched=mismatched)
    if not result.ok:
        logger.error("contract files: %s missing, %s changed", len(missing), len(mismatched))
        recipients = list(
            User.objects.filter(groups__name=Role.IT_ADMIN, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
        body = "\n".join(
            [
                f"missing: {e['stored_name']} ({e['name']}, contract {e['contract']})"
                for e in missing
            ]
            + [
                f"changed: {e['stored_name']} ({e['name']}, contract {e['contract']})"
                for e in mismatched
            ]
        )
        subject = _("Contract files: %(missing)s missing, %(changed)s changed") % {
            "missing": len(missing),
            "changed": len(mismatched),
        }
        if recipients:
            send_mail(subject, body, None, recipients)
        else:
            mail_admins(subject, body)
    return result
