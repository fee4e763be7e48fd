"""Signed HTTP calls from a connector (or a node) to a hub node."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx

from exchange.connector.spool import SpooledBatch
from exchange.core import signing, wire
from exchange.core.signing import EMPTY_SHA256, KeyPair, KeySource

RETRYABLE = {408, 425, 429, 500, 502, 503, 504}


class PushRefused(Exception):
    """The hub said no (4xx): retrying the same bytes will not help."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body
        super().__init__(f"{status} {body.get('error', '')}: {body.get('detail', '')}")


class HubUnavailable(Exception):
    """The hub could not be reached or was overloaded: the batch stays in the outbox."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class HubClient:
    """Signs as `key_id` (a connector id or node code) with the key `keys` holds at each call:
    pass a `KeyFile` and a key rotated by another process is picked up at the next call."""

    def __init__(self, base_url: str, key_id: str, keys: KeySource, timeout_s: float = 600) -> None:
        self.base_url = base_url.rstrip("/")
        self.key_id = key_id
        self.keys = keys
        self.http = httpx.Client(timeout=httpx.Timeout(30.0, read=timeout_s, write=timeout_s))

    def close(self) -> None:
        self.http.close()

    def _headers(
        self,
        method: str,
        target: str,
        content_sha256: str = EMPTY_SHA256,
        pair: KeyPair | None = None,
    ) -> dict[str, str]:
        pair = pair or self.keys.current()
        key_id = signing.qualified_key_id(self.key_id, pair)
        return {
            "Authorization": signing.authorization_header(
                key_id, pair, method, target, content_sha256
            )
        }

    def get(self, target: str) -> httpx.Response:
        return self.http.get(self.base_url + target, headers=self._headers("GET", target))

    def schema_in_force(self, resource: str) -> tuple[int, dict[str, Any]] | None:
        """(version, descriptor) the node holds `resource` to now; None when the node cannot
        say (unreachable, or refusing this connector: the send then reports why), and the
        connector spools against its own copy of the schema files. PushRefused when the
        node's answer is about the resource (unknown, not published, withdrawn)."""
        try:
            resp = self.get(f"/exchange/v1/resources/{resource}/schema")
        except httpx.HTTPError:
            return None
        if resp.status_code in (404, 409, 410):
            raise PushRefused(resp.status_code, _json(resp))
        if resp.status_code != 200:
            return None
        body = resp.json()
        return int(body["version"]), dict(body["descriptor"])

    def post(self, target: str) -> httpx.Response:
        return self.http.post(self.base_url + target, headers=self._headers("POST", target))

    def post_json(
        self, target: str, body: dict[str, Any], *, pair: KeyPair | None = None
    ) -> httpx.Response:
        """A signed POST whose JSON body the signature covers (X-Content-SHA256)."""
        content = json.dumps(body, separators=(",", ":")).encode()
        sha = hashlib.sha256(content).hexdigest()
        headers = self._headers("POST", target, sha, pair)
        headers |= {"Content-Type": "application/json", "X-Content-SHA256": sha}
        return self.http.post(self.base_url + target, content=content, headers=headers)

    def stream_get(self, target: str) -> AbstractContextManager[httpx.Response]:
        """A signed GET whose body is read in chunks (payloads can be larger than memory)."""
        return self.http.stream("GET", self.base_url + target, headers=self._headers("GET", target))

    def push(
        self,
        batch: SpooledBatch,
        *,
        origin: str,
        on_bytes: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """Upload one spooled batch; returns the hub's receipt, with `replayed` true when the
        hub had already accepted this batch id (and wrote nothing this time).

        A quarantined batch is a PushRefused(422) with the gate's problems, also on a replay."""
        target = wire.batch_path(batch.batch_id)
        pair = self.keys.current()  # one key for the request and the batch it carries
        signature = pair.sign(
            signing.batch_message(batch.batch_id, batch.resource, batch.sha256, origin)
        )
        meta = wire.BatchHeaders(
            batch.resource,
            batch.sha256,
            signature,
            destination=batch.destination,
            schema_version=batch.schema_version,
            first_row=batch.first_row,
        )
        headers = self._headers("PUT", target, batch.sha256, pair) | meta.to_http(batch.size)
        try:
            resp = self.http.put(
                self.base_url + target,
                content=_file_chunks(Path(batch.path), on_bytes),
                headers=headers,
            )
        except httpx.HTTPError as exc:
            raise HubUnavailable(f"{type(exc).__name__}: {exc}") from None
        body = _json(resp)
        if resp.status_code in (200, 201):
            return body | {"replayed": resp.status_code == 200}
        if resp.status_code in RETRYABLE:
            retry = resp.headers.get("retry-after", "")
            raise HubUnavailable(
                f"{resp.status_code} {body.get('detail', '')} (retry {retry}s)",
                retry_after=float(retry) if retry.isdigit() else None,
            )
        raise PushRefused(resp.status_code, body)


def _file_chunks(path: Path, on_bytes: Callable[[int], None] | None) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            if on_bytes:
                on_bytes(len(chunk))
            yield chunk


def _json(resp: httpx.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        return {"detail": resp.text[:300]}
    return data if isinstance(data, dict) else {"result": data}
