"""Opaque values a node hands out (paging cursors, session cookies): sealed, not just signed.

AES-GCM under a key derived from the node secret per use: the holder can neither read a sealed
value (a cursor carries the last row's key, which the holder may only see masked) nor forge or
alter it, and a value sealed by another node, or for another use, does not open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12
MAX_SEALED_CHARS = 4096


def sealing_key(master: str, purpose: str) -> bytes:
    return hmac.new(master.encode(), f"hub-sealed/{purpose}".encode(), hashlib.sha256).digest()


def seal_value(key: bytes, value: Any) -> str:
    """`value` as compact JSON, encrypted and authenticated (AES-GCM), base64url: opaque."""
    plain = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    # A synthetic nonce (as in SIV): the same value seals to the same text, so a cursor that
    # has not moved stays equal; the nonce repeats only with its plaintext.
    nonce_key = hmac.new(key, b"hub-sealed/nonce", hashlib.sha256).digest()
    nonce = hmac.new(nonce_key, plain, hashlib.sha256).digest()[:_NONCE_BYTES]
    return _b64(nonce + AESGCM(key).encrypt(nonce, plain, None))


def open_value(key: bytes, token: str) -> Any:
    """The value `seal_value` sealed with `key`; raises ValueError for anything else."""
    if not token or len(token) > MAX_SEALED_CHARS or not token.isascii():
        raise ValueError("not a sealed value")
    try:
        raw = _unb64(token)
    except (ValueError, TypeError):
        raise ValueError("not a sealed value") from None
    if len(raw) <= _NONCE_BYTES:
        raise ValueError("not a sealed value")
    try:
        plain = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], None)
    except InvalidTag:
        raise ValueError("altered, or sealed by another node") from None
    return json.loads(plain)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
