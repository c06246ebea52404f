"""Search tokens for contracts: words for alphabetic text, character bigrams for Chinese.

PostgreSQL's full-text parser treats a run of Chinese characters as one "word", so 续费 would not
be found inside 自动续费条款. We index every CJK character and every pair of neighbours (as
Lucene's CJK analyzer does) and search a Chinese term as all of its bigrams (AND, not the
positional phrase: a phrase must re-read every candidate's vector from TOAST, 100 ms over 8,000
candidates, while AND is answered by the GIN index alone; bigrams of one term found apart in the
same contract are a rare false positive); the index then answers substring-like Chinese queries
without any extension.
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery

# CJK unified ideographs (+ extension A), kana, hangul: scripts written without spaces.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+", re.UNICODE)
_IS_CJK = re.compile(rf"[{_CJK}]")
MAX_TEXT = 200_000  # characters of one document's text indexed (a contract, not a library)
MAX_TERMS = 8


def _cjk_tokens(run: str) -> list[str]:
    tokens = list(run)
    tokens += [run[i : i + 2] for i in range(len(run) - 1)]
    return tokens


def tokens(text: str) -> str:
    """``text`` as space-separated search tokens (only letters, digits and CJK characters, so
    nothing in it can act as a tsquery/tsvector operator)."""
    out: list[str] = []
    for match in _TOKEN.finditer(text[:MAX_TEXT].lower()):
        token = match.group()
        if _IS_CJK.match(token):
            out.extend(_cjk_tokens(token))
        else:
            out.append(token[:100])
    return " ".join(out)


def query(text: str) -> SearchQuery | None:
    """A query matching every term of ``text`` (AND): Chinese terms as all their bigrams, other
    terms as prefixes (``contr`` finds ``contract``). None when nothing is left."""
    raw = raw_query(text)
    return None if raw is None else SearchQuery(raw, search_type="raw", config="simple")


def raw_query(text: str) -> str | None:
    """``query(text)`` as tsquery text (for the 'simple' configuration)."""
    parts: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        token = match.group()[:100]
        if _IS_CJK.match(token):
            grams = (
                [token] if len(token) == 1 else [token[i : i + 2] for i in range(len(token) - 1)]
            )
            parts.append("(" + " & ".join(f"'{g}'" for g in grams) + ")")
        else:
            parts.append(f"'{token}':*")
        if len(parts) == MAX_TERMS:
            break
    if not parts:
        return None
    return " & ".join(parts)
