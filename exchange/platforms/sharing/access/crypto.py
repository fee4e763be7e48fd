"""Secrets at rest and in transit: client secrets, console passwords, signed opaque values.

* Client secrets are 256 random bits, so a fast hash (SHA-256) is enough to keep them unusable
  if the database leaks; a slow KDF would only slow every token request.
* Console passwords are chosen by people, so they get scrypt (memory-hard, in the stdlib).
* Cursors and console cookies are HMAC-signed with keys derived from the node secret, so a
  client can hold them but not forge or alter them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

CLIENT_SECRET_PREFIX = "hubs_"
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def new_client_secret() -> str:
    return CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, digest: str) -> bool:
    return hmac.compare_digest(secret_digest(secret), digest)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(key)}"


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(_unb64(key)),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(key))


def derive_key(master: str, purpose: str) -> bytes:
    """A separate key per use, so a key leaked from one use opens nothing else."""
    return hmac.new(master.encode(), f"hub-sharing/{purpose}".encode(), hashlib.sha256).digest()


def sign_value(key: bytes, value: Any) -> str:
    """`value` as compact JSON, base64url, with a truncated HMAC: opaque and tamper-evident."""
    body = _b64(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    tag = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest()[:12])
    return f"{body}.{tag}"


def unsign_value(key: bytes, token: str) -> Any:
    """The value `sign_value` signed; raises ValueError for anything else."""
    body, sep, tag = token.partition(".")
    if not sep or not body or len(token) > 4096:
        raise ValueError("not a signed value")
    expected = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest()[:12])
    if not hmac.compare_digest(expected, tag):
        raise ValueError("signature does not match")
    return json.loads(_unb64(body))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
