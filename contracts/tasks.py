"""django-q2 entry points of the contract archive."""

from __future__ import annotations


def extract_text(document_id: int) -> str:
    """After an upload: the document's text for search (its PDF text layer, or OCR for scans,
    in a time-limited child process), then its key terms and the contract's findings."""
    from contracts.services import document_extract_text
    from contracts.terms.services import terms_refresh

    status = document_extract_text(document_id=document_id)
    return f"text {status}; {terms_refresh(document_id=document_id)}"


def integrity_check() -> str:
    """Daily: stored files still exist and still match their SHA-256."""
    from contracts.services import integrity_check as check

    result = check()
    return (
        f"{result.checked} checked, {len(result.missing)} missing, {len(result.mismatched)} changed"
    )


def statuses_refresh() -> str:
    """Daily: contracts past their end expire; contracts replaced by a started newer one are
    superseded."""
    from contracts.services import contract_statuses_refresh

    done = contract_statuses_refresh()
    return f"{done['expired']} expired, {done['superseded']} superseded"
