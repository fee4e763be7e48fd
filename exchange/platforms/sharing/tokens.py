"""Short-lived access tokens: JWTs (RFC 7519) signed by this node's Ed25519 key (EdDSA).

Verification needs no database: signature, issuer, audience and expiry are checked, and a
verified token is remembered until it expires, so repeated calls cost one dictionary lookup.
What a token cannot say by itself (a revoked client, a revoked or expired grant) is checked
in the database on every call that reads or changes something.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.core.signing import KeyPair
from exchange.platforms.sharing.errors import InvalidToken
from exchange.platforms.sharing.principal import Principal, Role

AUDIENCE = "hub-sharing"
ALGORITHM = "EdDSA"
_MAX_CACHED = 20_000


def issuer(node_code: str) -> str:
    return f"hub:{node_code}"


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    expires_at: dt.datetime


def issue(keys: KeyPair, principal: Principal, ttl_s: int) -> IssuedToken:
    now = int(time.time())
    claims = {
        "iss": issuer(principal.node_code),
        "aud": AUDIENCE,
        "sub": str(principal.id),
        "name": principal.name,
        "kind": principal.kind,
        "role": principal.role.value,
        "node": principal.node_code,
        "dept": principal.department_code,
        "dept_id": str(principal.department_id) if principal.department_id else None,
        "iat": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, keys.private, algorithm=ALGORITHM, headers={"kid": key_id(keys)})
    return IssuedToken(token, ttl_s, dt.datetime.fromtimestamp(now + ttl_s, dt.UTC))


def key_id(keys: KeyPair) -> str:
    return keys.public_b64[:16]


class TokenVerifier:
    """Verifies tokens of one issuer; thread-safe, caches verified tokens until they expire."""

    def __init__(self, public_key: Ed25519PublicKey, node_code: str) -> None:
        self._key = public_key
        self._issuer = issuer(node_code)
        self._cache: dict[str, tuple[Principal, int]] = {}
        self._lock = threading.Lock()

    def verify(self, token: str) -> Principal:
        hit = self._cache.get(token)
        if hit is not None:
            principal, exp = hit
            if time.time() < exp:
                return principal
            self._cache.pop(token, None)
            raise InvalidToken("expired")
        principal, exp = self._decode(token)
        with self._lock:
            if len(self._cache) >= _MAX_CACHED:
                self._cache.clear()
            self._cache[token] = (principal, exp)
        return principal

    def _decode(self, token: str) -> tuple[Principal, int]:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "role", "iss", "aud"]},
            )
            dept_id = claims.get("dept_id")
            principal = Principal(
                kind=str(claims.get("kind", "client")),
                id=uuid.UUID(claims["sub"]),
                name=str(claims.get("name") or claims["sub"]),
                role=Role(claims["role"]),
                node_code=str(claims.get("node", "")),
                department_id=uuid.UUID(dept_id) if dept_id else None,
                department_code=claims.get("dept"),
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("expired") from None
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        except (ValueError, KeyError, TypeError):
            raise InvalidToken("malformed claims") from None
        if principal.role is Role.department and principal.department_id is None:
            raise InvalidToken("a department token names no department")
        return principal, int(claims["exp"])
