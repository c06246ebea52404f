"""The callback envelope WeCom (企业微信) and DingTalk (钉钉) wrap their events in: one module,
because DingTalk's ``DingTalkEncryptor`` / ``DingCallbackCrypto`` is a copy of WeCom's
``WXBizMsgCrypt``.

- ``msg_signature`` = hex SHA-1 of the sorted, concatenated (token, timestamp, nonce, encrypt);
- AESKey = base64decode(EncodingAESKey + "="): 32 bytes (43 characters configured); AES-256-CBC
  with IV = AESKey[:16]; PKCS#7 padding to a multiple of 32 bytes;
- plaintext = random(16 bytes) + len(msg) (4 bytes, network order) + msg + receive id, where the
  receive id is the CorpID (WeCom), or the AppKey / CorpId / SuiteKey (DingTalk): a message for
  another receiver is refused.

Documentation followed:
https://developer.work.weixin.qq.com/document/path/90968 (加解密方案说明) and
https://developer.work.weixin.qq.com/document/path/90930 (接收消息与事件: 验证URL有效性);
https://open.dingtalk.com/document/orgapp/configure-event-subcription (消息加解密) with
https://github.com/open-dingtalk/DingTalk-Callback-Crypto (DingCallbackCrypto).

AES comes from ``cryptography`` (already used for the secrets at rest: core/secrets.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import time
from collections.abc import Iterable

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # PKCS#7 padding block of WXBizMsgCrypt (not AES's 16)
MAX_AGE_SECONDS = 300  # a callback older (or newer) than this is refused: a replay or a bad clock


class CryptError(ValueError):
    """The envelope is not one we can trust: bad signature, undecryptable, another receiver."""


class SignatureError(CryptError):
    """The signature does not match: not signed with our token."""


class NotConfigured(CryptError):
    """The source has no (valid) token, EncodingAESKey or receive id: it takes no callbacks."""


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


def is_fresh(timestamp: str, *, now: float | None = None, max_age: int = MAX_AGE_SECONDS) -> bool:
    """The callback's timestamp (seconds, or DingTalk's milliseconds) is within ``max_age``."""
    try:
        value = int(timestamp)
    except (TypeError, ValueError):
        return False
    if value > 10**11:  # milliseconds
        value //= 1000
    return abs((time.time() if now is None else now) - value) <= max_age


class MsgCrypt:
    """One receiver's envelope: ``token``, ``encoding_aes_key`` (43 characters), and the receive
    ids a message may carry (a DingTalk app may be configured with its AppKey and its CorpId)."""

    def __init__(self, token: str, encoding_aes_key: str, receive_ids: str | Iterable[str]):
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise NotConfigured("the EncodingAESKey is not base64") from exc
        if len(key) != 32 or not token:
            raise NotConfigured("the EncodingAESKey must be 43 characters and the token set")
        self.token = token
        self.key = key
        ids = [receive_ids] if isinstance(receive_ids, str) else list(receive_ids)
        self.receive_ids = [i for i in ids if i]
        if not self.receive_ids:
            raise NotConfigured("no receive id (corp id / app key) is configured")

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def signature(self, timestamp: str, nonce: str, encrypt: str) -> str:
        return signature(self.token, timestamp, nonce, encrypt)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        expected = self.signature(timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected, (msg_signature or "").lower()):
            raise SignatureError("bad signature")

    def encrypt(self, msg: bytes | str, *, receive_id: str = "", random: bytes = b"") -> str:
        body = msg.encode() if isinstance(msg, str) else msg
        rid = (receive_id or self.receive_ids[0]).encode()
        plain = (random or os.urandom(16))[:16].ljust(16, b"0")
        plain += struct.pack(">I", len(body)) + body + rid
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def decrypt(self, encrypt: str) -> bytes:
        """The message inside ``encrypt``; CryptError if it is not for one of our receive ids."""
        try:
            data = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CryptError("not base64") from exc
        if not data or len(data) % 16:
            raise CryptError("not a whole number of AES blocks")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad or len(plain) - pad < 20:
            raise CryptError("bad padding")
        plain = plain[:-pad]
        (length,) = struct.unpack(">I", plain[16:20])
        msg, rid = plain[20 : 20 + length], plain[20 + length :]
        if len(msg) != length:
            raise CryptError("bad length")
        if not any(hmac.compare_digest(rid, r.encode()) for r in self.receive_ids):
            raise CryptError("the message is for another receiver")
        return msg

    def open(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> bytes:
        """Verify, then decrypt: the usual way in."""
        self.verify(msg_signature, timestamp, nonce, encrypt)
        return self.decrypt(encrypt)

    def seal(self, msg: bytes | str, *, timestamp: str, nonce: str) -> tuple[str, str]:
        """(encrypt, msg_signature) of a reply."""
        encrypt = self.encrypt(msg)
        return encrypt, self.signature(timestamp, nonce, encrypt)
