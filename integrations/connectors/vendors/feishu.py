"""The Feishu (飞书) tenant connector: every member of the tenant with their status, and their
activity per day from the admin console's user statistics (消息, 云文档, 日历, 视频会议);
revoking suspends (冻结) the member, bringing back unsuspends them.

An internal (自建) app of the tenant signs in with ``app_id`` and the secret ``app_secret``
(``connector.base_url``: https://open.feishu.cn, or https://open.larksuite.com for Lark).
``connector.config``: ``timeout`` (30 s per request), ``days`` (7, at most 31: the days of
statistics read, up to yesterday; about members x days / 60 requests), ``max_accounts``
(200,000: more is refused as a loop).

What is read (every call is ``Authorization: Bearer`` the tenant token):
- ``POST /open-apis/auth/v3/tenant_access_token/internal``: the tenant token (a refused one,
  codes 99991661/99991663, is fetched again once; a wrong app secret: code 10014 ...);
- the members the app's contact scope covers, the directory reader's way: ``GET /open-apis/
  contact/v3/departments/0/children?fetch_child=true`` then ``GET /open-apis/contact/v3/users/
  find_by_department`` for the root ("0") and each department (``user_id_type=user_id``,
  ``department_id_type=open_department_id``, 50 a page);
- ``GET /open-apis/admin/v1/admin_user_stats`` (``start_date``/``end_date`` YYYY-MM-DD, both
  included, at most 31 days apart; ``user_id_type=user_id``; 60 a page): one row per member and
  day with ``last_active_time``, ``im_active_flag``, ``docs_active_flag``, ``cal_active_flag``,
  ``vc_active_flag`` (1: active that day). A day's figures come out the next morning at 09:30.

Each account: ``external_id`` = the member's ``user_id`` (one id across the tenant's apps, as
the directory source uses; a re-created app finds every account again). E-mail: the
``enterprise_email`` when set, else ``email``; ``employee_no``, ``mobile``, ``name``. Active
unless ``status.is_frozen``, ``is_resigned`` or ``is_exited`` is true or ``is_activated`` false
(a member without a status, the app lacking its permission, counts as active). Last activity:
the latest ``last_active_time`` of the rows read. ``modules``, for a member the statistics list:
``Messenger`` (消息), ``Docs`` (云文档), ``Calendar`` (日历), ``Meetings`` (视频会议) -> the
start of the last day active in it (None: not used in those days): name a 飞书 subscription's
modules so. Times without an offset are the tenant's: UTC+8 (Feishu), UTC (Lark).

Revoking: ``PATCH /open-apis/contact/v3/users/:user_id`` with ``{"is_frozen": true}`` (暂停:
the member cannot sign in, keeps their data and seat count until deleted); bringing back:
``false``. Deleting a member (``DELETE /open-apis/contact/v3/users/:user_id``) hands over or
drops their documents, chats and calendars, so it is left to Feishu's admin console: a
connector set to delete is refused.

A rate limit (HTTP 429, or code 99991400) is waited out after ``x-ogw-ratelimit-reset``. Any
failure raises a translated ``ConnectorError``; nothing partial is returned; the app secret
and the token are never logged.

Documentation followed:
- https://open.feishu.cn/document/ukTMukTMukTM/ukDNz4SO0MjL5QzM/auth-v3/auth/tenant_access_token_internal
- https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/contact-v3/department/children
- https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/contact-v3/user/find_by_department
- https://open.feishu.cn/document/server-docs/admin-v1/data-report-management/list-2
  (获取用户维度的用户活跃和功能使用数据, admin_user_stat/list)
- https://open.feishu.cn/document/server-docs/contact-v3/user/patch (修改用户部分信息:
  ``is_frozen``; 1 request a second when it changes) and .../contact-v3/user/delete
- https://open.feishu.cn/document/server-docs/api-call-guide/frequency-control and
  .../api-call-guide/generic-error-code
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from integrations.connectors.entries import (
    MAX_EMAIL,
    MAX_EMPLOYEE_NO,
    MAX_ID,
    MAX_MOBILE,
    MAX_NAME,
    MAX_TEXT,
    ConnectorError,
    ConnectorKind,
    ExternalAccount,
    clean_text,
    parse_stamp,
)
from integrations.connectors.http import MAX_WAIT, Refused, VendorHttp
from integrations.setting import Setting

logger = logging.getLogger(__name__)

SETTINGS = (
    Setting("app_id", gettext_lazy("App ID"), required=True,
            help=gettext_lazy("Of an internal app of the tenant, with the permissions in docs/connectors.md.")),
    Setting("app_secret", gettext_lazy("App secret"), secret=True, required=True),
    Setting("timeout", gettext_lazy("Time-out (seconds)"), kind="int", max_value=300, default=30),
    Setting("days", gettext_lazy("Days of activity read"), kind="int", max_value=31, default=7,
            help=gettext_lazy("Feishu's daily user statistics, up to yesterday (at most 31 days).")),
    Setting("max_accounts", gettext_lazy("Most accounts"), kind="int", max_value=1_000_000,
            help=gettext_lazy("More than this is refused as a loop; default 200,000.")),
)  # fmt: skip

ROOT = "0"
CONTACT_PAGE, STATS_PAGE = 50, 60  # the most each list gives per page
MAX_PAGES = 100_000  # of a list (the statistics: as many as max_accounts x days need)
TOKEN_CODES = {99991661, 99991663}  # the tenant token is missing / invalid (expired)
RATE_LIMITED = 99991400
CHINA, UTC = dt.timezone(dt.timedelta(hours=8), "UTC+8"), dt.UTC
# The statistics' flags, by the module name an account's ``modules`` uses.
MODULES = {"Messenger": "im_active_flag", "Docs": "docs_active_flag",
           "Calendar": "cal_active_flag", "Meetings": "vc_active_flag"}  # fmt: skip
_NAIVE = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?")


def _sleep(seconds: float) -> None:  # the tests replace time.sleep
    time.sleep(seconds)


@dataclass(frozen=True)
class _Options:
    app_id: str
    app_secret: str
    days: int
    most: int
    tz: dt.tzinfo


def _options(connector: Any) -> _Options:
    config = connector.config or {}
    app_id = clean_text(config.get("app_id"), MAX_TEXT)
    secret = connector.secrets.get("app_secret", "")
    if not app_id or not secret:
        raise ConnectorError(_("The Feishu connector needs an app ID and an app secret."))
    try:
        days = min(max(int(config.get("days") or 7), 1), 31)
        most = max(int(config.get("max_accounts") or 200_000), 1)
    except (TypeError, ValueError):
        raise ConnectorError(_("The connector has a setting that is not a number.")) from None
    host = (urlsplit(connector.base_url or "").hostname or "").lower()
    tz = UTC if host.endswith("larksuite.com") else CHINA
    return _Options(app_id, secret, days, most, tz)


class _Http(VendorHttp):
    """VendorHttp waiting out Feishu's rate limit: HTTP 429, or code 99991400 (some APIs
    answer it with HTTP 400 or 200), after its x-ogw-ratelimit-reset seconds."""

    def wait_for(self, response: httpx.Response, attempt: int) -> float | None:
        small = len(response.content) < 4096  # a rate-limit answer is; a page of users is not
        if response.status_code == 429 or (small and _body(response).get("code") == RATE_LIMITED):
            return _reset(response.headers.get("x-ogw-ratelimit-reset"), attempt)
        return super().wait_for(response, attempt)


class _Feishu:
    """One read's or one change's client: the tenant token, pages and Feishu's error codes."""

    def __init__(self, connector: Any, options: _Options) -> None:
        self.options = options
        self.http = _Http(connector, connector.base_url, sleep=_sleep)
        self.token = ""

    def __enter__(self) -> _Feishu:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.__exit__(None, None, None)

    def tenant_token(self) -> str:
        if self.token:
            return self.token
        body = {"app_id": self.options.app_id, "app_secret": self.options.app_secret}
        answer = self._json("POST", "/open-apis/auth/v3/tenant_access_token/internal", json=body)
        token = answer.get("tenant_access_token")
        if answer.get("code") != 0 or not isinstance(token, str) or not token:
            raise ConnectorError(
                _("Feishu refused the app ID or app secret (code %(code)s: %(msg)s).")
                % self._said(answer)
            )
        self.token = token
        return token

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """The answer's ``data``; a tenant token Feishu refuses is fetched again once."""
        for _attempt in range(2):
            headers = {"Authorization": f"Bearer {self.tenant_token()}"}
            answer = self._json(method, path, headers=headers, **kwargs)
            if answer.get("code") not in TOKEN_CODES:
                break
            self.token = ""
        code = answer.get("code")
        if code == RATE_LIMITED:
            raise ConnectorError(_("Feishu kept asking to slow down (code 99991400)."))
        if code != 0:
            raise ConnectorError(
                _(
                    "Feishu refused the request (code %(code)s: %(msg)s). Check the app's "
                    "permissions and its data and contact scopes."
                )
                % self._said(answer)
            )
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    def pages(
        self, path: str, params: dict[str, Any], most: int = MAX_PAGES
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paged list; a page token seen before, or more than ``most`` pages,
        is a loop: an error."""
        page_token, seen = "", set()
        for _page in range(most):
            query = {**params, "page_token": page_token} if page_token else params
            data = self.call("GET", path, params=query)
            items = data.get("items")
            yield from (
                i for i in (items if isinstance(items, list) else []) if isinstance(i, dict)
            )
            if data.get("has_more") is not True:
                return
            page_token = clean_text(data.get("page_token"), 1000)
            if not page_token or page_token in seen:
                break
            seen.add(page_token)
        raise ConnectorError(_("Feishu's pages of results did not end."))

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            answer = self.http.json(method, path, **kwargs)
        except Refused as refused:  # an HTTP error: Feishu's code and msg say more, if given
            answer = refused.body
            if not isinstance(answer, dict) or not isinstance(answer.get("code"), int):
                raise
            if refused.status == 429 or answer.get("code") == RATE_LIMITED:
                raise ConnectorError(
                    _("Feishu kept asking to slow down (code 99991400).")
                ) from None
        if not isinstance(answer, dict):
            raise ConnectorError(_("Feishu's answer is not the documented JSON."))
        return answer

    def _said(self, answer: dict[str, Any]) -> dict[str, str]:
        code = answer.get("code")
        message = clean_text(answer.get("msg"), 200)
        for secret in (self.options.app_secret, self.token):
            if secret:
                message = message.replace(secret, "***")
        return {"code": clean_text(code, 20) or "?", "msg": message}


def read(connector: Any) -> list[ExternalAccount]:
    """Every member of the tenant (the app's contact scope), with their activity."""
    options = _options(connector)
    with _Feishu(connector, options) as api:
        users = _members(api, options)
        activity = _activity(api, options, users)
    return [_account(user_id, item, activity.get(user_id)) for user_id, item in users.items()]


def _members(api: _Feishu, options: _Options) -> dict[str, dict[str, Any]]:
    ids = {"department_id_type": "open_department_id", "user_id_type": "user_id"}
    departments = [ROOT]
    for item in api.pages(f"/open-apis/contact/v3/departments/{ROOT}/children",
                          {**ids, "fetch_child": "true", "page_size": CONTACT_PAGE}):  # fmt: skip
        department = clean_text(item.get("open_department_id"), MAX_ID + 1)
        if department and len(department) <= MAX_ID and department not in departments:
            departments.append(department)
    users: dict[str, dict[str, Any]] = {}
    for department in departments:
        params = {**ids, "department_id": department, "page_size": CONTACT_PAGE}
        for item in api.pages("/open-apis/contact/v3/users/find_by_department", params):
            if item.get("user_id") in (None, ""):
                raise ConnectorError(
                    _(
                        "Feishu gave a member without a user ID: grant the app the permission "
                        "to read users' user IDs (contact:user.employee_id:readonly)."
                    )
                )
            user_id = clean_text(item["user_id"], MAX_ID + 1)
            if not user_id or len(user_id) > MAX_ID:
                logger.warning("Feishu member skipped: no usable user_id")
                continue
            users.setdefault(user_id, item)
            if len(users) > options.most:
                raise ConnectorError(
                    _("The tool lists more than %(most)d accounts: raise the connector's limit.")
                    % {"most": options.most}
                )
    return users


@dataclass
class _Activity:
    last: dt.datetime | None = None
    modules: dict[str, dt.datetime | None] = field(default_factory=dict)


def _activity(
    api: _Feishu, options: _Options, users: dict[str, dict[str, Any]]
) -> dict[str, _Activity]:
    """The members' activity in the days read (members the statistics do not list: none)."""
    end = dt.datetime.now(options.tz).date() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=options.days - 1)
    params = {"start_date": start.isoformat(), "end_date": end.isoformat(),
              "user_id_type": "user_id", "department_id_type": "open_department_id",
              "page_size": STATS_PAGE}  # fmt: skip
    found: dict[str, _Activity] = {}
    rows, most_rows = 0, options.most * options.days
    pages = max(MAX_PAGES, most_rows // STATS_PAGE + 2)
    for row in api.pages("/open-apis/admin/v1/admin_user_stats", params, pages):
        rows += 1
        if rows > most_rows:
            raise ConnectorError(_("Feishu's statistics list more rows than the days read allow."))
        user_id = clean_text(row.get("user_id"), MAX_ID + 1)
        day = _day(row.get("date"))
        if user_id not in users or day is None or not start <= day <= end:
            continue  # outside the contact scope, or not a day asked for
        seen = found.setdefault(user_id, _Activity(modules=dict.fromkeys(MODULES)))
        stamp = _stamp(row.get("last_active_time"), options.tz)
        if stamp is not None and (seen.last is None or stamp > seen.last):
            seen.last = stamp
        midnight = dt.datetime.combine(day, dt.time.min, tzinfo=options.tz)
        for module, flag in MODULES.items():
            used = seen.modules[module]
            if _flag(row.get(flag)) and (used is None or midnight > used):
                seen.modules[module] = midnight
        if seen.last is None and _flag(row.get("suite_active_flag")):
            seen.last = midnight  # active that day, no time given
    return found


def _account(user_id: str, item: dict[str, Any], activity: _Activity | None) -> ExternalAccount:
    status = item.get("status") if isinstance(item.get("status"), dict) else {}
    status = status or {}
    email = _email(item.get("enterprise_email")) or _email(item.get("email"))
    mobile = clean_text(item.get("mobile"), MAX_MOBILE + 1)
    mobile = mobile if len(mobile) <= MAX_MOBILE else ""
    return ExternalAccount(
        external_id=user_id,
        user_name=email or mobile,  # what the member signs in with
        display_name=clean_text(item.get("name"), MAX_NAME)
        or clean_text(item.get("en_name"), MAX_NAME),
        email=email,
        employee_no=clean_text(item.get("employee_no"), MAX_EMPLOYEE_NO),
        mobile=mobile,
        active=status.get("is_activated") is not False
        and not any(status.get(k) is True for k in ("is_frozen", "is_resigned", "is_exited")),
        last_active_at=activity.last if activity else None,
        modules=dict(activity.modules) if activity else {},
    )


def _email(value: object) -> str:
    """An e-mail address, or "" (too long or not one: a cut address would be wrong)."""
    text = clean_text(value, MAX_EMAIL + 1)
    return text if len(text) <= MAX_EMAIL and "@" in text and " " not in text else ""


def _flag(value: object) -> bool:
    return type(value) is int and value == 1


def _day(value: object) -> dt.date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _stamp(value: object, tz: dt.tzinfo) -> dt.datetime | None:
    """Feishu's "2020-12-21 22:21:28" (the tenant's time), ISO with an offset, or Unix
    seconds; None for anything else or a year no activity can have."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 10:
        stamp: dt.datetime | None = dt.datetime.fromtimestamp(int(value.strip()), tz=UTC)
    else:
        stamp = parse_stamp(value)
        if stamp is not None and isinstance(value, str) and _NAIVE.fullmatch(value.strip()):
            stamp = stamp.replace(tzinfo=tz)
    if stamp is None or not 2000 <= stamp.year <= 9000:
        return None
    return stamp


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _reset(value: str | None, attempt: int) -> float:
    """x-ogw-ratelimit-reset (seconds) when given, else 1, 2, 4 ...; at most MAX_WAIT."""
    try:
        seconds = float(value) if value else 2.0**attempt
    except ValueError:
        seconds = 2.0**attempt
    return min(max(seconds, 1.0), MAX_WAIT) if seconds == seconds else MAX_WAIT  # NaN


def _freeze(connector: Any, external_id: str, frozen: bool) -> None:
    if connector.deprovision == "delete":
        raise ConnectorError(
            _(
                "Feishu members are suspended here, never deleted: deleting one hands over or "
                "drops their documents and chats. Set the connector to deactivate, or delete "
                "the member in Feishu's admin console."
            )
        )
    options = _options(connector)
    path = f"/open-apis/contact/v3/users/{quote(external_id, safe='')}"
    with _Feishu(connector, options) as api:
        api.call("PATCH", path, params={"user_id_type": "user_id"}, json={"is_frozen": frozen})


def deprovision(connector: Any, external_id: str) -> None:
    """Suspend (冻结) the member: ``PATCH is_frozen: true``."""
    _freeze(connector, external_id, True)


def reactivate(connector: Any, external_id: str) -> None:
    """Undo a suspension: ``PATCH is_frozen: false``."""
    _freeze(connector, external_id, False)


KIND = ConnectorKind(read=read, deprovision=deprovision, reactivate=reactivate, settings=SETTINGS)
