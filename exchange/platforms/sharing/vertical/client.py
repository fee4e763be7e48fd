"""Signed node-to-node calls of the vertical sharing: one hop of a read (async, on the read
path), a trace fetched from the next hop (sync, for auditors). No transaction is open while
a neighbour is called."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import httpx

from exchange.core import signing
from exchange.core.signing import KeySource
from exchange.platforms.sharing.vertical.errors import HopTimeout, HopUnreachable
from exchange.platforms.sharing.vertical.schemas import FederatedList, RelayedRead, TraceRead

READ_PATH = "/sharing/v1/vertical/read"
TRACE_PATH = "/sharing/v1/vertical/trace/{request_id}"
# Passed on to the response of a relayed read: what the provider says about quotas.
PASSED_HEADERS = ("retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


@dataclass(frozen=True, slots=True)
class HopAnswer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def _signed(me: str, keys: KeySource, method: str, target: str, body: bytes) -> dict[str, str]:
    pair = keys.current()
    digest = hashlib.sha256(body).hexdigest()
    key_id = signing.qualified_key_id(me, pair)
    return {
        "Authorization": signing.authorization_header(key_id, pair, method, target, digest),
        "X-Content-SHA256": digest,
        "Content-Type": "application/json",
    }


async def forward(
    client: httpx.AsyncClient,
    *,
    me: str,
    keys: KeySource,
    hop: str,
    url: str,
    body: RelayedRead,
    wait_s: float,
) -> HopAnswer:
    """Send the read one hop on; the hop's answer, or 502/504 naming the hop."""
    raw = body.model_dump_json().encode()
    headers = _signed(me, keys, "POST", READ_PATH, raw)
    try:
        resp = await client.post(
            url.rstrip("/") + READ_PATH, content=raw, headers=headers, timeout=wait_s
        )
    except httpx.TimeoutException:
        raise HopTimeout(me, hop, wait_s) from None
    except httpx.HTTPError as exc:
        raise HopUnreachable(me, hop, type(exc).__name__) from None
    try:
        answer = json.loads(resp.content)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise HopUnreachable(me, hop, f"it answered {resp.status_code} without a JSON body")
    passed = {k: v for k, v in resp.headers.items() if k.lower() in PASSED_HEADERS}
    return HopAnswer(resp.status_code, answer, passed)


def fetch_trace(me: str, keys: KeySource, url: str, request_id: str) -> TraceRead:
    target = TRACE_PATH.format(request_id=request_id)
    headers = _signed(me, keys, "GET", target, b"")
    resp = httpx.get(url.rstrip("/") + target, headers=headers, timeout=10)
    if resp.status_code != 200:
        raise RuntimeError(f"{resp.status_code} {resp.text[:300]}")
    return TraceRead.model_validate_json(resp.content)


CATALOG_PATH = "/sharing/v1/vertical/catalog"


def fetch_catalog(http: httpx.Client, me: str, keys: KeySource, url: str) -> FederatedList:
    headers = _signed(me, keys, "GET", CATALOG_PATH, b"")
    resp = http.get(url.rstrip("/") + CATALOG_PATH, headers=headers, timeout=5)
    if resp.status_code != 200:
        raise RuntimeError(f"{resp.status_code} {resp.text[:300]}")
    return FederatedList.model_validate_json(resp.content)
