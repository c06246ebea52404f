"""Where a chat webhook may go (issue #16, point 3): IPv6 forms that carry an intranet IPv4 address,
other spellings of an address, any port but 443 and the configured ones, refused when a channel
is saved and again when a message is sent (DNS may have changed), and the connection pinned to
the address that was checked, with TLS still verified for the name."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from core import netguard
from renewals.alerts import services as alerts
from renewals.alerts.models import AlertDelivery
from renewals.notify import webhooks
from renewals.notify.models import ChatChannel
from renewals.notify.services.channels import chat_channel_save
from tests.conftest import Cast
from tests.factories import SubscriptionFactory

PUBLIC = "93.184.215.14"  # an ordinary public address: never connected to by these tests

# IPv6 forms whose embedded IPv4 address is private, loopback or link-local.
EMBEDDED = [
    "64:ff9b::7f00:1",  # NAT64 (RFC 6052 well-known prefix) of 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254 (cloud metadata)
    "64:ff9b::c0a8:101",  # NAT64 of 192.168.1.1
    "64:ff9b:1::a00:1",  # local-use NAT64 (RFC 8215)
    "64:ff9b:1:a00:1::",  # local-use NAT64 with the address in the /48 layout
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:1::",  # 6to4 of 10.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "2002:ac10:1::1",  # 6to4 of 172.16.0.1
    "2001:0:808:808::f5ff:fffe",  # Teredo: public server, client 10.0.0.1 (obfuscated)
    "2001:0:a00:1::f7f7:f7f7",  # Teredo: server 10.0.0.1
    "::7f00:1",  # IPv4-compatible 127.0.0.1
    "::a00:1",  # IPv4-compatible 10.0.0.1
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:a9fe:a9fe",  # IPv4-mapped 169.254.169.254, hex spelling
    "::ffff:10.0.0.1",
    "::ffff:0:a00:1",  # IPv4-translated (SIIT) 10.0.0.1
]
# Not globally routable IPv6 (some of them is_global on this Python) and IPv4 corner ranges.
NOT_GLOBAL = [
    "::1", "::", "fe80::1", "fec0::1", "fc00::1", "fd12:3456:789a::1", "ff02::1", "ff0e::1",
    "100::1", "2001:db8::1", "fe80::1%eth0",
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.0.10", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "0.1.2.3", "192.0.0.8", "198.18.0.1", "224.0.0.1", "239.255.255.250",
    "240.0.0.1", "255.255.255.255",
]  # fmt: skip


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[str]]:
    """Point socket.getaddrinfo (as the webhook sender sees it) at given answers; the returned
    function sets the answers for the next lookups and returns the log of names looked up."""
    answers: list[list[str]] = []
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def fake(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        try:
            ipaddress.ip_address(host)
            return real(host, port, *args, **kwargs)  # socket.create_connection(("1.2.3.4", …))
        except ValueError:
            looked_up.append(host)
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]  # the last one repeats
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in addresses
        ]

    def answer(*batches: list[str]) -> list[str]:
        answers[:] = list(batches)
        return looked_up

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", fake)
    return answer


@pytest.fixture(autouse=True)
def _strict(settings: Any) -> None:
    settings.WEBHOOK_ALLOWED_HOSTS = []
    settings.WEBHOOK_ALLOWED_PORTS = []


@pytest.mark.parametrize("address", EMBEDDED + NOT_GLOBAL)
def test_a_literal_address_that_is_not_public_is_refused(address: str) -> None:
    host = f"[{address.replace('%', '%25')}]" if ":" in address else address
    with pytest.raises(webhooks.UnsafeWebhook):
        webhooks.check_url(f"https://{host}/robot/send")


@pytest.mark.parametrize("address", EMBEDDED + NOT_GLOBAL)
def test_a_name_resolving_to_an_address_that_is_not_public_is_refused(
    address: str, dns: Callable[..., list[str]]
) -> None:
    dns([PUBLIC, address])  # one bad address among good ones is enough
    with translation.override("en"):
        with pytest.raises(webhooks.UnsafeWebhook) as refused:
            webhooks.check_url("https://hooks.example.com/robot/send")
        assert "private" in str(refused.value)


@pytest.mark.parametrize(
    "address", [PUBLIC, "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1"]
)
def test_public_addresses_are_accepted(address: str, dns: Callable[..., list[str]]) -> None:
    dns([address])
    target = webhooks.check_url("https://hooks.example.com/robot/send?access_token=x")
    assert (target.host, target.port, target.address) == ("hooks.example.com", 443, address)
    assert netguard.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "https://2130706433/hook",  # decimal
        "https://017700000001/hook",  # octal
        "https://0x7f000001/hook",  # hex
        "https://0x7f.0.0.1/hook",
        "https://0177.0.0.1/hook",  # octal 127, or decimal 177 to another resolver
        "https://010.0.0.1/hook",  # 8.0.0.1 or 10.0.0.1, depending on who reads it
        "https://127.1/hook",
        "https://134744072/hook",  # even a public address (8.8.8.8): spelled one way only
        "https://127.0.0.1./hook",  # trailing dot
        "https://10.0.0.1../hook",
        "https://１２７．０．０．１/hook",  # full-width digits and dots (IDNA maps them)
        "https://１０.０.０.１/hook",
        "https://1.2.3.4.5/hook",
        "https://[::ffff:127.0.0.1]:443/hook",
        "https://[fe80::1%25eth0]/hook",
    ],
)
def test_other_spellings_of_an_address_are_refused(url: str, dns: Callable[..., list[str]]) -> None:
    dns([PUBLIC])  # were any of these looked up as a name, it would pass: they must not be
    with pytest.raises(webhooks.UnsafeWebhook):
        webhooks.check_url(url)


@pytest.mark.parametrize(
    ("url", "looked_up"),
    [
        ("https://hooks.example.com./x", "hooks.example.com"),  # trailing dot
        ("https://ＨＯＯＫＳ．example．com/x", "hooks.example.com"),  # full-width
        ("https://bücher.example/x", "xn--bcher-kva.example"),  # IDN: looked up as punycode
        ("https://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/x", "localhost"),  # circled letters: localhost, as browsers read it
    ],
)
def test_names_are_read_as_browsers_read_them_before_the_lookup(
    url: str, looked_up: str, dns: Callable[..., list[str]]
) -> None:
    log = dns(["127.0.0.1"])
    with pytest.raises(webhooks.UnsafeWebhook):
        webhooks.check_url(url)
    assert log == [looked_up]


@pytest.mark.parametrize(
    ("url", "ports", "ok"),
    [
        ("https://hooks.example.com/x", [], True),
        ("https://hooks.example.com:443/x", [], True),
        ("https://hooks.example.com:8443/x", [], False),
        ("https://hooks.example.com:22/x", [], False),
        ("https://hooks.example.com:6379/x", [8443], False),
        ("https://hooks.example.com:8443/x", [8443], True),
        ("https://hooks.example.com:0/x", [], False),
        ("https://hooks.example.com:65536/x", [], False),
        ("https://hooks.example.com:-1/x", [], False),
    ],
)
def test_only_port_443_and_the_configured_ports_are_allowed(
    url: str, ports: list[int], ok: bool, settings: Any, dns: Callable[..., list[str]]
) -> None:
    settings.WEBHOOK_ALLOWED_PORTS = ports
    dns([PUBLIC])
    if ok:
        assert webhooks.check_url(url).address == PUBLIC
    else:
        with pytest.raises(webhooks.UnsafeWebhook):
            webhooks.check_url(url)


def test_an_allowed_intranet_host_still_needs_an_allowed_port(
    settings: Any, dns: Callable[..., list[str]]
) -> None:
    settings.WEBHOOK_ALLOWED_HOSTS = ["chat-gw.internal"]
    dns(["10.0.0.7"])
    with translation.override("en"), pytest.raises(webhooks.UnsafeWebhook, match="443"):
        webhooks.check_url("http://chat-gw.internal/hook")  # port 80
    settings.WEBHOOK_ALLOWED_PORTS = [80]
    assert webhooks.check_url("http://chat-gw.internal./hook").address == "10.0.0.7"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "https://[64:ff9b::a9fe:a9fe]/latest",
        "https://[2002:a00:1::]/hook",
        "https://[::ffff:a00:1]/hook",
        "https://hooks.example.com:8080/hook",
        "https://nat64.example.com/hook",
    ],
)
def test_the_channel_form_refuses_the_target_and_saves_nothing(
    cast: Cast, url: str, dns: Callable[..., list[str]]
) -> None:
    dns(["64:ff9b::a00:1"] if "nat64" in url else [PUBLIC])
    client = Client()
    client.force_login(cast.it_admin)
    response = client.post(
        reverse("renewals:channel-add"),
        {"department": cast.dept_a.pk, "name": "x", "kind": "slack", "url": url, "is_active": "on"},
    )
    assert response.status_code == 400 and response.context["form"].errors["url"]
    assert not ChatChannel.objects.filter(name="x").exists()


@pytest.mark.django_db
def test_the_service_refuses_the_target_too(cast: Cast, dns: Callable[..., list[str]]) -> None:
    dns(["2002:c0a8:101::1"])
    data = {"department": cast.dept_a, "name": "x", "kind": "slack", "is_active": True,
            "url": "https://hooks.example.com/x"}  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        chat_channel_save(channel=None, data=data)
    assert "url" in refused.value.message_dict and not ChatChannel.objects.filter(name="x").exists()


@pytest.mark.django_db
def test_a_name_rebound_to_an_intranet_address_after_saving_is_refused_when_sending(
    cast: Cast, dns: Callable[..., list[str]], monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    connected: list[object] = []
    monkeypatch.setattr(webhooks.socket, "create_connection", lambda *a, **k: connected.append(a))
    dns([PUBLIC])
    term_end = dt.date(2027, 3, 31)
    SubscriptionFactory.create(department=cast.dept_b, term_end=term_end)
    data = {"department": cast.dept_b, "name": "x", "kind": "slack", "is_active": True,
            "url": "https://hooks.example.com/x"}  # fmt: skip
    chat_channel_save(channel=None, data=data)  # public when saved
    dns(["64:ff9b::a9fe:a9fe"])  # the name now points (through NAT64) at the metadata service
    alerts.alerts_sweep(today=term_end - dt.timedelta(days=7))
    alerts.alerts_deliver()
    failed = AlertDelivery.objects.get(channel="chat", threshold=7)
    with translation.override(settings.LANGUAGE_CODE):
        expected = str(
            webhooks._("Webhook URLs may not point at private, loopback or link-local addresses.")
        )
    assert (failed.status, failed.last_error, connected) == ("failed", expected, [])


class _Recorder(BaseHTTPRequestHandler):
    hosts: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _Recorder.hosts.append(self.headers.get("Host", ""))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.hosts = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(
    recorder: ThreadingHTTPServer, settings: Any, dns: Callable[..., list[str]]
) -> None:
    port = recorder.server_address[1]
    settings.WEBHOOK_ALLOWED_HOSTS = ["hook.test"]
    settings.WEBHOOK_ALLOWED_PORTS = [port]
    # The first lookup (the check) says 127.0.0.1, where the receiver listens; any later lookup
    # would say 192.0.2.1, where nothing does.
    log = dns(["127.0.0.1"], ["192.0.2.1"])
    outcome = webhooks.post(f"http://hook.test:{port}/robot", b"{}")
    assert outcome.ok, outcome.error
    assert log == ["hook.test"] and _Recorder.hosts == [f"hook.test:{port}"]


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for ``name`` signed by it: (ca.pem, cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def build(subject: str, key: Any, issuer: str, signer: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = build("test CA", ca_key, "test CA", ca_key, True)
    cert = build(name, key, "test CA", ca_key, False)
    paths = (tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.mark.parametrize(("certified", "ok"), [("hook.test", True), ("other.test", False)])
def test_https_to_the_pinned_address_verifies_the_certificate_for_the_name(
    tmp_path: Path,
    recorder: ThreadingHTTPServer,
    settings: Any,
    dns: Callable[..., list[str]],
    certified: str,
    ok: bool,
) -> None:
    ca, cert, key = _certificate(tmp_path, certified)
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_side.sni_callback = lambda sock, name, ctx: names.append(name)
    recorder.socket = server_side.wrap_socket(recorder.socket, server_side=True)
    port = recorder.server_address[1]
    settings.WEBHOOK_ALLOWED_HOSTS = ["hook.test"]  # the name lives on 127.0.0.1 in this test
    settings.WEBHOOK_ALLOWED_PORTS = [port]
    dns(["127.0.0.1"])
    client_side = ssl.create_default_context(cafile=str(ca))
    with mock.patch.object(webhooks.ssl, "create_default_context", return_value=client_side):
        outcome = webhooks.post(f"https://hook.test:{port}/robot", b"{}")
    assert names == ["hook.test"]  # SNI carries the name, not the pinned address
    assert outcome.ok is ok
    if ok:
        assert _Recorder.hosts == [f"hook.test:{port}"]
    else:
        assert "CERTIFICATE_VERIFY_FAILED" in outcome.error and _Recorder.hosts == []
