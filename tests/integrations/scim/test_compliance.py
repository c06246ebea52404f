"""scim2-tester (https://github.com/python-scim/scim2-tester), an independent SCIM 2.0
compliance checker, run against /scim/v2/ in-process (scim2-client's WSGI engine over Django's
test client handler, in the test's transaction): discovery (ServiceProviderConfig, ResourceTypes,
Schemas and their refused methods), a random URL's 404, and for Users and Groups creation,
reading (by id, listed, with ``attributes``/``excludedAttributes``, by POST /.search),
replacement, deletion (then 404) and PATCH add, remove and replace of every attribute we
publish, each read back. Every check must pass: none skipped, none deviating."""

from __future__ import annotations

from collections import Counter

import pytest
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_tester import Status, check_server

from tests.integrations.scim.conftest import wsgi_app

pytestmark = pytest.mark.django_db


def test_scim2_tester_finds_nothing_wrong(token):
    client = WSGISCIMClient(
        wsgi_app(),
        base_url="http://testserver/scim/v2",
        headers={"Authorization": f"Bearer {token}"},
    )
    results = check_server(client)
    wrong = [
        f"{r.status.name} {r.resource_type or ''} {r.title}: {r.reason}"
        for r in results
        if r.status != Status.SUCCESS
    ]
    assert not wrong, "\n".join(wrong)
    ran = Counter((r.resource_type, r.title) for r in results)
    for resource_type in ("User", "Group"):
        for check in ("object_creation", "object_replacement", "object_deletion",
                      "check_add_attribute", "check_remove_attribute",
                      "check_replace_attribute", "search_with_attributes"):  # fmt: skip
            assert ran[(resource_type, check)], f"{check} did not run for {resource_type}"
    assert len(results) > 80
