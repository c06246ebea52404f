"""Pages of an archive search: a common term is found by walking the end dates (selectors.
walk_page_ids), a rare one through the GIN index; both give the same contracts in the same
order (latest end first, then contract number, then id), page after page, and keep the scope."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from contracts import selectors, services, tables, views
from contracts.models import Contract
from tests.conftest import Cast

PHRASE = "自动续约一年"


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def add(cast: Cast, i: int, *, end: dt.date, text: str, auto_renew: bool = False) -> Contract:
    # Numbers repeat across counterparties and end dates repeat: the id decides the last ties.
    return services.contract_save(
        user=cast.it_admin, subscription=cast.subscription_a,
        data={"number": f"T-{i % 4:02d}", "counterparty": f"公司{i:03d}",
              "valid_from": dt.date(2027, 1, 1), "valid_to": end, "total_value": Decimal("1"),
              "auto_renew": auto_renew, "price_terms": text},
    )  # fmt: skip


def expected(contracts: list[Contract], *, newest_first: bool = True) -> list[int]:
    if newest_first:
        key: Any = lambda c: (-c.valid_to.toordinal(), c.number, c.pk)  # noqa: E731
    else:
        key = lambda c: (c.valid_to.toordinal(), c.pk)  # noqa: E731
    return [c.pk for c in sorted(contracts, key=key)]


def shown(client: Client, query: str, pages: int) -> list[int]:
    """The contract ids the archive shows for ``query``, pages 1 to ``pages`` in turn."""
    ids: list[int] = []
    for page in range(1, pages + 1):
        html = client.get(f"{reverse('contracts:contract-list')}?{query}&page={page}").content
        ids += [int(pk) for pk in re.findall(r'href="/contracts/(\d+)/"', html.decode())]
    return ids


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Small pages and count cap, and a record of whether each page was found by the walk."""
    monkeypatch.setattr(views, "COUNT_CAP", 6)
    monkeypatch.setattr(views, "PER_PAGE", 4)
    monkeypatch.setattr(selectors, "WALK_WINDOW", 2)
    record: list[bool] = []

    def recording(*args: Any, **kwargs: Any) -> list[int] | None:
        ids = selectors.walk_page_ids(*args, **kwargs)
        record.append(ids is not None)
        return ids

    monkeypatch.setattr(tables, "walk_page_ids", recording)
    return record


def test_a_common_phrase_is_walked_and_pages_like_the_index(cast: Cast, walks: list[bool]) -> None:
    found = []
    for i in range(30):
        end = dt.date(2027, 12, 31) - dt.timedelta(days=i // 3)
        text = f"本合同{PHRASE}" if i % 3 else "续约价格涨幅不超过百分之五"
        contract = add(cast, i, end=end, text=text)
        if i % 3:
            found.append(contract)
    client = client_for(cast.it_admin)
    assert shown(client, f"q={PHRASE}", 5) == expected(found)  # 20 matches, 4 a page
    # Page 5 counts up to 6 + 4 x 4 = 22: all 20 matches counted, a few: from the index.
    assert walks == [True, True, True, True, False]
    # Sorted by end date the other way round (the table's column), the same.
    walks.clear()
    assert shown(client, f"q={PHRASE}&sort=valid_to", 5) == expected(found, newest_first=False)
    assert walks == [True, True, True, True, False]
    # A head of the other department finds none of them, the head of A all of them (from the
    # index: with a department scope the walk would read other departments' vectors).
    assert shown(client_for(cast.head_b), f"q={PHRASE}", 1) == []
    walks.clear()
    assert shown(client_for(cast.head_a), f"q={PHRASE}", 5) == expected(found)
    assert walks == [False] * 5


def test_matches_only_in_old_contracts_are_read_from_the_index(
    cast: Cast, walks: list[bool]
) -> None:
    found = []
    for i in range(24):
        old = i >= 16
        contract = add(
            cast, i, end=dt.date(2027, 12, 31) - dt.timedelta(days=i), text=PHRASE if old else "无"
        )
        if old:
            found.append(contract)
    # 8 matches, all among the oldest: the walk's window (2 x 4 newest) holds none of them.
    client = client_for(cast.it_admin)
    assert shown(client, f"q={PHRASE}", 2) == expected(found)
    assert walks == [False, False]


def test_a_filtered_search_walks_when_most_of_the_filtered_contracts_match(
    cast: Cast, walks: list[bool]
) -> None:
    found = []
    for i in range(20):
        contract = add(
            cast, i, end=dt.date(2027, 12, 31) - dt.timedelta(days=i % 5), text=PHRASE,
            auto_renew=i < 5,
        )  # fmt: skip
        if i < 5:
            found.append(contract)
    client = client_for(cast.it_admin)
    # 5 matches (under the cap of 6) among 5 auto-renewing contracts: walked.
    assert shown(client, f"q={PHRASE}&auto_renew=true", 2) == expected(found)
    assert walks == [True, True]
    # The same 5 among all 20 contracts unfiltered, a rare word: from the index.
    walks.clear()
    rare = add(cast, 99, end=dt.date(2027, 6, 30), text="保密义务")
    assert shown(client, "q=保密义务", 1) == [rare.pk]
    assert walks == [False]
