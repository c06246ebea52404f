"""The part the DingTalk and WeCom fakes share: a threaded HTTP server on 127.0.0.1 (a free
port) answering JSON with ``errcode`` / ``errmsg``, tokens that can be expired, a "too fast"
mode, and a record of every request. Each fake says its routes and codes
(tests/fakes/dingtalk.py, tests/fakes/wecom.py).

``seal`` / ``sign``: the callback envelope both vendors use (WeCom's WXBizMsgCrypt, copied by
DingTalk), written here from the documentation apart from ``integrations.directory.msgcrypt``:
base64(AES-256-CBC(key = base64decode(EncodingAESKey + "="), IV = key[:16],
PKCS#7-to-32(random(16) + len(msg) as 4 bytes, network order + msg + receive id))), and
msg_signature = sha1 of the sorted, concatenated token, timestamp, nonce and ciphertext.
https://developer.work.weixin.qq.com/document/path/90968,
https://open.dingtalk.com/document/orgapp/configure-event-subcription
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def _cipher(encoding_aes_key: str) -> Cipher[modes.CBC]:
    key = base64.b64decode(encoding_aes_key + "=")
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def seal(encoding_aes_key: str, msg: bytes, receive_id: str, random: bytes = b"") -> str:
    plain = (random or os.urandom(16)) + struct.pack("!I", len(msg)) + msg + receive_id.encode()
    pad = 32 - len(plain) % 32
    encryptor = _cipher(encoding_aes_key).encryptor()
    sealed = encryptor.update(plain + bytes([pad] * pad)) + encryptor.finalize()
    return base64.b64encode(sealed).decode()


def unseal(encoding_aes_key: str, encrypt: str) -> tuple[bytes, str]:
    """(message, receive id) of a sealed message (to read our own replies)."""
    decryptor = _cipher(encoding_aes_key).decryptor()
    plain = decryptor.update(base64.b64decode(encrypt)) + decryptor.finalize()
    plain = plain[: -plain[-1]]
    (length,) = struct.unpack("!I", plain[16:20])
    return plain[20 : 20 + length], plain[20 + length :].decode()


def sign(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


class ErrcodeServer:
    busy_code = -1  # what "too fast" answers (the subclass's documented code)
    expired_code = 42001  # what an unknown or expired token answers

    def __init__(self) -> None:
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.busy = 0  # the next N API calls answer busy_code
        self.calls: list[tuple[str, str, dict[str, str], dict[str, Any]]] = []
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- to override ----------------------------------------------------------------------

    def token_for(self, params: dict[str, str]) -> dict[str, Any]:
        raise NotImplementedError

    def token_path(self) -> str:
        raise NotImplementedError

    def expired(self) -> dict[str, Any]:
        return {"errcode": self.expired_code, "errmsg": "access_token expired"}

    def route(self, method: str, path: str, params: dict[str, str], body: dict[str, Any]) -> Any:
        """The answer of an API call with a valid token (a dict, or (status, bytes))."""
        raise NotImplementedError

    # --- tokens and modes -----------------------------------------------------------------

    def new_token(self) -> str:
        token = f"token-{next(self._numbers)}"
        self.tokens.add(token)
        return token

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (as at the end of its 7200 s)."""
        self.tokens.clear()

    def api_calls(self, path: str) -> list[tuple[str, str, dict[str, str], dict[str, Any]]]:
        return [c for c in self.calls if c[1] == path]

    # --- the server -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first (with fake: ...)"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _answer(self, method: str, raw_path: str, raw_body: bytes) -> tuple[int, bytes]:
        parts = urlsplit(raw_path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        try:
            body = json.loads(raw_body) if raw_body else {}
        except ValueError:
            return 400, b"not json"
        with self._lock:
            self.calls.append((method, parts.path, params, body))
            if parts.path == self.token_path():
                self.token_requests += 1
                result: Any = self.token_for(params)
            elif params.get("access_token") not in self.tokens:
                result = self.expired()
            elif self.busy > 0:
                self.busy -= 1
                result = {"errcode": self.busy_code, "errmsg": "api freq out of limit"}
            else:
                result = self.route(method, parts.path, params, body)
        if isinstance(result, tuple):
            return result
        return 200, json.dumps(result, ensure_ascii=False).encode()

    def __enter__(self) -> ErrcodeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, data = fake._answer(method, self.path, self.rfile.read(length))
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 (http.server's names)
                self._reply("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._reply("POST")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
