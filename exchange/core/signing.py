"""Ed25519 keys and signatures for nodes and connectors (the private key never leaves its owner).

Two things are signed:
* every request between parties (`Authorization: HubSig ...`), so the receiver knows who calls;
* every batch by its origin (`batch_message`), so any later hop can prove who sent what content.

A party may hold several keys while it rotates them. Each key is named by its fingerprint
(`fingerprint`), and a request names the key it was signed with: `keyId=PRINCIPAL:FINGERPRINT`
(a bare `keyId=PRINCIPAL`, as sent before key rotation existed, is checked against every key of
the principal that is not retired).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SCHEME = "HubSig"
MAX_CLOCK_SKEW_S = 300
# Every response of a node carries its clock (seconds since the epoch), so a caller learns the
# offset between the two clocks from any answer, signed calls included, before it reaches
# MAX_CLOCK_SKEW_S and signatures start to fail.
CLOCK_HEADER = "X-Hub-Time"


_clock_offset_s = 0.0


def now() -> float:
    """This party's clock, as it signs and checks signatures (seconds since the epoch)."""
    return time.time() + _clock_offset_s


def set_clock_offset(seconds: float) -> None:
    """Shift this process's clock (`HUB_CLOCK_OFFSET_S`): only to test what skew does."""
    global _clock_offset_s
    _clock_offset_s = seconds


def clock_message(node: str, caller: str, caller_ts: int, node_time: str) -> bytes:
    """What a node signs when it tells a neighbour its clock (`GET /exchange/v1/clock`): the
    caller's signed timestamp is echoed, so an old answer cannot be replayed."""
    return f"hub-clock/v1\n{node}\n{caller}\n{caller_ts}\n{node_time}".encode()


def clock_offset(headers: Mapping[str, str], sent_at: float, received_at: float) -> float | None:
    """Seconds the other node's clock is ahead of ours (negative: behind), from its answer."""
    raw = headers.get(CLOCK_HEADER.lower()) or headers.get(CLOCK_HEADER)
    try:
        theirs = float(raw) if raw else None
    except ValueError:
        return None
    return None if theirs is None else round(theirs - (sent_at + received_at) / 2, 1)


EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


@dataclass(frozen=True)
class KeyPair:
    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> KeyPair:
        return cls(Ed25519PrivateKey.generate())

    @property
    def public_b64(self) -> str:
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return _b64(raw)

    @property
    def key_id(self) -> str:
        return fingerprint(self.public_b64)

    def current(self) -> KeyPair:
        """A fixed key is its own key source (see `KeyFile`)."""
        return self

    def sign(self, message: bytes) -> str:
        return _b64(self.private.sign(message))

    def save(self, path: Path) -> None:
        """Write the private key as PKCS#8 PEM, readable by its owner only."""
        pem = self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)

    @classmethod
    def load(cls, path: Path) -> KeyPair:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return cls(key)

    @classmethod
    def load_or_create(cls, path: Path) -> KeyPair:
        """The key in `path`, made first if absent. Safe when several processes of one party
        (API workers, the audit sealer) start together: the file appears whole, exactly once."""
        if path.exists():
            return cls.load(path)
        pair = cls.generate()
        staged = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        pair.save(staged)
        try:
            os.link(staged, path)  # fails if another process got there first: use theirs
        except FileExistsError:
            return cls.load(path)
        finally:
            staged.unlink()
        return pair


class KeySource(Protocol):
    def current(self) -> KeyPair: ...


class KeyFile:
    """The key in a file, read again whenever the file changes (a rotation replaced it).

    Every process of a party signs with the same file, so after a rotation replaced it each of them
    signs with the new key from its next call on; a stat per signature is all it costs.
    """

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        self._create = create
        self._stamp: tuple[int, int, int] | None = None
        self._pair: KeyPair | None = None
        self._lock = threading.Lock()

    def current(self) -> KeyPair:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            if not self._create:
                raise
            KeyPair.load_or_create(self.path)
            st = self.path.stat()
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp != self._stamp or self._pair is None:
            with self._lock:
                self._pair, self._stamp = KeyPair.load(self.path), stamp
        return self._pair


def fingerprint(public_b64: str) -> str:
    """A key's name: the first 16 hex digits of the SHA-256 of its 32 raw bytes."""
    return hashlib.sha256(_unb64(public_b64)).hexdigest()[:16]


def qualified_key_id(principal: str, pair: KeyPair) -> str:
    return f"{principal}:{pair.key_id}"


def split_key_id(key_id: str) -> tuple[str, str | None]:
    """`PRINCIPAL:FINGERPRINT` -> (principal, fingerprint); a bare PRINCIPAL -> (it, None)."""
    principal, sep, key = key_id.partition(":")
    return principal, (key if sep else None)


def verify(public_b64: str, message: bytes, signature_b64: str) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(_unb64(public_b64))
        key.verify(_unb64(signature_b64), message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def valid_public_key(public_b64: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(_unb64(public_b64))
    except (ValueError, TypeError):
        return False
    return True


def batch_message(batch_id: str, resource: str, sha256: str, origin: str) -> bytes:
    """What an origin signs for a batch; the same bytes are verified at every hop."""
    return f"hub-batch/v1\n{batch_id}\n{resource}\n{sha256}\n{origin}".encode()


RECEIPT_V1, RECEIPT_V2 = "hub-receipt/v1", "hub-receipt/v2"


def receipt_message(
    batch_id: str,
    node: str,
    action: str,
    at: str,
    sha256: str,
    detail: Mapping[str, object] | None = None,
    layout: str = RECEIPT_V1,
) -> bytes:
    """What a node signs for one step of a batch (README, Receipts). v2 also covers the
    step's detail (rows, from, to...) as canonical JSON; v1 receipts (before it) do not."""
    head = f"{layout}\n{batch_id}\n{node}\n{action}\n{at}\n{sha256}"
    if layout == RECEIPT_V1:
        return head.encode()
    return f"{head}\n{canonical_json(detail or {})}".encode()


def canonical_json(value: object) -> str:
    """Sorted keys, no spaces, UTF-8 text as is: the same bytes wherever it is recomputed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_message(method: str, target: str, timestamp: int, content_sha256: str) -> bytes:
    return f"hub-request/v1\n{method.upper()}\n{target}\n{timestamp}\n{content_sha256}".encode()


def authorization_header(
    key_id: str, pair: KeyPair, method: str, target: str, content_sha256: str = EMPTY_SHA256
) -> str:
    ts = int(now())
    sig = pair.sign(request_message(method, target, ts, content_sha256))
    return f"{SCHEME} keyId={key_id},ts={ts},sig={sig}"


@dataclass(frozen=True)
class ParsedAuthorization:
    key_id: str
    timestamp: int
    signature: str


def parse_authorization(header: str) -> ParsedAuthorization | None:
    scheme, _, params = header.partition(" ")
    if scheme != SCHEME:
        return None
    parts = dict(p.split("=", 1) for p in params.split(",") if "=" in p)
    try:
        return ParsedAuthorization(parts["keyId"], int(parts["ts"]), parts["sig"])
    except (KeyError, ValueError):
        return None
