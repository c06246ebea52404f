"""DingTalk (钉钉) as a directory source (issue #19): the full pull through a fake open platform
(tests/fakes/dingtalk.py), the HTTP event callback (verified, decrypted, applied, answered with
the encrypted "success") and the Stream-mode handler fed with the SDK's own EventMessage."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import dingtalk_stream
import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import include, path, reverse

from integrations.callbacks.dingtalk import receive
from integrations.directory import dingtalk, openapi, sync
from integrations.directory.entries import SourceError
from integrations.directory.msgcrypt import CryptError, MsgCrypt, SignatureError
from integrations.management.commands.dingtalk_stream import DirectoryEventHandler
from integrations.models import DirectoryEvent, DirectorySource, SyncRun
from org.models import Department, Person
from tests.fakes import dingtalk as fake_dingtalk
from tests.fakes.dingtalk import FakeDingTalk
from tests.fakes.errcode_http import unseal

_callbacks = [path("callbacks/dingtalk/<int:source_id>/", receive, name="callback-dingtalk")]
urlpatterns = [path("integrations/", include((_callbacks, "integrations")))]
pytestmark = pytest.mark.urls(__name__)

TOKEN = "fakecallbacktoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as DingTalk generates


@pytest.fixture(autouse=True)
def secrets_key(settings: Any) -> None:
    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]


@pytest.fixture
def fake() -> Iterator[FakeDingTalk]:
    server = FakeDingTalk()
    server.add_department("10", "销售部")
    server.add_department("11", "华东销售", parent="10")
    server.add_department("20", "信息技术部")
    server.add_user("boss", "王总", "1", job_number="E001")
    server.add_user("u1", "张三", "10", manager_userid="boss", mobile="13911112222")
    server.add_user(
        "u2", "李四", "11", "20", manager_userid="u1", email="", org_email="li@corp.example"
    )
    server.add_user("u3", "赵六", "20", manager_userid="boss")
    with server:
        yield server


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(openapi, "sleep", waited.append)
    return waited


def make_source(fake: FakeDingTalk, **config: object) -> DirectorySource:
    source = DirectorySource(
        name="钉钉",
        kind=DirectorySource.Kind.DINGTALK,
        config={
            "app_key": fake.app_key,
            "corp_id": fake.corp_id,
            "base_url": fake.base_url,
            **config,
        },
    )
    source.set_secrets(
        {"app_secret": fake.app_secret, "callback_token": TOKEN, "callback_aes_key": AES_KEY}
    )
    return source


# --- the pull ---------------------------------------------------------------------------------


def test_full_pull_maps_departments_and_people(fake: FakeDingTalk, sleeps: list[float]) -> None:
    snapshot = dingtalk.read(make_source(fake), full=True)
    departments = {d.external_id: d for d in snapshot.departments}
    assert departments["1"].name == "示例科技" and departments["1"].parent_id is None
    assert (departments["10"].parent_id, departments["11"].parent_id) == ("1", "10")
    assert departments["11"].name == "华东销售"
    people = {p.external_id: p for p in snapshot.people}
    assert set(people) == {"boss", "u1", "u2", "u3"}
    boss, u1, u2 = people["boss"], people["u1"], people["u2"]
    assert (boss.department_id, boss.employee_no, boss.manager_id) == ("1", "E001", None)
    assert (u1.department_id, u1.manager_id, u1.mobile, u1.email) == (
        "10", "boss", "13911112222", "u1@corp.example")  # fmt: skip
    assert (u2.department_id, u2.manager_id, u2.email) == ("11", "u1", "li@corp.example")
    assert u2.attributes == {"unionid": "union-u2"} and all(p.active for p in people.values())
    assert snapshot.present_people == set(people)
    assert snapshot.present_departments == {"1", "10", "11", "20"}
    assert sleeps == []
    incremental = dingtalk.read(make_source(fake), full=False)
    assert incremental.present_people is None and incremental.present_departments is None


def test_pull_follows_the_cursor(fake: FakeDingTalk) -> None:
    for n in range(7):
        fake.add_user(f"s{n}", f"销售{n}", "10")
    fake.page_size = 3
    snapshot = dingtalk.read(make_source(fake, read_managers=False), full=True)
    assert {f"s{n}" for n in range(7)} <= {p.external_id for p in snapshot.people}
    pages = [c for c in fake.api_calls("/topapi/v2/user/list") if c[3]["dept_id"] == 10]
    assert [c[3]["cursor"] for c in pages] == [0, 3, 6]
    assert all(c[3]["size"] == 100 for c in pages)
    assert not fake.api_calls("/topapi/v2/user/get")  # read_managers off: no per-person call
    assert all(p.manager_id is None for p in snapshot.people)


def test_root_only_when_someone_is_in_it(fake: FakeDingTalk) -> None:
    del fake.users["boss"]
    snapshot = dingtalk.read(make_source(fake, root_department_name="总公司"), full=True)
    assert "1" not in {d.external_id for d in snapshot.departments}
    fake.add_user("boss", "王总", "1")
    snapshot = dingtalk.read(make_source(fake, root_department_name="总公司"), full=True)
    assert {d.external_id: d.name for d in snapshot.departments}["1"] == "总公司"


@pytest.mark.parametrize("as_88", [False, True])
def test_an_invalid_token_is_asked_for_again_once(fake: FakeDingTalk, as_88: bool) -> None:
    fake.token_error_as_88 = as_88
    api = dingtalk.DingTalkApi.for_source(make_source(fake))
    departments = api.departments("1")
    fake.expire_tokens()
    assert {p.external_id for p in api.people(departments)} == {"boss", "u1", "u2", "u3"}
    assert fake.token_requests == 2


def test_a_token_refused_again_fails_the_pull(
    fake: FakeDingTalk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fake, "new_token", lambda: "never-valid")
    with pytest.raises(SourceError, match="refused a fresh access token"):
        dingtalk.read(make_source(fake), full=True)
    assert fake.token_requests == 2


def test_rate_limit_backs_off_and_is_bounded(fake: FakeDingTalk, sleeps: list[float]) -> None:
    fake.busy = 2
    assert len(dingtalk.read(make_source(fake), full=True).people) == 4
    assert sleeps == [1.0, 2.0]
    sleeps.clear()
    fake.busy = 10
    with pytest.raises(SourceError, match="slow down"):
        dingtalk.read(make_source(fake), full=True)
    assert sleeps == list(openapi.BACKOFF_SECONDS)


def test_credentials_permissions_and_reachability(fake: FakeDingTalk) -> None:
    wrong = make_source(fake)
    wrong.set_secrets({"app_secret": "wrong"})
    with pytest.raises(SourceError, match="40089"):
        dingtalk.read(wrong, full=True)
    fake.forbidden.add("20")
    with pytest.raises(SourceError, match="60011"):
        dingtalk.read(make_source(fake), full=True)
    with pytest.raises(SourceError, match="AppKey"):
        dingtalk.read(make_source(fake, app_key=""), full=True)
    gone = make_source(fake, base_url="http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(SourceError, match="could not be reached") as caught:
        dingtalk.read(gone, full=True)
    assert fake.app_secret not in str(caught.value) and caught.value.__cause__ is None


@pytest.mark.django_db
def test_sync_source_applies_the_pull_and_its_leavers(fake: FakeDingTalk) -> None:
    source = make_source(fake)
    source.save()
    assert sync.sync_source(source).status == SyncRun.Status.SUCCEEDED
    u2 = person(source, "u2")
    assert (u2.name, u2.department.name, u2.manager) == ("李四", "华东销售", person(source, "u1"))
    assert Department.objects.get(name="华东销售").parent == Department.objects.get(name="销售部")
    del fake.users["u3"]
    assert sync.sync_source(source).status == SyncRun.Status.SUCCEEDED
    assert person(source, "u3").status == Person.Status.LEFT


# --- the envelope -----------------------------------------------------------------------------


def test_the_official_dingtalk_example_decrypts() -> None:
    """The values of DingCallbackCrypto3.py in open-dingtalk/DingTalk-Callback-Crypto."""
    crypt = MsgCrypt("mryue", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7", "ding6ccabc44d2c8d38b")
    encrypt = ("0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBK"
               "yDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3")  # fmt: skip
    signature = "03044561471240d4a14bb09372dfcfd4fd0e40cb"
    assert (
        crypt.open(signature, "1608001896814", "WL4PK6yA", encrypt) == b'{"EventType":"check_url"}'
    )
    with pytest.raises(SignatureError):
        crypt.open(signature, "1608001896815", "WL4PK6yA", encrypt)
    other = MsgCrypt("mryue", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7", "dingotherapp")
    with pytest.raises(CryptError, match="another receiver"):
        other.decrypt(encrypt)


@pytest.mark.parametrize("length", [0, 1, 11, 12, 27, 28, 100])
def test_sealing_round_trips_with_the_fake(length: int) -> None:
    crypt = MsgCrypt(TOKEN, AES_KEY, "dingapp")
    message = ("钉" * length).encode()
    assert crypt.decrypt(fake_dingtalk.seal(AES_KEY, message, "dingapp")) == message
    assert unseal(AES_KEY, crypt.encrypt(message)) == (message, "dingapp")


# --- the HTTP callback ------------------------------------------------------------------------


@pytest.fixture
def source(fake: FakeDingTalk) -> DirectorySource:
    source = make_source(fake)
    source.save()
    assert sync.sync_source(source).status == SyncRun.Status.SUCCEEDED
    return source


def push(client: Client, source_id: int, query: dict[str, str], body: bytes) -> tuple[int, Any]:
    url = reverse("integrations:callback-dingtalk", args=[source_id]) + "?" + urlencode(query)
    response = client.post(url, data=body, content_type="application/json")
    try:
        return response.status_code, json.loads(response.content)
    except ValueError:
        return response.status_code, response.content.decode()


def signed(
    event: dict[str, Any] | bytes, fake: FakeDingTalk, **kwargs: Any
) -> tuple[dict[str, str], bytes]:
    options = {"token": TOKEN, "aes_key": AES_KEY, "receive_id": fake.app_key, **kwargs}
    return fake_dingtalk.callback(event, **options)


def person(source: DirectorySource, external_id: str) -> Person:
    return Person.objects.get(
        directory_links__source=source, directory_links__external_id=external_id
    )


def state(source: DirectorySource) -> tuple[Any, ...]:
    return (
        sorted(
            Person.objects.values_list("name", "status", "department_id", "email", "manager_id")
        ),
        sorted(Department.objects.values_list("name", "is_active", "parent_id")),
        DirectoryEvent.objects.filter(source=source).count(),
    )


@pytest.mark.django_db
def test_the_url_check_is_answered_with_the_encrypted_success(
    client: Client, fake: FakeDingTalk, source: DirectorySource
) -> None:
    status, reply = push(client, source.pk, *signed({"EventType": "check_url"}, fake))
    assert status == 200
    assert reply["msg_signature"] == fake_dingtalk.sign(TOKEN, reply["timeStamp"], reply["nonce"],
                                                        reply["encrypt"])  # fmt: skip
    assert unseal(AES_KEY, reply["encrypt"]) == (b"success", fake.app_key)


@pytest.mark.django_db
def test_person_events_are_applied(
    client: Client, fake: FakeDingTalk, source: DirectorySource
) -> None:
    fake.add_user("u9", "周九", "11", manager_userid="u1")
    event = fake_dingtalk.event("user_add_org", UserId=["u9"], corp_id=fake.corp_id)
    assert push(client, source.pk, *signed(event, fake))[0] == 200
    u9 = person(source, "u9")
    assert (u9.name, u9.department.name, u9.manager) == ("周九", "华东销售", person(source, "u1"))

    fake.users["u9"].update(name="周九九", dept_id_list=[20])
    modified = fake_dingtalk.event("user_modify_org", UserId=["u9"])
    assert push(client, source.pk, *signed(modified, fake))[0] == 200
    u9.refresh_from_db()
    assert (u9.name, u9.department.name) == ("周九九", "信息技术部")

    del fake.users["u9"]
    left = fake_dingtalk.event("user_leave_org", UserId=["u9", "u3"])
    assert push(client, source.pk, *signed(left, fake))[0] == 200
    for uid in ("u9", "u3"):
        gone = person(source, uid)
        assert gone.status == Person.Status.LEFT and gone.left_on is not None


@pytest.mark.django_db
def test_department_events_are_applied(
    client: Client, fake: FakeDingTalk, source: DirectorySource
) -> None:
    fake.add_department("12", "华西销售", parent="10")
    created = fake_dingtalk.event("org_dept_create", DeptId=[12])
    assert push(client, source.pk, *signed(created, fake))[0] == 200
    west = Department.objects.get(name="华西销售")
    assert west.parent == Department.objects.get(name="销售部")
    fake.departments["12"]["name"] = "西部销售"
    assert (
        push(client, source.pk, *signed(fake_dingtalk.event("org_dept_modify", DeptId=[12]), fake))[
            0
        ]
        == 200
    )
    west.refresh_from_db()
    assert west.name == "西部销售"
    del fake.departments["12"]
    assert (
        push(client, source.pk, *signed(fake_dingtalk.event("org_dept_remove", DeptId=[12]), fake))[
            0
        ]
        == 200
    )
    west.refresh_from_db()
    assert not west.is_active


@pytest.mark.django_db
def test_a_replayed_event_changes_nothing(
    client: Client, fake: FakeDingTalk, source: DirectorySource
) -> None:
    fake.users["u2"]["name"] = "李四四"
    event = fake_dingtalk.event("user_modify_org", UserId=["u2"])
    query, body = signed(event, fake)
    assert push(client, source.pk, query, body)[0] == 200
    assert person(source, "u2").name == "李四四"
    fake.users["u2"]["name"] = "李四五"  # what a replay would now read
    before = state(source)
    assert push(client, source.pk, query, body)[0] == 200  # the same delivery again
    assert push(client, source.pk, *signed(event, fake))[0] == 200  # re-sealed, same event
    assert state(source) == before and person(source, "u2").name == "李四四"
    with_id = {**event, "eventId": "ev-42"}
    assert push(client, source.pk, *signed(with_id, fake))[0] == 200
    assert DirectoryEvent.objects.filter(source=source, event_id="ev-42:u2").count() == 1


@pytest.mark.django_db
def test_refused_callbacks_change_nothing(
    client: Client, fake: FakeDingTalk, source: DirectorySource
) -> None:
    fake.users["u2"]["name"] = "攻击者"
    event = fake_dingtalk.event("user_modify_org", UserId=["u2"])
    before = state(source)
    query, body = signed(event, fake)
    assert push(client, source.pk, {**query, "msg_signature": "0" * 40}, body)[0] == 401
    assert push(client, source.pk, {**query, "nonce": "other"}, body)[0] == 401
    old = str(int(time.time() * 1000) - 10 * 60 * 1000)
    assert push(client, source.pk, *signed(event, fake, timestamp=old))[0] == 401
    assert (
        push(client, source.pk, {k: v for k, v in query.items() if k != "timestamp"}, body)[0]
        == 401
    )
    other_key = signed(event, fake, aes_key="ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210abcdefg")
    assert (
        push(client, source.pk, *other_key)[0] == 400
    )  # signed with our token, sealed with another key
    assert push(client, source.pk, *signed(event, fake, receive_id="dingotherapp"))[0] == 400
    assert push(client, source.pk, *signed(b"not json", fake))[0] == 400
    assert push(client, source.pk, query, b"not json")[0] == 400
    assert state(source) == before and person(source, "u2").name == "李四"


@pytest.mark.django_db
def test_unknown_disabled_other_kind_and_unconfigured_sources(
    client: Client, fake: FakeDingTalk, source: DirectorySource
) -> None:
    fake.users["u2"]["name"] = "别人"
    query, body = signed(fake_dingtalk.event("user_modify_org", UserId=["u2"]), fake)
    before = state(source)
    assert push(client, source.pk + 1000, query, body)[0] == 404
    wecom = DirectorySource.objects.create(name="企业微信", kind=DirectorySource.Kind.WECOM)
    assert push(client, wecom.pk, query, body)[0] == 404
    DirectorySource.objects.filter(pk=source.pk).update(enabled=False)
    assert push(client, source.pk, query, body)[0] == 404
    DirectorySource.objects.filter(pk=source.pk).update(enabled=True, credentials="")
    source.refresh_from_db()
    source.set_secrets({"app_secret": fake.app_secret})  # no callback token / key
    source.save()
    assert push(client, source.pk, query, body)[0] == 404
    assert state(source) == before


@pytest.mark.django_db
def test_oversized_body_and_method(
    client: Client, fake: FakeDingTalk, source: DirectorySource
) -> None:
    url = reverse("integrations:callback-dingtalk", args=[source.pk])
    query, _body = signed(fake_dingtalk.event("user_modify_org", UserId=["u2"]), fake)
    huge = b'{"encrypt": "' + b"A" * (1024 * 1024) + b'"}'
    response = client.post(url + "?" + urlencode(query), data=huge, content_type="application/json")
    assert response.status_code == 413
    assert client.get(url).status_code == 405


@pytest.mark.django_db
def test_an_event_dingtalk_cannot_answer_for_is_refused_for_redelivery(
    client: Client, fake: FakeDingTalk, source: DirectorySource, sleeps: list[float]
) -> None:
    fake.add_user("u9", "周九", "11")
    before = state(source)
    fake.busy = 10
    query, body = signed(fake_dingtalk.event("user_add_org", UserId=["u9"]), fake)
    assert push(client, source.pk, query, body)[0] == 503
    assert state(source) == before  # the event id is not remembered: the redelivery applies
    fake.busy = 0
    assert push(client, source.pk, query, body)[0] == 200
    assert person(source, "u9").name == "周九"


# --- Stream mode ------------------------------------------------------------------------------


def stream(
    fake: FakeDingTalk, event_type: str, data: dict[str, Any], event_id: str
) -> dingtalk_stream.EventMessage:
    return fake_dingtalk.stream_message(event_type, data, event_id=event_id, corp_id=fake.corp_id)


@pytest.mark.django_db
def test_the_stream_handler_applies_sdk_events(fake: FakeDingTalk, source: DirectorySource) -> None:
    handler = DirectoryEventHandler(source.pk)
    fake.add_user("u9", "周九", "20", manager_userid="u3")
    added = stream(fake, "user_add_org", {"userId": ["u9"]}, "ev-s1")
    assert isinstance(added, dingtalk_stream.EventMessage)
    assert handler.handle(added) == (dingtalk_stream.AckMessage.STATUS_OK, "OK")
    u9 = person(source, "u9")
    assert (u9.department.name, u9.manager) == ("信息技术部", person(source, "u3"))

    fake.users["u9"]["name"] = "周久"
    before = state(source)
    assert handler.handle(added)[0] == dingtalk_stream.AckMessage.STATUS_OK  # redelivered
    assert state(source) == before
    left = stream(fake, "user_leave_org", {"userId": ["u9"]}, "ev-s2")
    assert handler.handle(left)[0] == dingtalk_stream.AckMessage.STATUS_OK
    assert person(source, "u9").status == Person.Status.LEFT
    other_kind = stream(fake, "chat_update_title", {"chatId": "c1"}, "ev-s3")
    assert handler.handle(other_kind) == (dingtalk_stream.AckMessage.STATUS_OK, "OK")
    assert fake.token_requests == 2  # the initial sync's, then one for the handler's events


@pytest.mark.django_db
def test_the_stream_handler_refuses_what_it_cannot_apply(
    fake: FakeDingTalk, source: DirectorySource, sleeps: list[float]
) -> None:
    handler = DirectoryEventHandler(source.pk)
    foreign = fake_dingtalk.stream_message("user_leave_org", {"userId": ["u1"]}, event_id="ev-x",
                                           corp_id="dingothercorp")  # fmt: skip
    fake.busy = 10
    busy = stream(fake, "user_add_org", {"userId": ["u1"]}, "ev-y")
    before = state(source)
    assert handler.handle(foreign)[0] == dingtalk_stream.AckMessage.STATUS_SYSTEM_EXCEPTION
    assert handler.handle(busy)[0] == dingtalk_stream.AckMessage.STATUS_SYSTEM_EXCEPTION
    assert state(source) == before
    DirectorySource.objects.filter(pk=source.pk).update(enabled=False)
    assert handler.handle(busy) == (dingtalk_stream.AckMessage.STATUS_OK, "source disabled")


@pytest.mark.django_db(transaction=True)
def test_the_stream_handler_runs_from_the_sdks_event_loop(fake: FakeDingTalk) -> None:
    """``process`` is what the SDK awaits: the ORM work runs in a thread of its own."""
    source = make_source(fake)
    source.save()
    assert sync.sync_source(source).status == SyncRun.Status.SUCCEEDED
    handler = DirectoryEventHandler(source.pk)
    fake.add_user("u9", "周九", "10")
    message = stream(fake, "user_add_org", {"userId": ["u9"]}, "ev-loop")
    ack = asyncio.run(handler.raw_process(message))
    assert ack.code == dingtalk_stream.AckMessage.STATUS_OK
    assert person(source, "u9").department.name == "销售部"


@pytest.mark.django_db
def test_the_stream_command_wires_the_handler(
    fake: FakeDingTalk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command as far as the cloud: the SDK's client gets the app's credentials and our
    handler, and would then run until stopped (not connected here)."""
    started: list[dingtalk_stream.DingTalkStreamClient] = []
    monkeypatch.setattr(
        dingtalk_stream.DingTalkStreamClient, "start_forever", lambda client: started.append(client)
    )
    with pytest.raises(CommandError, match="No DingTalk source"):
        call_command("dingtalk_stream", source="钉钉")
    source = make_source(fake)
    source.save()
    call_command("dingtalk_stream", source="钉钉", stdout=io.StringIO())
    (client,) = started
    assert (client.credential.client_id, client.credential.client_secret) == (
        fake.app_key, fake.app_secret)  # fmt: skip
    assert isinstance(client.event_handler, DirectoryEventHandler)
    assert client.event_handler.source_id == source.pk
    DirectorySource.objects.filter(pk=source.pk).update(enabled=False)
    with pytest.raises(CommandError, match="disabled"):
        call_command("dingtalk_stream", source="钉钉")
