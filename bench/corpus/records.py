"""The corpus's records: the fields of the truth, the layouts, a contract's files (Document) and
its terms (Case), and reading a corpus written earlier (load)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FIELDS = (
    "number",
    "vendor",
    "customer",
    "signed_on",
    "valid_from",
    "valid_to",
    "term_months",
    "seats",
    "amount",
    "billing_cycle",
    "payment_terms",
    "auto_renew",
    "notice_days",
    "price_cap",
    "list_price",
    "termination",
    "data_return",
    "personal_info",
    "data_location",
)
LAYOUTS = {"zh": ("zh_articles", "zh_table", "zh_order"), "en": ("en_msa", "en_order", "en_msa")}
CONTENT_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg"}


# --- the corpus's records ------------------------------------------------------------------------


@dataclass
class Document:
    """One file of the corpus: the text PDF, or a scan of all or one of its pages."""

    path: str  # relative to the corpus folder
    content_type: str
    kind: str  # "text" or "scan"
    pages: list[int]  # the contract's pages the file holds (from 1)
    dpi: int | None = None


@dataclass
class Case:
    """One contract: its files, its terms (truth) and where each term is written."""

    key: str
    language: str
    layout: str
    title: str
    page_count: int
    truth: dict[str, Any]
    written: dict[str, list[str]]  # field -> the mentions' text as written
    field_pages: dict[str, list[int]]  # field -> the pages mentioning it
    traps: list[str]
    documents: list[Document] = field(default_factory=list)
    stamps: list[list[float]] = field(default_factory=list)  # [page, x, y] in CSS px

    def truth_for(self, document: Document) -> dict[str, Any]:
        """The terms a reader can find in ``document``: all of them, or for a single scanned
        page those mentioned on that page."""
        if len(document.pages) >= self.page_count:
            return dict(self.truth)
        held = set(document.pages)
        return {
            name: value
            for name, value in self.truth.items()
            if held & set(self.field_pages.get(name, []))
        }

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Case:
        documents = [Document(**d) for d in data.pop("documents", [])]
        return cls(**data, documents=documents)


def load(corpus_dir: str | Path) -> list[Case]:
    """The cases of a corpus written earlier (its truth.json)."""
    data = json.loads((Path(corpus_dir) / "truth.json").read_text(encoding="utf-8"))
    return [Case.from_json(case) for case in data["cases"]]
