"""The REST API (/api/v1/): contract files with the pages' checks, the OpenAPI 3 schema and its
docs, and the department filters after the schema was built."""

from __future__ import annotations

import json

from django.test import Client
from django.urls import reverse

from tests.api.helpers import api
from tests.conftest import Cast
from tests.helpers import TINY_PDF, contract_with_document


def test_a_contract_file_downloads_through_the_api_with_the_pages_checks(cast: Cast) -> None:
    document = contract_with_document(
        cast.it_admin, cast.subscription_a, number="C-1", name="合同.pdf"
    )
    contract = document.contract
    pdf = TINY_PDF
    url = reverse("api:document-download", args=[document.pk])
    response = api(cast.head_a).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf  # type: ignore[attr-defined]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment")
    assert api(cast.head_b).get(url).status_code == 404
    assert api(cast.employee).get(url).status_code == 403
    assert Client().get(url).status_code == 401
    detail = api(cast.auditor).get(reverse("api:contract-detail", args=[contract.pk])).json()
    assert detail["documents"][0]["sha256"] == document.sha256
    assert "stored_name" not in detail["documents"][0] and "text" not in detail["documents"][0]


def test_the_schema_is_openapi_3_and_the_docs_load_no_inline_script(cast: Cast) -> None:
    client = api(cast.auditor, accept="application/vnd.oai.openapi+json")
    schema = client.get(reverse("api:schema"), {"format": "json"})
    assert schema.status_code == 200
    spec = json.loads(schema.content)
    assert spec["openapi"].startswith("3.")
    assert (
        "/api/v1/usage/bulk/" in spec["paths"] and "/api/v1/requests/{id}/decide/" in spec["paths"]
    )
    page = Client()
    page.force_login(cast.auditor)
    docs = page.get(reverse("api:docs"))
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html and "cdn" not in html.lower()
    assert "<script>" not in html.replace(" ", "")  # every script has a src
    assert "script-src 'self'" in docs["Content-Security-Policy"]


def test_department_filters_keep_each_users_choices_after_the_schema_was_built(
    cast: Cast,
) -> None:
    """Building the OpenAPI schema makes django-filter build the class's fields; the pages'
    and the API's department filters must still offer each user their own departments."""
    auditor = api(cast.auditor)
    assert auditor.get(reverse("api:schema")).status_code == 200
    client = api(cast.head_a)
    for name in ("api:subscription-list", "api:request-list", "api:contract-list"):
        response = client.get(reverse(name), {"department": cast.dept_a.pk})
        assert response.status_code == 200, (name, response.content)
    page = Client()
    page.force_login(cast.head_a)
    response = page.get(reverse("renewals:subscription-list"), {"department": cast.dept_a.pk})
    assert response.status_code == 200 and "A-1" in response.content.decode()
