"""Short-lived access tokens: JWTs (RFC 7519) signed by this node's Ed25519 key (EdDSA).

Verification needs no database: signature, issuer, audience and expiry are checked, and a
verified token is remembered until it expires, so repeated calls cost one dictionary lookup.
The token's `kid` names the node key that signed it; the node's keys (several while it rotates
them) are read from the directory when an unknown `kid` appears and every half minute, so a
token signed with a key that has since been retired stops working.
What a token cannot say by itself (a revoked client, a revoked or expired grant) is checked
in the database on every call that reads or changes something.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.core.signing import KeyPair, KeySource, fingerprint
from exchange.platforms.sharing.access.principal import Principal, Role
from exchange.platforms.sharing.errors import InvalidToken

log = logging.getLogger("hub.sharing.tokens")
AUDIENCE = "hub-sharing"
ALGORITHM = "EdDSA"
_MAX_CACHED = 20_000
REFRESH_S = 30.0  # how late a retirement (or a key added elsewhere) is noticed at most
MISS_REFRESH_S = 1.0  # an unknown kid reads the keys again, at most this often


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
        "cname": principal.display_name,
        "cby": principal.created_by,
        "iat": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, keys.private, algorithm=ALGORITHM, headers={"kid": key_id(keys)})
    return IssuedToken(token, ttl_s, dt.datetime.fromtimestamp(now + ttl_s, dt.UTC))


def key_id(keys: KeyPair) -> str:
    return keys.key_id


@dataclass(frozen=True)
class NodeKey:
    public_b64: str
    retired_at: float | None  # epoch seconds

    def valid(self, now: float) -> bool:
        return self.retired_at is None or now < self.retired_at

    @property
    def public(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_b64))


LoadKeys = Callable[[], dict[str, NodeKey]]


def _with_aliases(found: dict[str, NodeKey], signing_now: KeyPair) -> dict[str, NodeKey]:
    """Add the key signing now, and every key under the kid tokens carried before key
    rotation (the first 16 base64 characters), so tokens issued by the previous release
    stay valid until they expire."""
    found.setdefault(signing_now.key_id, NodeKey(signing_now.public_b64, None))
    for key in list(found.values()):
        found.setdefault(key.public_b64[:16], key)
    return found


class TokenVerifier:
    """Verifies tokens of one issuer; thread-safe, caches verified tokens until they expire."""

    def __init__(self, node_code: str, current: KeySource, load_keys: LoadKeys | None) -> None:
        self._issuer = issuer(node_code)
        self._current = current
        self._load_keys = load_keys
        self._keys: dict[str, NodeKey] = _with_aliases({}, current.current())
        self._loaded_at = time.monotonic()
        self._cache: dict[str, tuple[Principal, int, str]] = {}
        self._lock = threading.Lock()

    def keys(self) -> dict[str, NodeKey]:
        """This node's token keys by kid; read again after REFRESH_S or when asked for a new kid."""
        if time.monotonic() - self._loaded_at > REFRESH_S:
            self._refresh()
        return self._keys

    def _refresh(self) -> None:
        self._loaded_at = time.monotonic()  # a failed read is retried after REFRESH_S, not per call
        try:
            found = self._load_keys() if self._load_keys else {}
        except Exception as exc:  # the database is away: keep verifying with the keys we know
            log.warning("node keys not refreshed", extra={"error": type(exc).__name__})
            return
        self._keys = _with_aliases(found, self._current.current())

    def _key(self, kid: str) -> NodeKey:
        key = self.keys().get(kid)
        if key is None and time.monotonic() - self._loaded_at > MISS_REFRESH_S:
            self._refresh()
            key = self._keys.get(kid)
        if key is None:
            raise InvalidToken(f"signed with key {kid}, which is not a key of this node")
        if not key.valid(time.time()):
            raise InvalidToken(f"signed with key {kid}, which this node has retired")
        return key

    def verify(self, token: str) -> Principal:
        hit = self._cache.get(token)
        if hit is not None:
            principal, exp, kid = hit
            now = time.time()
            key = self.keys().get(kid)
            if now < exp and key is not None and key.valid(now):
                return principal
            self._cache.pop(token, None)
            raise InvalidToken("expired" if now >= exp else f"key {kid} was retired")
        principal, exp, kid = self._decode(token)
        with self._lock:
            if len(self._cache) >= _MAX_CACHED:
                self._cache.clear()
            self._cache[token] = (principal, exp, kid)
        return principal

    def _decode(self, token: str) -> tuple[Principal, int, str]:
        try:
            kid = str(jwt.get_unverified_header(token).get("kid") or "")
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        key = self._key(kid)
        try:
            claims = jwt.decode(
                token,
                key.public,
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
                display_name=claims.get("cname"),
                created_by=claims.get("cby"),
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("expired") from None
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        except (ValueError, KeyError, TypeError):
            raise InvalidToken("malformed claims") from None
        if principal.role is Role.department and principal.department_id is None:
            raise InvalidToken("a department token names no department")
        return principal, int(claims["exp"]), kid


def jwks(verifier: TokenVerifier) -> list[dict[str, str]]:
    """RFC 7517 keys of every node key a token may carry now (not the pre-rotation aliases)."""
    now = time.time()
    out = []
    for kid, key in verifier.keys().items():
        if not key.valid(now) or kid != fingerprint(key.public_b64):
            continue
        x = base64.urlsafe_b64encode(base64.b64decode(key.public_b64)).rstrip(b"=").decode()
        out.append(
            {"kty": "OKP", "crv": "Ed25519", "x": x, "alg": "EdDSA", "use": "sig", "kid": kid}
        )
    return out
