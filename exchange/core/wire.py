"""The wire contract for batches, written once for every party that speaks it.

A batch travels as `PUT /exchange/v1/batches/{id}` with an Arrow IPC stream body
(`application/vnd.apache.arrow.stream`) and these headers:

    X-Batch-Resource      resource code                         always
    X-Batch-SHA256        SHA-256 of the body, 64 hex digits    always (the request signature
                                                                 covers it)
    X-Batch-Signature     the origin's Ed25519 signature of      always
                          `signing.batch_message(id, resource, sha256, origin)`
    X-Batch-Origin        origin path (node/department/conn.)   relayed batches
    X-Batch-Origin-Key    the origin's public key (base64)      relayed batches
    X-Batch-Destination   12-digit node code to address         optional
    X-Batch-Valid-From    ISO 8601 time with offset             optional
    X-Batch-Lineage       base64 JSON of the upstream receipts  relayed batches
    X-Batch-Schema-Version  the resource's schema version the    optional (absent: the
                          rows were written against (1, 2, ...)  version in force)
    X-Batch-First-Row     the number of the first row in the    optional, default 1
                          sender's file (a CSV's header is
                          line 1: its first row is 2)

The connector client and the relay build these with `BatchHeaders.to_http`; the intake reads
them with `parse_headers`. A batch that failed the quality gate is answered with 422 and
`quarantine_body`, the first time and on every replay. Only the standard library and
`core.context` are imported here: a department's connector loads it without the web stack.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from exchange.core.context import request_id_var

ARROW_STREAM = "application/vnd.apache.arrow.stream"
BATCHES_PATH = "/exchange/v1/batches"

RESOURCE = "X-Batch-Resource"
SHA256 = "X-Batch-SHA256"
SIGNATURE = "X-Batch-Signature"
ORIGIN = "X-Batch-Origin"
ORIGIN_KEY = "X-Batch-Origin-Key"
DESTINATION = "X-Batch-Destination"
VALID_FROM = "X-Batch-Valid-From"
LINEAGE = "X-Batch-Lineage"
SCHEMA_VERSION = "X-Batch-Schema-Version"
FIRST_ROW = "X-Batch-First-Row"
BATCH_ID = "X-Batch-Id"  # on a delivery's payload download

QUARANTINED = "BatchQuarantined"

_FUTURE_SLACK = dt.timedelta(minutes=5)


class HeaderProblem(ValueError):
    """A batch header is missing or malformed (the node answers 400 BadBatchHeader)."""

    def __init__(self, header: str, problem: str) -> None:
        super().__init__(f"header {header}: {problem}")
        self.header = header
        self.problem = problem


def batch_path(batch_id: uuid.UUID | str) -> str:
    return f"{BATCHES_PATH}/{batch_id}"


@dataclass(frozen=True)
class BatchHeaders:
    resource: str
    sha256: str
    signature: str
    origin: str | None = None
    origin_key: str | None = None
    destination: str | None = None
    valid_from: dt.datetime | None = None
    lineage: list[dict[str, Any]] = field(default_factory=list)
    schema_version: int | None = None
    # Findings name rows as the sender's file numbers them, at every hop (`Finding.row`).
    first_row: int = 1

    def to_http(self, size: int) -> dict[str, str]:
        """The request headers for a body of `size` bytes (without Authorization)."""
        headers = {
            "Content-Type": ARROW_STREAM,
            "Content-Length": str(size),
            RESOURCE: self.resource,
            SHA256: self.sha256,
            SIGNATURE: self.signature,
        }
        if self.origin is not None:
            headers[ORIGIN] = self.origin
        if self.origin_key is not None:
            headers[ORIGIN_KEY] = self.origin_key
        if self.lineage:
            headers[LINEAGE] = base64.b64encode(json.dumps(self.lineage).encode()).decode()
        if self.destination:
            headers[DESTINATION] = self.destination
        if self.valid_from is not None:
            headers[VALID_FROM] = self.valid_from.isoformat()
        if self.schema_version is not None:
            headers[SCHEMA_VERSION] = str(self.schema_version)
        if self.first_row != 1:
            headers[FIRST_ROW] = str(self.first_row)
        return headers


def parse_headers(h: Mapping[str, str], now: dt.datetime) -> BatchHeaders:
    """Read and check the headers of an incoming batch; HeaderProblem names the bad one."""

    def need(name: str) -> str:
        value = h.get(name.lower())
        if not value:
            raise HeaderProblem(name, "missing")
        return value

    sha = need(SHA256).lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise HeaderProblem(SHA256, "must be 64 hex digits")
    destination = h.get(DESTINATION.lower()) or None
    if destination is not None and (len(destination) != 12 or not destination.isdigit()):
        raise HeaderProblem(DESTINATION, "must be a 12-digit node code")
    valid_from = None
    if raw := h.get(VALID_FROM.lower()):
        try:
            valid_from = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise HeaderProblem(VALID_FROM, "must be an ISO 8601 time") from None
        if valid_from.tzinfo is None:
            raise HeaderProblem(VALID_FROM, "must carry a UTC offset")
        if valid_from > now + _FUTURE_SLACK:
            raise HeaderProblem(VALID_FROM, "is in the future")
    lineage: list[dict[str, Any]] = []
    if raw := h.get(LINEAGE.lower()):
        try:
            lineage = json.loads(base64.b64decode(raw, validate=True))
        except ValueError:
            raise HeaderProblem(LINEAGE, "must be base64 JSON") from None
        if not isinstance(lineage, list):
            raise HeaderProblem(LINEAGE, "must be a JSON list of receipts")
    return BatchHeaders(
        resource=need(RESOURCE),
        sha256=sha,
        signature=need(SIGNATURE),
        origin=h.get(ORIGIN.lower()),
        origin_key=h.get(ORIGIN_KEY.lower()),
        destination=destination,
        valid_from=valid_from,
        lineage=lineage,
        schema_version=_schema_version(h.get(SCHEMA_VERSION.lower())),
        first_row=_first_row(h.get(FIRST_ROW.lower())),
    )


def _schema_version(raw: str | None) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 1_000_000:
        raise HeaderProblem(SCHEMA_VERSION, "must be a version number (1, 2, ...)")
    return int(raw)


def _first_row(raw: str | None) -> int:
    if not raw:
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= 1_000_000:
        raise HeaderProblem(FIRST_ROW, "must be a row number from 1")
    return int(raw)


def quarantine_body(batch: dict[str, Any]) -> dict[str, Any]:
    """The 422 body for a quarantined batch (`batch`: its JSON view, with the gate's report)."""
    gate = batch.get("gate") or {}
    problems: list[dict[str, Any]] = gate.get("findings", [])
    first = problems[0] if problems else {"message": "failed the quality gate"}
    detail = f"batch quarantined: {first.get('rule', '')} {first.get('field') or ''}".strip()
    if first.get("row") is not None:
        detail += f" row {first['row']}"
    # The shape of core.errors.error_body, which this module cannot import: a connector loads
    # it without the web stack.
    return {
        "error": QUARANTINED,
        "detail": f"{detail}: {first['message']}",
        "request_id": request_id_var.get(),
        "problems": problems,
        "batch": batch,
    }


def is_quarantine(status: int, body: Mapping[str, Any]) -> bool:
    """The receiver recorded the batch and its gate refused it: the answer will not change."""
    return status == 422 and body.get("error") == QUARANTINED and "batch" in body
