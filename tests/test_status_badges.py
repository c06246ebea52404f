"""Statuses as coloured badges with their text (#15): every status of subscriptions, requests,
approval steps, risks, contracts and deliveries has a deliberate colour, on pages and in the
tables written in Python."""

from __future__ import annotations

import pytest
from django.db import models
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from contracts.models import Contract
from core.status import BY_KIND, DEFAULT, badge_class, badge_html
from renewals.alerts.models import AlertDelivery
from renewals.inventory.models import Subscription
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.requests import RenewalRequest
from renewals.risks.models import Risk
from renewals.seats.models import SeatRequest
from tests.conftest import Cast


@pytest.mark.parametrize(
    "model",
    [Subscription, RenewalRequest, ApprovalStep, Risk, Contract, AlertDelivery, SeatRequest],
)
def test_every_status_has_a_deliberate_colour(model: type[models.Model]) -> None:
    kind = str(model._meta.model_name)
    for value, _label in model.Status.choices:  # type: ignore[attr-defined]
        assert value in DEFAULT or value in BY_KIND.get(kind, {}), (kind, value)


def test_colours_follow_what_the_status_means() -> None:
    assert badge_class("subscription", "active") == "text-bg-success"
    assert badge_class("subscription", "expired") == "text-bg-danger"
    assert badge_class("renewalrequest", "returned") == "text-bg-warning"
    assert badge_class("renewalrequest", "rejected") == "text-bg-danger"
    assert badge_class("risk", "open") == "text-bg-danger"  # an open risk is bad news...
    assert badge_class("cleanupcampaign", "open") == "text-bg-primary"  # ...an open campaign not
    assert badge_class("approvalstep", "waiting") == "text-bg-light border"
    assert badge_class("anything", "unknown") == "text-bg-secondary"


def test_the_badge_keeps_the_text_and_escapes_it() -> None:
    html = badge_html("contract", "active", '<b>"生效"</b>')
    assert html == (
        '<span class="badge text-bg-success" data-status="active">'
        "&lt;b&gt;&quot;生效&quot;&lt;/b&gt;</span>"
    )


def test_the_template_tag_writes_the_translated_label(cast: Cast) -> None:
    template = Template('{% load status %}{% status_badge sub "align-middle" testid="s" %}')
    with translation.override("en"):
        html = template.render(Context({"sub": cast.subscription_a}))
    assert html == (
        '<span class="badge text-bg-success align-middle" data-status="active" data-testid="s">'
        "Active</span>"
    )


def test_the_lists_show_statuses_as_badges(cast: Cast) -> None:
    from django.test import Client

    client = Client()
    client.force_login(cast.it_admin)
    html = client.get(reverse("renewals:subscription-list")).content.decode()
    assert '<span class="badge text-bg-success" data-status="active">' in html
