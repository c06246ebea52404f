"""The demo contracts: real PDFs, stored and text-extracted, found by search, shown on the
subscription page; seeding twice changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from contracts.models import Contract, ContractDocument
from contracts.selectors import contract_list, contract_search
from org.models import User

pytestmark = pytest.mark.django_db


def test_the_demo_has_contracts_with_searchable_pdfs_and_seeding_again_changes_nothing() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    contracts = Contract.objects.select_related("subscription")
    assert contracts.count() == 6
    documents = ContractDocument.objects.all()
    assert documents.count() == 6
    assert {d.content_type for d in documents} == {"application/pdf"}
    assert {d.text_status for d in documents} == {"done"}
    # The older 飞书 contract was replaced by the current one.
    feishu = list(contracts.filter(counterparty="北京飞书科技有限公司").order_by("valid_from"))
    assert [c.status for c in feishu] == ["superseded", "active"]
    assert {c.status for c in contracts.exclude(pk=feishu[0].pk)} == {"active"}

    admin = User.objects.get(username="admin")
    # Words only inside the PDFs (the contract template's clauses) find them.
    assert contract_search(contract_list(user=admin), "数据存储于中国境内").count() == 6
    assert set(contract_search(contract_list(user=admin), "自动续约")) >= set(feishu)
    # A department head sees the contracts of their department (and its sub-departments) only.
    head = User.objects.get(username="head_rd")
    seen = contract_search(contract_list(user=head), "保密义务")
    assert 0 < seen.count() < 6
    assert {c.subscription.department.code for c in seen} <= {"rd", "rd-qa"}  # R&D and its QA

    # The current 飞书 contract shows on its (auto-renewing) subscription's page, with its price
    # cap in the contract-trap panel.
    client = Client()
    client.force_login(admin)
    current = feishu[1]
    page = client.get(current.subscription.get_absolute_url()).content.decode()
    assert current.number in page
    assert current.subscription.auto_renew
    assert 'data-testid="contract-trap"' in page and "5.00%" in page
    assert client.get(reverse("contracts:contract-list") + "?q=自动续约").status_code == 200

    call_command("seed_demo", stdout=io.StringIO())
    assert Contract.objects.count() == 6 and ContractDocument.objects.count() == 6
