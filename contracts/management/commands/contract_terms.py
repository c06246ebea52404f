"""``manage.py contract_terms FILE [--json]``: what the archive would read from a contract file
(text layer or OCR, then the key terms and their sentences), for trying the reader by hand.
Nothing is stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from contracts.files import sniff
from contracts.terms.extract import answers, extract_terms, summary
from contracts.textread import read_text


class Command(BaseCommand):
    help = "Print the key terms the contract archive would suggest for a PDF, PNG or JPEG file."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="a PDF (text or scanned), PNG or JPEG file")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a listing")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            with path.open("rb") as stream:
                kind = sniff(stream)
        except ValidationError as exc:
            raise CommandError(f"{path}: {' '.join(exc.messages)}") from None
        result = read_text(str(path), kind.content_type)
        found = extract_terms(result.pages) if result.status == "done" else []
        if options["json"]:
            self.stdout.write(json.dumps({
                "file": str(path), "text": {"status": result.status, "source": result.source,
                "pages": result.page_count, "note": result.note, "error": result.error},
                "answers": answers(found),
                "terms": [{"field": f.field, "value": f.value, "as_written": f.text,
                           "page": f.page, "sentence": f.sentence, "contradicted": f.conflict,
                           "problem": f.problem} for f in found],
            }, ensure_ascii=False, indent=2))  # fmt: skip
            return
        self.stdout.write(
            f"{path}: text {result.status} ({result.source or '-'}, {result.page_count} pages)"
            + (f" {result.note}" if result.note else "")
            + (f": {result.error}" if result.error else "")
        )
        self.stdout.write(summary(found) if found else "no key terms found")
