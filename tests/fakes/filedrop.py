"""Servers for the file-drop connector's tests, on 127.0.0.1 and a temporary folder.

- ``SftpDrop``: a real SFTP server, paramiko's server side (``ServerInterface`` for password
  and public-key authentication, ``SFTPServer`` with an ``SFTPServerInterface`` serving the
  folder read-only), with a host key generated per server. ``logins`` records the methods that
  succeeded (nothing when the client gave up at the host key).
- ``HttpDrop``: a threaded http.server serving ``files`` (path -> bytes), refusing a request
  without ``Authorization: Bearer <token>`` (or, ``basic`` set, its basic credentials) (401); ``redirects`` answer 302; ``hide_length``
  sends bodies without Content-Length (read until the connection closes).
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import socket
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import paramiko
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat


def new_key() -> tuple[paramiko.PKey, str]:
    """A fresh Ed25519 key and its private key text (OpenSSH format)."""
    text = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
        .decode()
    )
    return paramiko.Ed25519Key.from_private_key(io.StringIO(text)), text


def public_line(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {key.get_base64()} drop@test"


class _Auth(paramiko.ServerInterface):
    def __init__(self, drop: SftpDrop) -> None:
        self.drop = drop

    def get_allowed_auths(self, username: str) -> str:
        return "password,publickey"

    def check_auth_password(self, username: str, password: str) -> int:
        if username == self.drop.user and password == self.drop.password:
            self.drop.logins.append("password")
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        wanted = self.drop.authorized
        if username == self.drop.user and wanted is not None and key.asbytes() == wanted.asbytes():
            self.drop.logins.append("publickey")
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class _Folder(paramiko.SFTPServerInterface):
    """The drop's folder, read-only; paths outside it do not exist."""

    def __init__(self, server: _Auth, *args: Any, **kwargs: Any) -> None:
        super().__init__(server, *args, **kwargs)
        self.drop = server.drop

    def _real(self, path: str) -> Path | None:
        root = self.drop.folder.resolve()
        real = (root / path.lstrip("/")).resolve()
        return real if real.exists() and (real == root or root in real.parents) else None

    def stat(self, path: str) -> Any:
        real = self._real(path)
        if real is None:
            return paramiko.SFTP_NO_SUCH_FILE
        return paramiko.SFTPAttributes.from_stat(real.stat())

    lstat = stat

    def open(self, path: str, flags: int, attr: Any) -> Any:
        if flags & (os.O_WRONLY | os.O_RDWR):
            return paramiko.SFTP_PERMISSION_DENIED
        real = self._real(path)
        if real is None or not real.is_file():
            return paramiko.SFTP_NO_SUCH_FILE
        if real.name in self.drop.unreadable:
            return paramiko.SFTP_PERMISSION_DENIED
        handle = paramiko.SFTPHandle(flags)
        handle.readfile = real.open("rb")
        return handle


class SftpDrop:
    """An SFTP server on 127.0.0.1 (see the module docstring); ``with SftpDrop() as drop``."""

    def __init__(self, *, user: str = "drop", password: str = "drop-pass-0K") -> None:
        self.user, self.password = user, password
        self.authorized: paramiko.PKey | None = None  # the client key it accepts
        self.host_key, _text = new_key()
        self.folder = Path(tempfile.mkdtemp(prefix="sftp-drop-"))
        self.unreadable: set[str] = set()
        self.logins: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._transports: list[paramiko.Transport] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> SftpDrop:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept()
        except OSError:
            pass
        self._listener.close()
        self._thread.join(5)
        for transport in self._transports:
            transport.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, name: str) -> str:
        return f"sftp://127.0.0.1:{self.port}/{name}"

    def put(self, name: str, data: bytes) -> str:
        (self.folder / name).write_bytes(data)
        return self.url(name)

    def _serve(self) -> None:
        while True:
            try:
                sock, _address = self._listener.accept()
            except OSError:
                return  # closed
            transport = paramiko.Transport(sock)
            transport.add_server_key(self.host_key)
            transport.set_subsystem_handler("sftp", paramiko.SFTPServer, _Folder)
            self._transports.append(transport)
            try:
                transport.start_server(event=threading.Event(), server=_Auth(self))
            except (paramiko.SSHException, EOFError, OSError):
                transport.close()


class HttpDrop:
    """An HTTP file server on 127.0.0.1 (see the module docstring)."""

    def __init__(self, token: str = "drop-token-0K") -> None:
        self.token = token
        self.basic = ""  # "user:password": basic authentication instead of the token
        self.files: dict[str, bytes] = {}
        self.redirects: dict[str, str] = {}
        self.hide_length = False
        self.authorizations: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                sent = self.headers.get("Authorization", "")
                fake.authorizations.append(sent)
                if fake.basic:
                    wanted = "Basic " + base64.b64encode(fake.basic.encode()).decode()
                    if sent != wanted:
                        return self._answer(401, b"no")
                elif fake.token and sent != f"Bearer {fake.token}":
                    return self._answer(401, b"no")
                if self.path in fake.redirects:
                    self.send_response(302)
                    self.send_header("Location", fake.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                body = fake.files.get(self.path)
                if body is None:
                    return self._answer(404, b"not found")
                return self._answer(200, body)

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream")
                if fake.hide_length:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading (a file over the limit)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def put(self, name: str, data: bytes) -> str:
        self.files[f"/{name}"] = data
        return f"{self.base}/{name}"

    def __enter__(self) -> HttpDrop:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
