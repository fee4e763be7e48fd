"""Secrets at rest and in transit: client secrets, console passwords, keys for sealed values.

* Client secrets are 256 random bits, so a fast hash (SHA-256) is enough to keep them unusable
  if the database leaks; a slow KDF would only slow every token request.
* Console passwords are chosen by people, so they get scrypt (memory-hard, in the stdlib).
* Cursors and console cookies are sealed (`exchange.core.sealed`) with keys derived here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
