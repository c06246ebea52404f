"""Chat webhooks: signatures (vectors computed with openssl), SSRF refusals, a real local HTTP
server on 127.0.0.1 that fails, rate-limits and then accepts, and neutralised user text."""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from renewals.alerts import services as alerts
from renewals.alerts.models import AlertDelivery
from renewals.notify import webhooks
from renewals.notify.models import ChatChannel
from tests.conftest import Cast
from tests.factories import SubscriptionFactory


def test_dingtalk_signature_vector() -> None:
    # printf '1700000000000\nSECtest' | openssl dgst -sha256 -hmac 'SECtest' -binary | base64
    assert webhooks.dingtalk_sign("SECtest", 1700000000000) == urllib.parse.quote_plus(
        "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g="
    )


def test_feishu_signature_vector() -> None:
    # printf '' | openssl dgst -sha256 -hmac "$(printf '1700000000\nfeishu-secret')" -binary | base64
    assert (
        webhooks.feishu_sign("feishu-secret", 1700000000)
        == "OrBzY1Y01Gq+HgJsl+7OfWcMVwc7YocohQm5iiZwjhU="
    )


def test_payloads_per_kind() -> None:
    url, body = webhooks.build_request(
        "dingtalk",
        "https://oapi.dingtalk.com/robot/send?access_token=x",
        "SECtest",
        "hi",
        {},
        now=1700000000,
    )
    assert url.endswith(
        "&timestamp=1700000000000&sign=" + webhooks.dingtalk_sign("SECtest", 1700000000000)
    )
    assert json.loads(body) == {"msgtype": "text", "text": {"content": "hi"}}
    _, body = webhooks.build_request(
        "feishu", "https://open.feishu.cn/x", "feishu-secret", "你好", {}, now=1700000000
    )
    assert json.loads(body) == {
        "timestamp": "1700000000", "sign": webhooks.feishu_sign("feishu-secret", 1700000000),
        "msg_type": "text", "content": {"text": "你好"},
    }  # fmt: skip
    assert json.loads(
        webhooks.build_request("slack", "https://hooks.slack.com/x", "", "hi", {})[1]
    ) == {"text": "hi"}
    generic = json.loads(
        webhooks.build_request("generic", "https://x.example/h", "", "hi", {"subscription": "S1"})[
            1
        ]
    )
    assert generic == {"event": "renewal_alert", "text": "hi", "subscription": "S1"}


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://2130706433/hook",  # 127.0.0.1 written as a decimal number
        "https://0x7f000001/hook",  # and in hex
        "https://127.1/hook",
        "https://localhost/hook",
        "https://user@oapi.dingtalk.com/robot",
        "https://oapi.dingtalk.com@127.0.0.1/robot",
        "http://example.com/hook",  # not https
        "ftp://example.com/hook",
        "https:///nohost",
    ],
)
def test_unsafe_urls_are_refused(url: str, settings: object) -> None:
    settings.WEBHOOK_ALLOWED_HOSTS = []  # type: ignore[attr-defined]
    with pytest.raises(webhooks.UnsafeWebhook):
        webhooks.check_url(url)


def test_chat_text_loses_mentions_and_markup() -> None:
    assert webhooks.neutralise("@all <b>Jira</b> @所有人") == "＠all ‹b›Jira‹/b› ＠所有人"


