"""A document's pages as sentences the term rules read: text normalised the same way whether it
came from a PDF's text layer or from OCR, wrapped lines joined, and every sentence kept with its
page so a suggestion can show where it was found."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

# CJK ideographs and the CJK punctuation NFKC leaves alone (。、「」…).
CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff"
_SPACE_IN_CJK = re.compile(
    rf"(?<=[{CJK}])[ \t]+(?=[{CJK}0-9%(])|(?<=[{CJK}0-9%)])[ \t]+(?=[{CJK}])"
)
# OCR and some PDF producers put a space inside numbers ("150, 000", "1 50,000.00").
_SPACE_IN_NUMBER = re.compile(r"(?<=\d[,.]) (?=\d{3}\b)")
# A line that cannot end a sentence: it stops on a word that needs what follows.
_OPEN_END = re.compile(
    r"(?:共计|合计|总计|为|是|至|自|于|向|按|及|和|与|或|的|,|，|、|of|and|or|the|to|at|by|in)\s*$"
)
_LINE_END = re.compile(r"[。；;!?！？]\s*$")
_LABEL_ONLY = re.compile(r"^[^:：]{1,24}[:：]$")
# A table cell's label broken over short lines ("Subscription" / "Start Date"): no digits, no
# sentence end; it is read together with what follows.
_FRAGMENT = re.compile(r"^(?!.*(?:公司|Ltd|Inc|LLC|GmbH))[^\d。；;!?！？.]{1,24}$")
# A line that starts a new clause or a "label: value" row starts a new sentence.
_CLAUSE_START = re.compile(
    r"""^\s*(?:
        第[一二三四五六七八九十百零〇\d]+[条章节款]            # 第五条
      | [(（]?[一二三四五六七八九十]+[)）、.]                # 一、 （二）
      | \d+(?:\.\d+)*[.、)]?\s                             # 5. 5.1 5)
      | (?:Article|Section|Clause|ARTICLE|SECTION)\s+\d
      | [•·\-\*]\s
      | [^:：\n\d¥$€£]{1,24}[:：]                                 # 合同编号： / Contract No.:
    )""",
    re.VERBOSE,
)
# Sentence ends: Chinese and English terminators. An English full stop ends a sentence when a
# space and a capital, a digit or a clause number follow, and the word before it is no
# abbreviation.
_ABBREVIATIONS = re.compile(
    r"(?:\b(?:No|Co|Ltd|Inc|Corp|Pty|Pte|LLC|Mr|Ms|Dr|St|e\.g|i\.e|etc|U\.S|approx|Art|Sec|vs|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
    r"|\b[A-Z])$"
)
_TERMINATOR = re.compile(r"[。；;!?！？]|\.(?=\s+[A-Z0-9(\"“第])")
MAX_SENTENCE = 1000


@dataclass(frozen=True)
class Sentence:
    page: int  # from 1
    text: str


def normalise(text: str) -> str:
    """NFKC (full-width digits, letters and punctuation become ASCII), OCR's spaces between
    Chinese characters removed, line ends and spaces tidied; line breaks kept."""
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\u200b", "")
    text = _SPACE_IN_CJK.sub("", text)
    text = _SPACE_IN_CJK.sub("", text)  # a second pass for runs of single characters
    text = _SPACE_IN_NUMBER.sub("", text)
    return "\n".join(re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n"))


def _paragraphs(page: str) -> Iterator[str]:
    """Lines joined into paragraphs: a line break inside a paragraph is a wrapped line (near the
    page's usual line width, no terminator, the next line no new clause)."""
    lines = [line for line in page.split("\n")]
    # The page's usual width of a full line (a few very long lines, e.g. a table's, don't count).
    lengths = sorted(len(line) for line in lines if line)
    width = max(lengths[int(len(lengths) * 0.75)], int(0.6 * lengths[-1])) if lengths else 0
    current = last = ""  # the paragraph so far, and its last line as printed
    for index, line in enumerate(lines):
        if not line:
            if current and not _goes_on(current, lines, index):
                yield current
                current = ""
            continue
        if not current:
            current = last = line
            continue
        # A table cell wraps inside a number ("人民币12" / "0,000.00") or a bracket ("(tax" /
        # "inclusive)"): the line goes on.
        split_number = bool(
            re.search(r"(?<![\d\-/.:])\d{1,3}$", last) and re.match(r"\d{0,3}[,.]\d", line)
        )
        unclosed = last.count("(") > last.count(")")
        wrapped = (
            split_number
            or unclosed
            or _OPEN_END.search(current)
            or (
                len(last) >= 0.8 * width
                and not _LINE_END.search(current)
                and not _CLAUSE_START.match(line)
            )
        )
        if wrapped:
            joiner = (
                ""
                if split_number or re.search(rf"[{CJK}]$", current) or re.match(rf"[{CJK}]", line)
                else " "
            )
            current, last = f"{current}{joiner}{line}", line
        else:
            yield current
            current = last = line
    if current:
        yield current


def _goes_on(current: str, lines: list[str], index: int) -> bool:
    """A blank line inside a sentence (OCR's page layout sometimes puts one there): the paragraph
    has no end and the next line starts in lower case."""
    following = next((line for line in lines[index + 1 :] if line), "")
    return bool(re.match(r"[a-z]", following)) and not _LINE_END.search(current)


def _split(paragraph: str) -> Iterator[str]:
    start = 0
    for match in _TERMINATOR.finditer(paragraph):
        if match.group() == "." and _ABBREVIATIONS.search(paragraph[start : match.start()]):
            continue
        piece = paragraph[start : match.end()].strip()
        start = match.end()
        if piece:
            yield piece
    rest = paragraph[start:].strip()
    if rest:
        yield rest


def sentences(pages: list[str]) -> list[Sentence]:
    """Every sentence of the document, in order, with its page."""
    found: list[Sentence] = []
    for number, page in enumerate(pages, start=1):
        label = ""
        for paragraph in _paragraphs(normalise(page)):
            for piece in _split(paragraph):
                if _LABEL_ONLY.match(piece) or (_FRAGMENT.match(piece) and len(label) < 120):
                    label = f"{label} {piece}".strip() if label else piece
                    continue  # "甲方：" on a line of its own: the value is the next line
                joiner = (
                    "" if label.endswith((":", "：")) or re.search(rf"[{CJK}]$", label) else " "
                )
                piece = f"{label}{joiner}{piece}" if label else piece
                label = ""
                piece = _SPACE_IN_CJK.sub("", piece)  # a table cell's words joined across lines
                if len(piece) >= 2:
                    found.append(Sentence(number, piece[:MAX_SENTENCE]))
        if label:
            found.append(Sentence(number, label))
    return found
