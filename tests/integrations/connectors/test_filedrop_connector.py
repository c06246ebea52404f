"""The file-drop connector: an account export fetched over HTTP(S) or SFTP (real servers on
127.0.0.1, tests/fakes/filedrop.py) and read by the import engine; then a whole sync."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from django.utils import timezone

from core.exports import neutralise
from integrations.connectors import services, sync
from integrations.connectors.entries import ConnectorError, ExternalAccount
from integrations.connectors.models import Account, Connector, ConnectorRun
from integrations.connectors.vendors import filedrop
from renewals.inventory.models import Subscription
from renewals.usage.models import Seat
from tests.factories import PersonFactory, SubscriptionFactory
from tests.fakes.filedrop import HttpDrop, SftpDrop, new_key, public_line

pytestmark = pytest.mark.django_db

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
CSV = (
    "\ufeffLogin,E-mail,Employee No,Name,Last Active,Status\n"
    "Wang.Lei,wang.lei@example.cn,E001,王磊,2026-05-03,active\n"
    "li,li.na@example.cn,E002,李娜,2026-05-04 09:30,yes\n"
    "zhao,,E003,赵敏,2026-05-04T01:00:00Z,停用\n"
    ",only.mail@example.cn,,,,\n"
)


@pytest.fixture
def http_drop() -> Iterator[HttpDrop]:
    with HttpDrop() as drop:
        yield drop


@pytest.fixture
def sftp_drop() -> Iterator[SftpDrop]:
    with SftpDrop() as drop:
        yield drop


def make(url: str, subscription: Subscription | None = None, /, **values: str) -> Connector:
    """An unsaved file connector; ``values``: settings, and secrets by their keys."""
    secret = {"password", "private_key", "token"}
    made = Connector(
        name="Drop",
        kind=Connector.Kind.FILE,
        base_url=url,
        subscription=subscription or SubscriptionFactory.create(),
        config={k: v for k, v in values.items() if k not in secret},
    )
    made.set_secrets({k: v for k, v in values.items() if k in secret})
    return made


def over_http(drop: HttpDrop, data: bytes, **values: str) -> Connector:
    return make(drop.put("accounts.csv", data), **{"token": drop.token, **values})


def over_sftp(drop: SftpDrop, data: bytes, name: str = "accounts.csv", **values: str) -> Connector:
    defaults = {"username": drop.user, "password": drop.password,
                "host_key": public_line(drop.host_key)}  # fmt: skip
    return make(drop.put(name, data), **{**defaults, **values})


def by_id(accounts: list[ExternalAccount]) -> dict[str, ExternalAccount]:
    return {a.external_id: a for a in accounts}


def xlsx(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_csv_over_http_is_read_into_accounts(http_drop: HttpDrop) -> None:
    accounts = by_id(filedrop.read(over_http(http_drop, CSV.encode())))
    assert set(accounts) == {"wang.lei", "li", "zhao", "only.mail@example.cn"}
    wang = accounts["wang.lei"]
    assert (wang.user_name, wang.email, wang.employee_no, wang.display_name, wang.active) == (
        "Wang.Lei", "wang.lei@example.cn", "E001", "王磊", True)  # fmt: skip
    assert wang.last_active_at == dt.datetime(2026, 5, 3, tzinfo=SHANGHAI)  # a date: midnight
    assert accounts["li"].last_active_at == dt.datetime(2026, 5, 4, 9, 30, tzinfo=SHANGHAI)
    assert accounts["zhao"].last_active_at == dt.datetime(2026, 5, 4, 1, tzinfo=dt.UTC)
    assert accounts["zhao"].active is False
    assert accounts["only.mail@example.cn"].last_active_at is None  # never used
    assert http_drop.authorizations == [f"Bearer {http_drop.token}"]


def test_an_xlsx_over_sftp_with_a_password_merges_module_rows(sftp_drop: SftpDrop) -> None:
    data = xlsx([
        ["账号", "邮箱", "模块", "最后活跃时间", "状态"],
        ["wang", "wang@example.cn", "Jira", dt.datetime.fromisoformat("2026-05-02 14:00"), "正常"],
        ["WANG", None, "Confluence", dt.datetime.fromisoformat("2026-05-06 08:15"), None],
        [None, None, None, None, None],
        ["li", "li@example.cn", "Jira", dt.date(2026, 4, 30), "否"],
    ])  # fmt: skip
    accounts = by_id(filedrop.read(over_sftp(sftp_drop, data, "accounts.xlsx")))
    assert set(accounts) == {"wang", "li"} and sftp_drop.logins == ["password"]
    wang = accounts["wang"]
    assert wang.modules == {"Jira": dt.datetime(2026, 5, 2, 14, tzinfo=SHANGHAI),
                            "Confluence": dt.datetime(2026, 5, 6, 8, 15, tzinfo=SHANGHAI)}  # fmt: skip
    assert wang.last_active_at == dt.datetime(2026, 5, 6, 8, 15, tzinfo=SHANGHAI)
    assert (wang.email, wang.active, accounts["li"].active) == ("wang@example.cn", True, False)


def test_a_gbk_csv_with_chinese_headers_over_sftp_with_a_key(sftp_drop: SftpDrop) -> None:
    client_key, key_text = new_key()
    sftp_drop.authorized = client_key
    text = "用户名,电子邮箱,工号,姓名,最近登录,账号状态\r\n王磊,wl@example.cn,E9,王磊,2026年5月3日,启用\r\n"
    # The key as a one-line password field gives it: its line breaks gone.
    connector = over_sftp(sftp_drop, text.encode("gbk"), password="",
                          private_key=key_text.replace("\n", ""),
                          host_key=sftp_drop.host_key.fingerprint)  # fmt: skip
    (account,) = filedrop.read(connector)
    assert (account.external_id, account.display_name, account.employee_no) == (
        "王磊",
        "王磊",
        "E9",
    )
    assert account.last_active_at == dt.datetime(2026, 5, 3, tzinfo=SHANGHAI)
    assert sftp_drop.logins[-1] == "publickey" and "password" not in sftp_drop.logins


def test_wrong_credentials_are_clear_errors(http_drop: HttpDrop, sftp_drop: SftpDrop) -> None:
    with pytest.raises(ConnectorError, match="refused the connector's token") as caught:
        filedrop.read(over_http(http_drop, CSV.encode(), token="wrong-token-1"))
    assert "wrong-token-1" not in str(caught.value)
    with pytest.raises(ConnectorError, match="refused the user name, password or key") as caught:
        filedrop.read(over_sftp(sftp_drop, CSV.encode(), password="wrong-pass-2"))
    assert "wrong-pass-2" not in str(caught.value) and sftp_drop.logins == []
    http_drop.basic = "reader:basic-pass-3"  # basic authentication, when there is no token
    basic = make(http_drop.put("b.csv", CSV.encode()), username="reader", password="nope-4")
    with pytest.raises(ConnectorError, match="refused the connector's token or password"):
        filedrop.read(basic)
    basic.set_secrets({"password": "basic-pass-3"})
    assert len(filedrop.read(basic)) == 4


def test_an_unknown_host_key_is_refused_before_any_credential(sftp_drop: SftpDrop) -> None:
    other, _text = new_key()
    for pinned in (public_line(other), other.fingerprint):
        with pytest.raises(ConnectorError, match="host key is not the pinned one") as caught:
            filedrop.read(over_sftp(sftp_drop, CSV.encode(), host_key=pinned))
        assert sftp_drop.host_key.fingerprint in str(caught.value)  # what IT may pin, if right
    with pytest.raises(ConnectorError, match="needs the server's host key"):
        filedrop.read(over_sftp(sftp_drop, CSV.encode(), host_key=""))
    with pytest.raises(ConnectorError, match="neither a SHA256"):
        filedrop.read(over_sftp(sftp_drop, CSV.encode(), host_key="trust me"))
    assert sftp_drop.logins == []


def test_a_missing_file_or_a_redirect_is_a_clear_error(
    http_drop: HttpDrop, sftp_drop: SftpDrop
) -> None:
    with pytest.raises(ConnectorError, match=r"no file at .*/gone.csv \(HTTP 404\)"):
        filedrop.read(make(f"{http_drop.base}/gone.csv", token=http_drop.token))
    gone = over_sftp(sftp_drop, CSV.encode())
    gone.base_url = sftp_drop.url("gone.csv")
    with pytest.raises(ConnectorError, match="no file at sftp://.*/gone.csv"):
        filedrop.read(gone)
    sftp_drop.unreadable.add("accounts.csv")
    with pytest.raises(ConnectorError, match="may not read"):
        filedrop.read(over_sftp(sftp_drop, CSV.encode()))
    http_drop.redirects["/moved.csv"] = "https://elsewhere.example/accounts.csv"
    with pytest.raises(ConnectorError, match="redirects elsewhere"):
        filedrop.read(make(f"{http_drop.base}/moved.csv", token=http_drop.token))
    with pytest.raises(ConnectorError, match="https://… or sftp://"):
        filedrop.read(make("ftp://127.0.0.1/accounts.csv"))


def test_an_oversized_file_is_refused(
    http_drop: HttpDrop, sftp_drop: SftpDrop, settings: Any
) -> None:
    settings.IMPORT_MAX_BYTES = 4096
    big = (CSV + "x,x@example.cn,,,2026-05-01,\n" * 400).encode()
    with pytest.raises(ConnectorError, match="larger than"):
        filedrop.read(over_http(http_drop, big))
    http_drop.hide_length = True  # no Content-Length: counted while read
    with pytest.raises(ConnectorError, match="larger than"):
        filedrop.read(over_http(http_drop, big))
    with pytest.raises(ConnectorError, match="larger than"):
        filedrop.read(over_sftp(sftp_drop, big))
    assert len(filedrop.read(over_http(http_drop, CSV.encode()))) == 4  # under the limit: read


def test_a_bad_row_fails_the_whole_read_naming_it(http_drop: HttpDrop) -> None:
    bad = CSV + "sun,sun@example,,,2026-02-30,maybe\n" + ",,E7,nobody,2026-05-01,\n"
    with pytest.raises(ConnectorError) as caught:
        filedrop.read(over_http(http_drop, bad.encode()))
    message = str(caught.value)
    assert "4 errors; nothing was read" in message
    assert "row 6, active: Not one of: active, inactive." in message
    assert "row 6, email: Not an e-mail address." in message
    assert "row 6, last_active: Not a date" in message
    bad_time = CSV + "sun,,,,2026-05-01 25:00,\n"
    with pytest.raises(ConnectorError, match="row 6, last_active: Not a date"):
        filedrop.read(over_http(http_drop, bad_time.encode()))
    no_id = "account,email,last_active\nok,,2026-05-01\n,,2026-05-01\n"
    with pytest.raises(ConnectorError, match="row 3, account: A value is required"):
        filedrop.read(over_http(http_drop, no_id.encode()))
    with pytest.raises(ConnectorError, match="column of the account"):
        filedrop.read(over_http(http_drop, b"name,last_active\nwang,2026-05-01\n"))


def test_formulas_are_refused_and_other_text_is_cleaned(http_drop: HttpDrop) -> None:
    formula = CSV + 'evil,,,"=HYPERLINK(""http://x"",""y"")",2026-05-01,\n'
    with pytest.raises(ConnectorError, match="row 6, name: Formulas are not accepted"):
        filedrop.read(over_http(http_drop, formula.encode()))
    data = xlsx([["login", "last_active"], ["wang", "=TODAY()"]])
    with pytest.raises(ConnectorError, match="row 2, last_active: Formulas are not accepted"):
        filedrop.read(make(http_drop.put("f.xlsx", data), token=http_drop.token))
    text = 'login,name,last_active\n@cmd,"+SUM(1)\x07\u2028 Lei",2026-05-01\n'
    (account,) = filedrop.read(over_http(http_drop, text.encode()))
    assert (account.external_id, account.display_name) == ("@cmd", "+SUM(1) Lei")
    assert neutralise(account.display_name) == "'+SUM(1) Lei"  # as every export writes it


def test_hostile_files_fail_cleanly(http_drop: HttpDrop) -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 * 1024 * 1024))
    for data, error in (
        (bomb.getvalue(), "zip bomb"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "not a CSV or XLSX"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old Excel 97-2003"),
        (b"PK\x03\x04 not really a zip", "damaged"),
        (b"login,last_active\nwang,2026-05-01,extra,cells\n", "Row 2 has more values than"),
        (b"", "empty"),
    ):
        with pytest.raises(ConnectorError, match=error):
            filedrop.read(over_http(http_drop, data))


def test_rows_of_other_subscriptions_are_ignored(http_drop: HttpDrop) -> None:
    mine = SubscriptionFactory.create(ref="SUB-MINE")
    text = "订阅编号,账号,最近活跃\nSUB-MINE,a,2026-05-01\nSUB-OTHER,b,2026-05-01\n,c,2026-05-02\n"
    url = http_drop.put("shared.csv", text.encode())
    accounts = filedrop.read(make(url, mine, token=http_drop.token))
    assert sorted(a.external_id for a in accounts) == ["a", "c"]
    other = SubscriptionFactory.create(ref="SUB-THIRD")
    http_drop.put("shared.csv", text.replace(",c,", "SUB-MINE,c,").encode())
    with pytest.raises(
        ConnectorError, match="No row of the file is for the subscription SUB-THIRD"
    ):
        filedrop.read(make(url, other, token=http_drop.token))
    with pytest.raises(ConnectorError, match="header but no data rows"):
        filedrop.read(over_http(http_drop, b"login,last_active\n"))


def test_a_saved_connector_syncs_accounts_matched_to_people(http_drop: HttpDrop) -> None:
    wang = PersonFactory.create(name="王磊", email="Wang.Lei@example.cn")
    li = PersonFactory.create(name="李娜", employee_no="E002", email="")
    url = http_drop.put("accounts.csv", CSV.encode())
    connector = services.connector_save(
        connector=None, subscription=SubscriptionFactory.create(), kind="file",
        name="Tool without API", base_url=url, config={"timeout": 10},
        secrets={"token": http_drop.token},
    )  # fmt: skip
    run = sync.sync_connector(connector)
    assert run is not None and run.status == ConnectorRun.Status.SUCCEEDED, run and run.error
    matched = dict(Account.objects.values_list("external_id", "person_id"))
    assert matched == {"wang.lei": wang.pk, "li": li.pk, "zhao": None,
                       "only.mail@example.cn": None}  # fmt: skip
    stored = Account.objects.get(external_id="li")
    assert timezone.localtime(stored.last_active_at) == dt.datetime(2026, 5, 4, 9, 30,
                                                                    tzinfo=SHANGHAI)  # fmt: skip
    seats = dict(Seat.objects.filter(revoked_on__isnull=True)
                 .values_list("person_id", "last_active_on"))  # fmt: skip
    assert seats == {wang.pk: dt.date(2026, 5, 3), li.pk: dt.date(2026, 5, 4)}
    # A file with a bad row later: the run fails naming it, and nothing is applied.
    http_drop.put("accounts.csv", (CSV.replace("2026-05-03", "soon")).encode())
    before = list(Account.objects.order_by("pk").values_list("pk", "changed_at", "present"))
    failed = sync.sync_connector(connector)
    assert failed is not None and failed.status == ConnectorRun.Status.FAILED
    assert "row 2, last_active: Not a date" in failed.error
    after = list(Account.objects.order_by("pk").values_list("pk", "changed_at", "present"))
    assert after == before
