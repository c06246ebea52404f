"""Contract files on S3-compatible storage (FILE_STORAGE=s3), against a local S3 server (moto's,
on 127.0.0.1): upload, text extraction, permission-checked download, integrity check, and
nothing left behind when an upload is refused."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from moto.server import ThreadedMotoServer

from contracts.models import ContractDocument
from contracts.services import contract_save, document_upload, integrity_check
from tests.conftest import Cast
from tests.contracts.helpers import make_pdf


@dataclass
class Bucket:
    client: Any
    name: str


@pytest.fixture
def s3() -> Iterator[Bucket]:
    """A local S3 server, a private bucket of this test's own (moto keeps its state per process,
    not per server), and the settings FILE_STORAGE=s3 produces."""
    bucket = f"renewaldesk-{uuid.uuid4().hex[:12]}"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip
    client.create_bucket(Bucket=bucket)
    storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket, "endpoint_url": endpoint, "region_name": "us-east-1",
            "access_key": "test", "secret_key": "test", "location": "renewaldesk",
            "default_acl": None, "querystring_auth": True, "file_overwrite": False,
        },
    }  # fmt: skip
    from django.conf import settings

    with override_settings(STORAGES={**settings.STORAGES, "default": storage}):
        yield Bucket(client, bucket)
    server.stop()


def keys(s3: Bucket) -> list[str]:
    return [o["Key"] for o in s3.client.list_objects_v2(Bucket=s3.name).get("Contents", [])]


def test_a_contract_file_lives_in_the_bucket_and_is_served_only_through_the_check(
    cast: Cast, s3: Bucket, django_capture_on_commit_callbacks: Any
) -> None:
    contract = contract_save(
        user=cast.it_admin, subscription=cast.subscription_a,
        data={"number": "S3-1", "counterparty": "某公司", "valid_from": date(2027, 1, 1),
              "valid_to": date(2027, 12, 31), "total_value": Decimal("1")},
    )  # fmt: skip
    pdf = make_pdf("第八条 本合同自动续约一年。")
    with django_capture_on_commit_callbacks(execute=True):
        document = document_upload(
            contract=contract, user=cast.it_admin, kind="main",
            upload=SimpleUploadedFile("合同.pdf", pdf, "application/pdf"),
        )  # fmt: skip
    stored = keys(s3)
    assert stored == [f"renewaldesk/{document.stored_name}"]
    body = s3.client.get_object(Bucket=s3.name, Key=stored[0])["Body"].read()
    assert body == pdf
    # The worker's extraction read it back from the bucket.
    document.refresh_from_db()
    assert document.text_status == "done" and "自动续约" in document.text
    head_a = Client()
    head_a.force_login(cast.head_a)
    response = head_a.get(reverse("contracts:document-download", args=[document.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf  # type: ignore[attr-defined]
    head_b = Client()
    head_b.force_login(cast.head_b)
    assert head_b.get(reverse("contracts:document-download", args=[document.pk])).status_code == 404
    first = integrity_check()
    assert first.ok and first.checked == 1
    # Changed behind the app's back in the bucket: the daily check says so.
    s3.client.put_object(Bucket=s3.name, Key=stored[0], Body=b"%PDF-1.4 tampered")
    second = integrity_check()
    assert [e["document"] for e in second.mismatched] == [document.pk] and second.missing == []


def test_a_refused_upload_leaves_nothing_in_the_bucket(cast: Cast, s3: Bucket) -> None:
    contract = contract_save(
        user=cast.it_admin, subscription=cast.subscription_a,
        data={"number": "S3-2", "counterparty": "某公司", "valid_from": date(2027, 1, 1),
              "valid_to": date(2027, 12, 31), "total_value": Decimal("1")},
    )  # fmt: skip
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        document_upload(
            contract=contract, user=cast.it_admin, kind="main",
            upload=SimpleUploadedFile("x.pdf", b"<html><script>alert(1)</script>", "application/pdf"),
        )  # fmt: skip
    assert keys(s3) == [] and not ContractDocument.objects.exists()
