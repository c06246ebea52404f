"""Feishu / Lark as a directory source (issue #19): the full pull through a fake open platform
(tests/fakes/feishu.py) and the event callback, verified, decrypted and applied."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.test import Client
from django.urls import include, path, reverse

from integrations.callbacks.feishu import receive
from integrations.directory import feishu, sync
from integrations.directory.entries import SourceError
from integrations.models import DirectoryEvent, DirectorySource, SyncRun
from org.models import Department, Person
from tests.fakes import feishu as fake_feishu
from tests.fakes.feishu import FakeFeishu

# The callback under the name integrations/urls.py gives it (and nothing else of the app's
# pages, so these tests need only the callback).
_callbacks = [path("callbacks/feishu/<int:source_id>/", receive, name="callback-feishu")]
urlpatterns = [path("integrations/", include((_callbacks, "integrations")))]
pytestmark = pytest.mark.urls(__name__)

ENCRYPT_KEY = "fake-encrypt-key"
TOKEN = "fake-verification-token"


@pytest.fixture(autouse=True)
def secrets_key(settings: Any) -> None:
    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]


@pytest.fixture
def fake() -> Iterator[FakeFeishu]:
    server = FakeFeishu()
    server.add_department("od-sales", "销售部")
    server.add_department("od-east", "华东销售", parent="od-sales")
    server.add_department("od-it", "信息技术部")
    server.add_user("boss", "王总", department="0", enterprise_email="boss@corp.example")
    server.add_user("u1", "张三", department="od-sales", leader_user_id="boss")
    server.add_user(
        "u2", "李四", department="od-east", leader_user_id="u1", mobile="+8613911112222"
    )
    server.add_user("u3", "赵六", department="od-it", status={"is_resigned": True})
    server.add_user("u4", "钱七", department="od-it", status={"is_frozen": True})
    with server:
        yield server


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(feishu, "_sleep", waited.append)
    return waited


def make_source(fake: FakeFeishu, **config: object) -> DirectorySource:
    source = DirectorySource(
        name="飞书",
        kind=DirectorySource.Kind.FEISHU,
        config={"app_id": fake.app_id, "base_url": fake.base_url, **config},
    )
    source.set_secrets(
        {"app_secret": fake.app_secret, "encrypt_key": ENCRYPT_KEY, "verification_token": TOKEN}
    )
    return source


# --- the pull ---------------------------------------------------------------------------------


def test_full_pull_maps_departments_and_people(fake: FakeFeishu, sleeps: list[float]) -> None:
    snapshot = feishu.read(make_source(fake), full=True)
    departments = {d.external_id: d for d in snapshot.departments}
    assert departments["od-sales"].parent_id is None
    assert departments["od-east"].parent_id == "od-sales"
    assert departments["od-east"].name == "华东销售"
    assert departments["0"].name == "飞书"  # the root, for the people placed directly in it
    people = {p.external_id: p for p in snapshot.people}
    assert set(people) == {"boss", "u1", "u2", "u3", "u4"}
    boss, u1, u2 = people["boss"], people["u1"], people["u2"]
    assert boss.department_id == "0" and boss.email == "boss@corp.example"
    assert u1.email == "u1@example.com"  # no enterprise mail: the e-mail
    assert (u1.department_id, u1.manager_id, u1.employee_no) == ("od-sales", "boss", "E-u1")
    assert (u2.department_id, u2.manager_id, u2.mobile) == ("od-east", "u1", "+8613911112222")
    assert u2.attributes == {"open_id": "ou_u2", "union_id": "on_u2"}
    assert u1.active and not people["u3"].active and not people["u4"].active
    assert snapshot.present_people == set(people)
    assert snapshot.present_departments == {"0", "od-sales", "od-east", "od-it"}
    assert sleeps == []


def test_root_department_only_when_someone_is_in_it(fake: FakeFeishu) -> None:
    del fake.users["boss"]
    snapshot = feishu.read(make_source(fake, root_department_name="总部"), full=True)
    assert "0" not in {d.external_id for d in snapshot.departments}
    fake.add_user("boss", "王总", department="0")
    snapshot = feishu.read(make_source(fake, root_department_name="总部"), full=True)
    assert {d.external_id: d.name for d in snapshot.departments}["0"] == "总部"


def test_pull_follows_the_pages(fake: FakeFeishu, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feishu, "PAGE_SIZE", 2)
    for n in range(7):
        fake.add_user(f"s{n}", f"销售{n}", department="od-sales")
    snapshot = feishu.read(make_source(fake), full=True)
    assert {f"s{n}" for n in range(7)} <= {p.external_id for p in snapshot.people}
    assert len(snapshot.departments) == 4
    children = fake.api_calls("/departments/0/children")
    assert [q.get("page_token", "") != "" for q in children] == [False, True]
    assert all(q["fetch_child"] == "true" and q["page_size"] == "2" for q in children)
    sales = [
        q for q in fake.api_calls("/users/find_by_department") if q["department_id"] == "od-sales"
    ]
    assert len(sales) == 4  # 8 people, 2 a page
    assert all(q["department_id_type"] == "open_department_id" for q in sales)
    assert all(q["user_id_type"] == "user_id" for q in sales)


def test_an_expired_token_is_renewed_once(fake: FakeFeishu) -> None:
    fake.token_calls = 3  # each token serves three calls, then Feishu says 99991663
    snapshot = feishu.read(make_source(fake), full=True)
    assert len(snapshot.people) == 5
    assert len(fake.api_calls("/tenant_access_token/internal")) >= 2


def test_a_token_refused_again_fails_the_pull(fake: FakeFeishu) -> None:
    fake.token_calls = 0  # every token is refused
    with pytest.raises(SourceError) as raised:
        feishu.read(make_source(fake), full=True)
    assert "99991663" in str(raised.value)
    assert len(fake.api_calls("/tenant_access_token/internal")) == 2
    assert fake.app_secret not in str(raised.value)


@pytest.mark.parametrize("legacy", [False, True])
def test_rate_limit_waits_as_feishu_asks(
    fake: FakeFeishu, sleeps: list[float], legacy: bool
) -> None:
    fake.rate_limited, fake.rate_limit_reset, fake.legacy_rate_limit = 2, "3", legacy
    snapshot = feishu.read(make_source(fake), full=True)
    assert len(snapshot.people) == 5
    assert sleeps == [3.0, 3.0]


def test_rate_limit_waits_are_bounded(fake: FakeFeishu, sleeps: list[float]) -> None:
    fake.rate_limited, fake.rate_limit_reset = 100, "3600"
    with pytest.raises(SourceError):
        feishu.read(make_source(fake), full=True)
    assert sleeps == [feishu.MAX_WAIT_SECONDS] * feishu.MAX_RATE_LIMIT_WAITS


def test_wrong_app_secret(fake: FakeFeishu) -> None:
    source = make_source(fake)
    source.set_secrets({"app_secret": "not-the-secret"})
    with pytest.raises(SourceError) as raised:
        feishu.read(source, full=True)
    assert "10014" in str(raised.value) and "not-the-secret" not in str(raised.value)


def test_unreachable_and_unconfigured(fake: FakeFeishu) -> None:
    with pytest.raises(SourceError):
        feishu.read(make_source(fake, base_url="http://127.0.0.1:9"), full=True)
    with pytest.raises(SourceError):
        feishu.read(make_source(fake, base_url="ftp://open.feishu.cn"), full=True)
    with pytest.raises(SourceError):
        feishu.read(make_source(fake, app_id=""), full=True)


def test_no_user_id_permission_says_which(fake: FakeFeishu) -> None:
    for user in fake.users.values():
        del user["user_id"]
    with pytest.raises(SourceError) as raised:
        feishu.read(make_source(fake), full=True)
    assert "contact:user.employee_id:readonly" in str(raised.value)


@pytest.mark.django_db
def test_sync_source_applies_the_pull(fake: FakeFeishu) -> None:
    source = make_source(fake)
    source.save()
    run = sync.sync_source(source)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    u2 = Person.objects.get(directory_links__source=source, directory_links__external_id="u2")
    assert u2.name == "李四" and u2.department.name == "华东销售"
    assert u2.manager is not None and u2.manager.name == "张三"
    assert Person.objects.get(name="赵六").status == Person.Status.LEFT


# --- events: the cryptography, checked against the SDK ---------------------------------------


def test_decryption_and_signature_match_the_sdk() -> None:
    from lark_oapi.core.model import RawRequest
    from lark_oapi.core.utils import AESCipher
    from lark_oapi.event.dispatcher_handler import EventDispatcherHandler

    encrypted = fake_feishu.encrypt("飞书 event ✓", ENCRYPT_KEY)
    assert AESCipher(ENCRYPT_KEY).decrypt_str(encrypted) == "飞书 event ✓"
    assert feishu.decrypt(encrypted, ENCRYPT_KEY).decode() == "飞书 event ✓"
    for size in range(0, 40):  # every padding length
        text = "x" * size
        assert feishu.decrypt(fake_feishu.encrypt(text, ENCRYPT_KEY), ENCRYPT_KEY) == text.encode()

    received: list[object] = []
    handler = (
        EventDispatcherHandler.builder(ENCRYPT_KEY, TOKEN)
        .register_p2_contact_user_created_v3(received.append)
        .build()
    )
    payload = fake_feishu.event(
        "contact.user.created_v3", {"user_id": "u9", "name": "周九"}, token=TOKEN
    )
    body, headers = fake_feishu.callback(payload, ENCRYPT_KEY)
    request = RawRequest()
    request.uri, request.body, request.headers = "/", body, headers
    response = handler.do(request)
    assert response.status_code == 200, response.content
    assert received and received[0].event.object.name == "周九"  # type: ignore[attr-defined]


# --- the callback -----------------------------------------------------------------------------


@pytest.fixture
def source(fake: FakeFeishu) -> DirectorySource:
    source = make_source(fake)
    source.save()
    assert sync.sync_source(source).status == SyncRun.Status.SUCCEEDED
    return source


def post(client: Client, source_id: int, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    url = reverse("integrations:callback-feishu", args=[source_id])
    response = client.post(url, data=body, content_type="application/json", headers=headers)
    return response.status_code, json.loads(response.content or b"{}")


def user_event(event_type: str, user: dict, **kwargs: object) -> dict:
    return fake_feishu.event(event_type, user, token=TOKEN, **kwargs)  # type: ignore[arg-type]


def as_event(fake: FakeFeishu, user_id: str, **changes: object) -> dict:
    """The user as an event carries it: departments by open id, the manager by open_id."""
    user = json.loads(json.dumps(fake.users[user_id]))
    if user.get("leader_user_id"):
        user["leader_user_id"] = f"ou_{user['leader_user_id']}"
    status = changes.pop("status", {})
    user.update(changes)
    user["status"].update(status)
    return user


def person(source: DirectorySource, external_id: str) -> Person:
    return Person.objects.get(
        directory_links__source=source, directory_links__external_id=external_id
    )


@pytest.mark.django_db
def test_url_verification_answers_the_challenge(client: Client, source: DirectorySource) -> None:
    body, _ = fake_feishu.callback(fake_feishu.url_verification("c-123", token=TOKEN), ENCRYPT_KEY)
    assert post(client, source.pk, body, {}) == (200, {"challenge": "c-123"})
    wrong, _ = fake_feishu.callback(fake_feishu.url_verification("c-1", token="x"), ENCRYPT_KEY)
    assert post(client, source.pk, wrong, {})[0] == 401


@pytest.mark.django_db
def test_url_check_is_vouched_for_by_its_token(client: Client, source: DirectorySource) -> None:
    check = fake_feishu.url_verification("c-9", token=TOKEN)
    body, headers = fake_feishu.callback(check, ENCRYPT_KEY)
    assert post(client, source.pk, body, headers) == (200, {"challenge": "c-9"})
    # Feishu's docs leave the URL check out of the signature: a header that does not fit it
    # does not block the check (the encrypted token vouches for it) ...
    assert post(client, source.pk, body, {**headers, "X-Lark-Signature": "0" * 64})[0] == 200
    # ... but a wrong signature on something undecryptable is a wrong signature.
    garbage = b'{"encrypt": "bm90IGEgY2lwaGVydGV4dA=="}'
    assert post(client, source.pk, garbage, {**headers, "X-Lark-Signature": "0" * 64})[0] == 401


@pytest.mark.django_db
def test_an_older_event_changes_nothing(
    client: Client, fake: FakeFeishu, source: DirectorySource
) -> None:
    now_ms = int(time.time() * 1000)
    newer = user_event(
        "contact.user.updated_v3", as_event(fake, "u2", name="新名字"), create_time_ms=now_ms
    )
    older = user_event(
        "contact.user.updated_v3",
        as_event(fake, "u2", name="旧名字"),
        create_time_ms=now_ms - 60_000,
    )
    assert post(client, source.pk, *fake_feishu.callback(newer, ENCRYPT_KEY))[0] == 200
    assert post(client, source.pk, *fake_feishu.callback(older, ENCRYPT_KEY))[0] == 200
    assert person(source, "u2").name == "新名字"


@pytest.mark.django_db
def test_user_created_updated_and_left(
    client: Client, fake: FakeFeishu, source: DirectorySource
) -> None:
    new = fake.add_user("u9", "周九", department="od-east", leader_user_id="u1")
    created = user_event("contact.user.created_v3", as_event(fake, "u9"))
    assert post(client, source.pk, *fake_feishu.callback(created, ENCRYPT_KEY)) == (
        200,
        {"msg": "success"},
    )
    u9 = person(source, "u9")
    assert (u9.name, u9.department.name, u9.email) == ("周九", "华东销售", new["email"])
    assert u9.manager == person(source, "u1")  # the event's ou_u1, found by the link's open_id

    updated = user_event(
        "contact.user.updated_v3", as_event(fake, "u9", name="周九九", department_ids=["od-it"])
    )
    assert post(client, source.pk, *fake_feishu.callback(updated, ENCRYPT_KEY))[0] == 200
    u9.refresh_from_db()
    assert (u9.name, u9.department.name) == ("周九九", "信息技术部")

    resigned = user_event(
        "contact.user.updated_v3", as_event(fake, "u1", status={"is_resigned": True})
    )
    assert post(client, source.pk, *fake_feishu.callback(resigned, ENCRYPT_KEY))[0] == 200
    assert person(source, "u1").status == Person.Status.LEFT

    deleted = user_event("contact.user.deleted_v3", as_event(fake, "u9"))
    assert post(client, source.pk, *fake_feishu.callback(deleted, ENCRYPT_KEY))[0] == 200
    u9.refresh_from_db()
    assert u9.status == Person.Status.LEFT and u9.left_on is not None


@pytest.mark.django_db
def test_department_events(client: Client, source: DirectorySource) -> None:
    def send(event_type: str, obj: dict) -> int:
        payload = fake_feishu.event(event_type, obj, token=TOKEN)
        return post(client, source.pk, *fake_feishu.callback(payload, ENCRYPT_KEY))[0]

    obj = {"open_department_id": "od-west", "name": "华西销售", "parent_department_id": "od-sales"}
    assert send("contact.department.created_v3", obj) == 200
    west = Department.objects.get(name="华西销售")
    assert west.parent is not None and west.parent.name == "销售部"
    assert send("contact.department.updated_v3", {**obj, "name": "西部销售"}) == 200
    west.refresh_from_db()
    assert west.name == "西部销售"
    assert send("contact.department.deleted_v3", obj) == 200
    west.refresh_from_db()
    assert not west.is_active


@pytest.mark.django_db
def test_a_replayed_event_changes_nothing(
    client: Client, fake: FakeFeishu, source: DirectorySource
) -> None:
    payload = user_event(
        "contact.user.updated_v3", as_event(fake, "u2", name="李四四"), event_id="ev-1"
    )
    assert post(client, source.pk, *fake_feishu.callback(payload, ENCRYPT_KEY))[0] == 200
    u2 = person(source, "u2")
    assert u2.name == "李四四"
    Person.objects.filter(pk=u2.pk).update(name="改过的名字")
    again = fake_feishu.callback(payload, ENCRYPT_KEY, nonce="another-nonce")  # freshly signed
    assert post(client, source.pk, *again) == (200, {"msg": "success"})
    u2.refresh_from_db()
    assert u2.name == "改过的名字"
    assert DirectoryEvent.objects.filter(source=source, event_id="ev-1").count() == 1


@pytest.mark.django_db
def test_refused_callbacks_change_nothing(
    client: Client, fake: FakeFeishu, source: DirectorySource
) -> None:
    payload = user_event("contact.user.updated_v3", as_event(fake, "u2", name="攻击者"))
    body, headers = fake_feishu.callback(payload, ENCRYPT_KEY)

    bad_signature = {**headers, "X-Lark-Signature": "0" * 64}
    assert post(client, source.pk, body, bad_signature)[0] == 401
    assert post(client, source.pk, body, {**headers, "X-Lark-Signature": "é" * 64})[0] == 401
    odd = {**payload, "event": ["not", "an", "object"]}
    assert post(client, source.pk, *fake_feishu.callback(odd, ENCRYPT_KEY))[0] == 400
    tampered = body.replace(b'"}', b' "}')
    assert post(client, source.pk, tampered, headers)[0] == 401
    assert post(client, source.pk, body, {})[0] == 401  # unsigned: only the URL check may be
    old = fake_feishu.callback(payload, ENCRYPT_KEY, timestamp=int(time.time()) - 600)
    assert post(client, source.pk, *old)[0] == 400
    future = fake_feishu.callback(payload, ENCRYPT_KEY, timestamp=int(time.time()) + 600)
    assert post(client, source.pk, *future)[0] == 400
    other_key = fake_feishu.callback(payload, ENCRYPT_KEY, body_key="another-key")
    assert post(client, source.pk, *other_key)[0] == 400
    plain = json.dumps(payload).encode()
    stamp = str(int(time.time()))
    signed_plain = {
        "X-Lark-Request-Timestamp": stamp,
        "X-Lark-Request-Nonce": "n",
        "X-Lark-Signature": fake_feishu.sign(stamp, "n", ENCRYPT_KEY, plain),
    }
    assert post(client, source.pk, plain, signed_plain)[0] == 400  # not encrypted
    wrong_token = fake_feishu.event(
        "contact.user.updated_v3", payload["event"]["object"], token="x"
    )
    assert post(client, source.pk, *fake_feishu.callback(wrong_token, ENCRYPT_KEY))[0] == 401
    other_app = fake_feishu.event(
        "contact.user.updated_v3", payload["event"]["object"], token=TOKEN, app_id="cli_other"
    )
    assert post(client, source.pk, *fake_feishu.callback(other_app, ENCRYPT_KEY))[0] == 401

    assert person(source, "u2").name == "李四"
    assert not DirectoryEvent.objects.filter(source=source).exists()


@pytest.mark.django_db
def test_unknown_disabled_or_other_sources(
    client: Client, fake: FakeFeishu, source: DirectorySource
) -> None:
    payload = user_event("contact.user.updated_v3", as_event(fake, "u2", name="别人"))
    body, headers = fake_feishu.callback(payload, ENCRYPT_KEY)
    assert post(client, source.pk + 1000, body, headers)[0] == 404
    ldap = DirectorySource.objects.create(name="LDAP", kind=DirectorySource.Kind.LDAP)
    assert post(client, ldap.pk, body, headers)[0] == 404
    DirectorySource.objects.filter(pk=source.pk).update(enabled=False)
    assert post(client, source.pk, body, headers)[0] == 404
    assert person(source, "u2").name == "李四"


@pytest.mark.django_db
def test_oversized_method_and_unconfigured(
    client: Client, fake: FakeFeishu, source: DirectorySource
) -> None:
    url = reverse("integrations:callback-feishu", args=[source.pk])
    huge = b'{"encrypt": "' + b"A" * (1024 * 1024) + b'"}'
    response = client.post(url, data=huge, content_type="application/json")
    assert response.status_code == 413
    assert client.get(url).status_code == 405
    DirectorySource.objects.filter(pk=source.pk).update(credentials="")
    source.refresh_from_db()
    source.set_secrets({"app_secret": fake.app_secret})
    source.save()
    payload = user_event("contact.user.updated_v3", as_event(fake, "u2"))
    assert post(client, source.pk, *fake_feishu.callback(payload, ENCRYPT_KEY))[0] == 403


@pytest.mark.django_db
def test_other_event_types_are_acknowledged(client: Client, source: DirectorySource) -> None:
    payload = fake_feishu.event("contact.scope.updated_v3", {"added": {}}, token=TOKEN)
    assert post(client, source.pk, *fake_feishu.callback(payload, ENCRYPT_KEY)) == (
        200,
        {"msg": "success"},
    )