class Receiver(BaseHTTPRequestHandler):
    """Answers from a script: each request takes the next (status, headers) and records itself."""

    script: list[tuple[int, dict[str, str]]] = []
    received: list[tuple[str, dict[str, object]]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length", 0))
        Receiver.received.append((self.path, json.loads(self.rfile.read(length))))
        status, headers = Receiver.script.pop(0) if Receiver.script else (200, {})
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(b'{"errcode": 0}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver(settings: object) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    Receiver.script, Receiver.received = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # type: ignore[attr-defined]
    settings.WEBHOOK_ALLOWED_PORTS = [server.server_address[1]]  # type: ignore[attr-defined]
    yield f"http://127.0.0.1:{server.server_address[1]}/robot/send?access_token=t"
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_a_webhook_that_fails_then_rate_limits_then_accepts_gets_one_message(
    cast: Cast, receiver: str
) -> None:
    term_end = dt.date(2027, 3, 31)
    # Department B: the cast's own subscription (in A) must not use up the receiver's script.
    sub = SubscriptionFactory.create(
        ref="HOOK-1", department=cast.dept_b, product="<b>Jira</b> @all", term_end=term_end
    )
    ChatChannel.objects.create(
        department=cast.dept_b, name="市场群", kind="dingtalk", url=receiver, secret="SECtest"
    )
    Receiver.script = [(500, {}), (429, {"Retry-After": "120"})]
    alerts.alerts_sweep(today=term_end - dt.timedelta(days=7))

    def chat() -> AlertDelivery:
        return AlertDelivery.objects.get(subscription=sub, channel="chat", threshold=7)

    alerts.alerts_deliver()
    assert (chat().status, chat().attempts, chat().last_error) == ("pending", 1, "HTTP 500")
    AlertDelivery.objects.filter(pk=chat().pk).update(next_attempt_at=timezone.now())
    alerts.alerts_deliver()
    delivery = chat()
    assert (delivery.status, delivery.last_error) == ("pending", "HTTP 429")
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at >= timezone.now() + dt.timedelta(
        seconds=110
    )  # Retry-After honoured
    AlertDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    alerts.alerts_deliver()
    alerts.alerts_deliver()
    assert chat().status == "sent"
    assert len(Receiver.received) == 3  # 500, 429, then the one that counted
    path, body = Receiver.received[-1]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    assert query["access_token"] == ["t"] and query["sign"] == [
        urllib.parse.unquote_plus(webhooks.dingtalk_sign("SECtest", int(query["timestamp"][0])))
    ]
    content = body["text"]["content"]  # type: ignore[index]
    assert "@" not in content and "<b>" not in content and "/subscriptions/" in content


@pytest.mark.django_db
def test_a_refusing_webhook_becomes_a_visible_failure(cast: Cast, receiver: str) -> None:
    term_end = dt.date(2027, 3, 31)
    SubscriptionFactory.create(department=cast.dept_b, term_end=term_end)
    ChatChannel.objects.create(department=cast.dept_b, name="市场群", kind="wecom", url=receiver)
    Receiver.script = [(404, {})]
    alerts.alerts_sweep(today=term_end - dt.timedelta(days=7))
    alerts.alerts_deliver()
    failed = AlertDelivery.objects.get(channel="chat", threshold=7)
    assert (failed.status, failed.last_error) == ("failed", "HTTP 404")


@pytest.mark.django_db
def test_a_webhook_url_changed_to_an_internal_address_is_refused_when_sending(
    cast: Cast, settings: object
) -> None:
    settings.WEBHOOK_ALLOWED_HOSTS = []  # type: ignore[attr-defined]
    term_end = dt.date(2027, 3, 31)
    SubscriptionFactory.create(department=cast.dept_b, term_end=term_end)
    ChatChannel.objects.create(
        department=cast.dept_b, name="x", kind="slack", url="https://169.254.169.254/latest"
    )
    alerts.alerts_sweep(today=term_end - dt.timedelta(days=7))
    alerts.alerts_deliver()
    failed = AlertDelivery.objects.get(channel="chat", threshold=7)
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):  # type: ignore[attr-defined]
        expected = str(
            webhooks._("Webhook URLs may not point at private, loopback or link-local addresses.")
        )
    assert (failed.status, failed.last_error) == ("failed", expected)


@pytest.mark.django_db
def test_channels_are_configured_by_it_admins_and_secrets_never_shown(
    cast: Cast, settings: object
) -> None:
    from django.test import Client
    from django.urls import reverse

    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # type: ignore[attr-defined]
    settings.WEBHOOK_ALLOWED_PORTS = [9]  # type: ignore[attr-defined]
    client = Client()
    client.force_login(cast.it_admin)
    data = {"department": cast.dept_a.pk, "name": "研发群", "kind": "dingtalk",
            "url": "http://127.0.0.1:9/robot/send?access_token=abc", "secret": "SECtopsecret", "is_active": "on"}  # fmt: skip
    assert client.post(reverse("renewals:channel-add"), data).status_code == 302
    channel = ChatChannel.objects.get(name="研发群")
    assert channel.secret == "SECtopsecret"
    edit = client.get(reverse("renewals:channel-edit", args=[channel.pk])).content.decode()
    listing = client.get(reverse("renewals:channel-list")).content.decode()
    assert "SECtopsecret" not in edit and "SECtopsecret" not in listing
    client.post(
        reverse("renewals:channel-edit", args=[channel.pk]),
        {**data, "secret": "", "name": "研发大群"},
    )
    channel.refresh_from_db()
    assert (channel.name, channel.secret) == ("研发大群", "SECtopsecret")  # empty secret keeps it


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["https://169.254.169.254/latest", "http://example.com/x", "https://a@10.0.0.1/"]
)
def test_an_unsafe_channel_url_is_refused_when_saved(
    cast: Cast, url: str, settings: object
) -> None:
    from django.test import Client
    from django.urls import reverse

    settings.WEBHOOK_ALLOWED_HOSTS = []  # type: ignore[attr-defined]
    client = Client()
    client.force_login(cast.it_admin)
    response = client.post(
        reverse("renewals:channel-add"),
        {"department": cast.dept_a.pk, "name": "x", "kind": "slack", "url": url, "is_active": "on"},
    )
    assert response.status_code == 400 and not ChatChannel.objects.filter(name="x").exists()
    assert response.context["form"].errors["url"]


def test_a_redirect_to_an_internal_address_is_not_followed(receiver: str) -> None:
    Receiver.script = [(302, {"Location": "http://169.254.169.254/latest/meta-data"})]
    outcome = webhooks.post(receiver, b"{}")
    assert (outcome.ok, outcome.retry, outcome.error) == (False, False, "HTTP 302")
    assert len(Receiver.received) == 1  # one request, to the checked address only
