"""WeCom (企业微信) as a directory source (issue #19): the full pull through a fake server API
(tests/fakes/wecom.py), the envelope against WeCom's documented example values, and the callback:
the URL check, change_contact events applied, and everything refused changing nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography.fernet import Fernet
from django.test import Client
from django.urls import include, path, reverse

from integrations.callbacks.wecom import receive
from integrations.directory import openapi, sync, wecom
from integrations.directory.entries import SourceError
from integrations.directory.msgcrypt import CryptError, MsgCrypt, SignatureError, is_fresh
from integrations.models import DirectoryEvent, DirectoryLink, DirectorySource, SyncRun
from org.models import Department, Person
from tests.fakes import wecom as fake_wecom
from tests.fakes.errcode_http import seal, unseal
from tests.fakes.wecom import FakeWeCom

_callbacks = [path("callbacks/wecom/<int:source_id>/", receive, name="callback-wecom")]
urlpatterns = [path("integrations/", include((_callbacks, "integrations")))]
pytestmark = pytest.mark.urls(__name__)

TOKEN = "fakeWeComToken"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aQ"

# WeCom's own example (加解密方案说明, and the Sample of its WXBizMsgCrypt libraries).
DOC_TOKEN = "QDG6eK"
DOC_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
DOC_CORP = "wx5823bf96d3bd56c7"
DOC_ECHOSTR = (
    "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
)
DOC_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCU"
    "pj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgp"
    "ue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+Kq"
    "CKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XX"
    "ZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHB"
    "ZZIs2pDBS8R07+qN+E7Q=="
)


@pytest.fixture(autouse=True)
def secrets_key(settings: Any) -> None:
    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]


@pytest.fixture
def fake() -> Iterator[FakeWeCom]:
    server = FakeWeCom()
    server.add_department("2", "销售部")
    server.add_department("3", "华东销售", parent="2")
    server.add_department("4", "信息技术部")
    server.add_user("boss", "王总", "1", extattr={"attrs": [
        {"type": 0, "name": "工号", "text": {"value": "E001"}}]})  # fmt: skip
    server.add_user("u1", "张三", "2", direct_leader=["boss"], mobile="13911112222")
    server.add_user("u2", "李四", "4", "3", main_department=3, direct_leader=["u1"], email="",
                    biz_mail="li@corp.example")  # fmt: skip
    server.add_user("u3", "赵六", "4", status=2)  # disabled
    server.add_user("u4", "钱七", "4", status=4)  # not activated yet
    server.add_user("u5", "孙八", "4", status=5)  # left the company
    with server:
        yield server


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(openapi, "sleep", waited.append)
    return waited


def make_source(fake: FakeWeCom, **config: object) -> DirectorySource:
    source = DirectorySource(
        name="企业微信",
        kind=DirectorySource.Kind.WECOM,
        config={
            "corp_id": fake.corp_id,
            "base_url": fake.base_url,
            "employee_no_attr": "工号",
            **config,
        },
    )
    source.set_secrets(
        {"corp_secret": fake.corp_secret, "callback_token": TOKEN, "callback_aes_key": AES_KEY}
    )
    return source


# --- the pull ---------------------------------------------------------------------------------


def test_full_pull_maps_departments_and_people(fake: FakeWeCom, sleeps: list[float]) -> None:
    snapshot = wecom.read(make_source(fake), full=True)
    departments = {d.external_id: d for d in snapshot.departments}
    assert (departments["1"].name, departments["1"].parent_id) == ("示例集团", None)
    assert (departments["2"].parent_id, departments["3"].parent_id) == ("1", "2")
    people = {p.external_id: p for p in snapshot.people}
    assert set(people) == {"boss", "u1", "u2", "u3", "u4", "u5"}
    boss, u1, u2 = people["boss"], people["u1"], people["u2"]
    assert (boss.department_id, boss.employee_no, boss.manager_id) == ("1", "E001", None)
    assert (u1.department_id, u1.manager_id, u1.mobile, u1.email, u1.employee_no) == (
        "2", "boss", "13911112222", "u1@corp.example", "")  # fmt: skip
    assert (u2.department_id, u2.manager_id, u2.email) == ("3", "u1", "li@corp.example")
    assert u2.attributes == {"open_userid": "wo-u2"}
    assert [people[u].active for u in ("u1", "u3", "u4", "u5")] == [True, False, True, False]
    assert snapshot.present_people == set(people)
    assert snapshot.present_departments == {"1", "2", "3", "4"}
    assert len(fake.api_calls("/cgi-bin/user/list")) == 4 and sleeps == []
    assert wecom.read(make_source(fake), full=False).present_people is None


def test_new_apps_get_no_contact_fields(fake: FakeWeCom) -> None:
    """Self-built apps made since 2022-06-20 see no mobile / e-mail: the entries come without."""
    for user in fake.users.values():
        for field in ("mobile", "email", "biz_mail"):
            user.pop(field, None)
    people = {p.external_id: p for p in wecom.read(make_source(fake), full=True).people}
    assert (people["u1"].email, people["u1"].mobile, people["u1"].name) == ("", "", "张三")


def test_root_only_when_someone_is_in_it(fake: FakeWeCom) -> None:
    del fake.users["boss"]
    snapshot = wecom.read(make_source(fake), full=True)
    assert "1" not in {d.external_id for d in snapshot.departments}


def test_an_expired_token_is_asked_for_again_once(fake: FakeWeCom) -> None:
    api = wecom.WeComApi.for_source(make_source(fake))
    departments = api.departments("1")
    fake.expire_tokens()
    assert len(api.people(departments)) == 6
    assert fake.token_requests == 2


def test_a_token_refused_again_fails_the_pull(
    fake: FakeWeCom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fake, "new_token", lambda: "never-valid")
    with pytest.raises(SourceError, match="refused a fresh access token"):
        wecom.read(make_source(fake), full=True)


def test_rate_limit_backs_off_and_is_bounded(fake: FakeWeCom, sleeps: list[float]) -> None:
    fake.busy = 3
    assert len(wecom.read(make_source(fake), full=True).people) == 6
    assert sleeps == [1.0, 2.0, 4.0]
    sleeps.clear()
    fake.busy = 4
    with pytest.raises(SourceError, match="slow down"):
        wecom.read(make_source(fake), full=True)
    assert sleeps == list(openapi.BACKOFF_SECONDS)


def test_credentials_and_privileges(fake: FakeWeCom) -> None:
    wrong = make_source(fake)
    wrong.set_secrets({"corp_secret": "wrong"})
    with pytest.raises(SourceError, match="40001"):
        wecom.read(wrong, full=True)
    with pytest.raises(SourceError, match="40013"):
        wecom.read(make_source(fake, corp_id="wwother"), full=True)
    with pytest.raises(SourceError, match="corp ID"):
        wecom.read(make_source(fake, corp_id=""), full=True)
    fake.forbidden.add("3")
    with pytest.raises(SourceError, match="60011") as caught:
        wecom.read(make_source(fake), full=True)
    assert fake.corp_secret not in str(caught.value)


@pytest.mark.django_db
def test_sync_source_applies_the_pull_and_its_leavers(fake: FakeWeCom) -> None:
    source = make_source(fake)
    source.save()
    assert sync.sync_source(source).status == SyncRun.Status.SUCCEEDED
    u2 = person(source, "u2")
    assert (u2.department.name, u2.manager, u2.employee_no != "") == (
        "华东销售",
        person(source, "u1"),
        True,
    )
    assert person(source, "boss").employee_no == "E001"
    assert person(source, "u3").status == Person.Status.LEFT  # disabled
    assert person(source, "u4").status == Person.Status.ACTIVE
    del fake.users["u1"]
    assert sync.sync_source(source).status == SyncRun.Status.SUCCEEDED
    assert person(source, "u1").status == Person.Status.LEFT


# --- the envelope -----------------------------------------------------------------------------


def test_wecoms_documented_example_values() -> None:
    crypt = MsgCrypt(DOC_TOKEN, DOC_KEY, DOC_CORP)
    # Verifying the URL (GET): signature over the echostr; it decrypts to a number string.
    echo = crypt.open(
        "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780", DOC_ECHOSTR
    )
    assert echo == b"1616140317555161061"
    # A message (POST).
    plain = crypt.open(
        "477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149", DOC_ENCRYPT
    )
    fields = wecom.xml_fields(plain)
    assert (fields["ToUserName"], fields["Content"], fields["MsgId"]) == (
        DOC_CORP,
        "hello",
        "4561255354251345929",
    )
    with pytest.raises(SignatureError):
        crypt.open(
            "477715d11cdb4164915debcba66cb864d751f3e6", "1409659814", "1372623149", DOC_ENCRYPT
        )
    with pytest.raises(CryptError, match="another receiver"):
        MsgCrypt(DOC_TOKEN, DOC_KEY, "wwothercorp").decrypt(DOC_ENCRYPT)


@pytest.mark.parametrize("length", [0, 1, 5, 10, 11, 16, 31, 32, 33, 100])
def test_sealing_round_trips_with_the_fake(length: int) -> None:
    crypt = MsgCrypt(TOKEN, AES_KEY, "wwcorp")
    message = ("微" * length).encode()
    assert crypt.decrypt(seal(AES_KEY, message, "wwcorp")) == message
    assert unseal(AES_KEY, crypt.encrypt(message)) == (message, "wwcorp")


def test_freshness_and_keys() -> None:
    now = time.time()
    assert is_fresh(str(int(now) - 299), now=now) and not is_fresh(str(int(now) - 301), now=now)
    assert is_fresh(str(int(now * 1000)), now=now) and not is_fresh("", now=now)
    with pytest.raises(CryptError):
        MsgCrypt(TOKEN, "too-short", "wwcorp")
    with pytest.raises(CryptError):
        MsgCrypt(TOKEN, AES_KEY, "")


# --- the callback -----------------------------------------------------------------------------


@pytest.fixture
def source(fake: FakeWeCom) -> DirectorySource:
    source = make_source(fake)
    source.save()
    assert sync.sync_source(source).status == SyncRun.Status.SUCCEEDED
    return source


def url(source_id: int, query: dict[str, str]) -> str:
    return reverse("integrations:callback-wecom", args=[source_id]) + "?" + urlencode(query)


def post(client: Client, source_id: int, query: dict[str, str], body: bytes) -> tuple[int, str]:
    response = client.post(url(source_id, query), data=body, content_type="text/xml")
    return response.status_code, response.content.decode()


def change(fake: FakeWeCom, change_type: str, **fields: Any) -> tuple[dict[str, str], bytes]:
    xml = fake_wecom.message(change_type, corp_id=fake.corp_id, **fields)
    return fake_wecom.callback(xml, token=TOKEN, aes_key=AES_KEY, corp_id=fake.corp_id)


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
def test_the_url_check_answers_the_decrypted_echostr(
    client: Client, fake: FakeWeCom, source: DirectorySource
) -> None:
    query = fake_wecom.url_check(
        "5927782489442352469", token=TOKEN, aes_key=AES_KEY, corp_id=fake.corp_id
    )
    response = client.get(url(source.pk, query))
    assert (response.status_code, response.content) == (200, b"5927782489442352469")
    assert client.get(url(source.pk, {**query, "msg_signature": "0" * 40})).status_code == 401
    other = fake_wecom.url_check("1", token=TOKEN, aes_key=AES_KEY, corp_id="wwothercorp")
    assert client.get(url(source.pk, other)).status_code == 400


@pytest.mark.django_db
def test_person_changes_are_applied(
    client: Client, fake: FakeWeCom, source: DirectorySource
) -> None:
    fake.add_user("u9", "周九", "3", direct_leader=["u1"])
    assert post(client, source.pk, *change(fake, "create_user", UserID="u9")) == (200, "")
    u9 = person(source, "u9")
    assert (u9.name, u9.department.name, u9.manager) == ("周九", "华东销售", person(source, "u1"))
    fake.users["u9"].update(name="周九九", department=[4], main_department=4)
    assert post(client, source.pk, *change(fake, "update_user", UserID="u9"))[0] == 200
    u9.refresh_from_db()
    assert (u9.name, u9.department.name) == ("周九九", "信息技术部")
    fake.users["u1"]["status"] = 2  # disabled in WeCom
    assert post(client, source.pk, *change(fake, "update_user", UserID="u1", Status="2"))[0] == 200
    assert person(source, "u1").status == Person.Status.LEFT
    del fake.users["u9"]
    assert post(client, source.pk, *change(fake, "delete_user", UserID="u9"))[0] == 200
    u9.refresh_from_db()
    assert u9.status == Person.Status.LEFT and u9.left_on is not None


@pytest.mark.django_db
def test_a_changed_userid_is_the_same_person(
    client: Client, fake: FakeWeCom, source: DirectorySource
) -> None:
    before = person(source, "u1")
    fake.users["u1-new"] = {**fake.users.pop("u1"), "userid": "u1-new"}
    query, body = change(fake, "update_user", UserID="u1", NewUserID="u1-new")
    assert post(client, source.pk, query, body)[0] == 200
    after = person(source, "u1-new")
    assert after.pk == before.pk and after.status == Person.Status.ACTIVE
    assert not DirectoryLink.objects.filter(source=source, external_id="u1").exists()


@pytest.mark.django_db
def test_department_changes_are_applied(
    client: Client, fake: FakeWeCom, source: DirectorySource
) -> None:
    fake.add_department("5", "华西销售", parent="2")
    assert (
        post(
            client, source.pk, *change(fake, "create_party", Id="5", Name="华西销售", ParentId="2")
        )[0]
        == 200
    )
    west = Department.objects.get(name="华西销售")
    assert west.parent == Department.objects.get(name="销售部")
    fake.departments["5"]["name"] = "西部销售"
    assert post(client, source.pk, *change(fake, "update_party", Id="5", ParentId="2"))[0] == 200
    west.refresh_from_db()
    assert west.name == "西部销售"
    del fake.departments["5"]
    assert post(client, source.pk, *change(fake, "delete_party", Id="5"))[0] == 200
    west.refresh_from_db()
    assert not west.is_active


@pytest.mark.django_db
def test_a_replayed_callback_changes_nothing(
    client: Client, fake: FakeWeCom, source: DirectorySource
) -> None:
    """WeCom gives no event id: the SHA-256 of the decrypted message stands for one."""
    fake.users["u2"]["name"] = "李四四"
    xml = fake_wecom.message("update_user", corp_id=fake.corp_id, UserID="u2")
    query, body = fake_wecom.callback(xml, token=TOKEN, aes_key=AES_KEY, corp_id=fake.corp_id)
    assert post(client, source.pk, query, body)[0] == 200
    assert person(source, "u2").name == "李四四"
    fake.users["u2"]["name"] = "李四五"
    before = state(source)
    assert post(client, source.pk, query, body)[0] == 200  # the same delivery
    resealed = fake_wecom.callback(xml, token=TOKEN, aes_key=AES_KEY, corp_id=fake.corp_id)
    assert post(client, source.pk, *resealed)[0] == 200  # WeCom's retry: sealed anew
    assert state(source) == before and person(source, "u2").name == "李四四"
    assert DirectoryEvent.objects.filter(source=source, event_id__startswith="sha256:").count() == 1


@pytest.mark.django_db
def test_refused_callbacks_change_nothing(
    client: Client, fake: FakeWeCom, source: DirectorySource
) -> None:
    fake.users["u2"]["name"] = "攻击者"
    xml = fake_wecom.message("update_user", corp_id=fake.corp_id, UserID="u2")
    before = state(source)
    query, body = fake_wecom.callback(xml, token=TOKEN, aes_key=AES_KEY, corp_id=fake.corp_id)
    assert post(client, source.pk, {**query, "msg_signature": "0" * 40}, body)[0] == 401
    assert post(client, source.pk, {**query, "nonce": "other"}, body)[0] == 401
    old = str(int(time.time()) - 600)
    stale = fake_wecom.callback(
        xml, token=TOKEN, aes_key=AES_KEY, corp_id=fake.corp_id, timestamp=old
    )
    assert post(client, source.pk, *stale)[0] == 401
    other_key = fake_wecom.callback(
        xml,
        token=TOKEN,
        aes_key="ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210abcdefg",
        corp_id=fake.corp_id,
    )
    assert post(client, source.pk, *other_key)[0] == 400
    other_corp = fake_wecom.callback(xml, token=TOKEN, aes_key=AES_KEY, corp_id="wwothercorp")
    assert post(client, source.pk, *other_corp)[0] == 400
    assert post(client, source.pk, query, b"<xml><Encrypt>")[0] == 400
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
            b"<xml><Encrypt>&b;</Encrypt></xml>")  # fmt: skip
    assert post(client, source.pk, query, bomb)[0] == 400
    inner_bomb = fake_wecom.callback(bomb, token=TOKEN, aes_key=AES_KEY, corp_id=fake.corp_id)
    assert post(client, source.pk, *inner_bomb)[0] == 400
    assert state(source) == before and person(source, "u2").name == "李四"


@pytest.mark.django_db
def test_unknown_disabled_other_kind_and_unconfigured_sources(
    client: Client, fake: FakeWeCom, source: DirectorySource
) -> None:
    fake.users["u2"]["name"] = "别人"
    query, body = change(fake, "update_user", UserID="u2")
    before = state(source)
    assert post(client, source.pk + 1000, query, body)[0] == 404
    dingtalk = DirectorySource.objects.create(name="钉钉", kind=DirectorySource.Kind.DINGTALK)
    assert post(client, dingtalk.pk, query, body)[0] == 404
    DirectorySource.objects.filter(pk=source.pk).update(enabled=False)
    assert post(client, source.pk, query, body)[0] == 404
    DirectorySource.objects.filter(pk=source.pk).update(enabled=True, credentials="")
    source.refresh_from_db()
    source.set_secrets({"corp_secret": fake.corp_secret})
    source.save()
    assert post(client, source.pk, query, body)[0] == 404
    assert state(source) == before


@pytest.mark.django_db
def test_oversized_body_method_and_other_events(
    client: Client, fake: FakeWeCom, source: DirectorySource
) -> None:
    query, _body = change(fake, "update_user", UserID="u2")
    huge = b"<xml><Encrypt>" + b"A" * (1024 * 1024) + b"</Encrypt></xml>"
    assert post(client, source.pk, query, huge)[0] == 413
    assert client.put(url(source.pk, query)).status_code == 405
    before = state(source)
    assert post(client, source.pk, *change(fake, "update_tag", TagId="1"))[0] == 200
    text = "<xml><ToUserName>x</ToUserName><MsgType>text</MsgType><Content>hi</Content></xml>"
    assert post(client, source.pk, *fake_wecom.callback(text, token=TOKEN, aes_key=AES_KEY,
                                                        corp_id=fake.corp_id))[0] == 200  # fmt: skip
    assert state(source) == before


@pytest.mark.django_db
def test_a_change_wecom_cannot_answer_for_is_refused_for_a_retry(
    client: Client, fake: FakeWeCom, source: DirectorySource, sleeps: list[float]
) -> None:
    fake.add_user("u9", "周九", "3")
    query, body = change(fake, "create_user", UserID="u9")
    before = state(source)
    fake.busy = 10
    assert post(client, source.pk, query, body)[0] == 503
    assert state(source) == before
    fake.busy = 0
    assert post(client, source.pk, query, body)[0] == 200
    assert person(source, "u9").name == "周九"
