"""Exchange platform errors. Each names the failing party or hop, as X-Road's categories do."""

from __future__ import annotations

from typing import Any

from exchange.core import divisions, wire
from exchange.core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    Unavailable,
    Unprocessable,
)


class NodeNotFound(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(f"node {code} is not known to this node")


class NodeNotInitialised(Unavailable):
    def __init__(self) -> None:
        super().__init__("this node has not been initialised: run `hub db upgrade`")


class MissingCredentials(Unauthorized):
    def __init__(self) -> None:
        super().__init__("sign the request: Authorization: HubSig keyId=...,ts=...,sig=...")


class InvalidSignature(Unauthorized):
    def __init__(self, what: str) -> None:
        super().__init__(f"request signature rejected: {what}")


class ClockSkew(InvalidSignature):
    """A signature outside the allowed clock window; the caller's clock needs fixing (NTP)."""

    def __init__(self, offset_s: float, max_s: int) -> None:
        behind = "behind" if offset_s > 0 else "ahead of"
        super().__init__(
            f"timestamp more than {max_s} s from our clock: the caller's clock is "
            f"{abs(offset_s):.0f} s {behind} ours; keep both clocks in sync (NTP)"
        )
        self.code = "InvalidSignature"


class UnknownCaller(Unauthorized):
    def __init__(self, key_id: str) -> None:
        super().__init__(f"{key_id} is not a registered connector or neighbouring node")


class ConnectorNotActive(Forbidden):
    def __init__(self, connector_id: str, state: str) -> None:
        super().__init__(f"connector {connector_id} is {state}; only active connectors may call")


class NotAdjacent(Forbidden):
    def __init__(self, caller: str, me: str) -> None:
        super().__init__(
            f"node {caller} is not adjacent to {me}: data moves level by level "
            "(province <-> city <-> district); send through the level in between"
        )


class NotProvider(Forbidden):
    def __init__(self, department: str, resource: str) -> None:
        super().__init__(f"department {department} does not provide resource {resource!r}")


class UnknownResource(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(f"resource {code!r} is not in this node's catalogue")


class BatchNotFound(NotFound):
    def __init__(self, batch_id: object) -> None:
        super().__init__(f"batch {batch_id} is not known to this node")


class BatchIdReused(Conflict):
    def __init__(self, batch_id: object) -> None:
        super().__init__(
            f"batch id {batch_id} was already used for different content; "
            "a changed batch needs a new id"
        )


class BatchTooLarge(PayloadTooLarge):
    def __init__(self, limit: int) -> None:
        super().__init__(f"batch exceeds this node's limit of {limit} bytes (max_batch_bytes)")


class BadBatchHeader(BadRequest):
    def __init__(self, header: str, problem: str) -> None:
        super().__init__(f"header {header}: {problem}")


class HashMismatch(BadRequest):
    def __init__(self, declared: str, actual: str) -> None:
        super().__init__(
            f"content SHA-256 is {actual} but {wire.SHA256} declared {declared}: "
            "the body was altered or truncated in transit"
        )


class BatchSignatureInvalid(Unprocessable):
    def __init__(self, origin: str) -> None:
        super().__init__(f"the batch signature does not verify with the key of origin {origin}")


class NotArrow(BadRequest):
    def __init__(self, problem: str) -> None:
        super().__init__(f"body is not a complete Arrow IPC stream: {problem}")


class SchemaMismatch(Unprocessable):
    def __init__(self, resource: str, problems: list[dict[str, Any]]) -> None:
        first = problems[0]
        super().__init__(
            f"batch columns do not match resource {resource!r}: {first['field']}: "
            f"{first['message']}",
            problems=problems,
        )


class OutsideJurisdiction(Unprocessable):
    def __init__(self, resource: str, field: str, row: int, value: str, area: str) -> None:
        message = (
            f"{value} ({divisions.name_of(value)}) is outside {area} ({divisions.name_of(area)}): "
            f"a department here publishes {resource} only for divisions within this node's area"
        )
        super().__init__(
            f"row {row}, field {field}: {message}",
            problems=[
                {
                    "rule": "jurisdiction",
                    "field": field,
                    "row": row,
                    "value": value,
                    "message": message,
                }
            ],
        )


class QueueFull(TooManyRequests):
    def __init__(self, connector_id: str, cap: int) -> None:
        super().__init__(
            f"connector {connector_id} has {cap} undelivered batches waiting; retry later",
            retry_after_s=30,
        )


class DeliveryNotFound(NotFound):
    def __init__(self, delivery_id: int) -> None:
        super().__init__(f"delivery {delivery_id} is not in this connector's inbox")


class DeliveryNotRejected(NotFound):
    def __init__(self, delivery_ids: list[int]) -> None:
        listed = ", ".join(str(i) for i in delivery_ids)
        super().__init__(f"no rejected relay delivery with id {listed} (see `hub delivery list`)")


class UnknownDepartment(NotFound):
    def __init__(self, code: str, node_code: str) -> None:
        super().__init__(f"department {code!r} is not registered at node {node_code}")


class ConnectorNotFound(NotFound):
    def __init__(self, connector_id: object) -> None:
        super().__init__(f"connector {connector_id} is not registered here")


class BatchNotQuarantined(Conflict):
    def __init__(self, batch_id: object, status: str) -> None:
        super().__init__(f"batch {batch_id} is {status}: only a quarantined batch is rechecked")


class PayloadGone(Conflict):
    def __init__(self, batch_id: object) -> None:
        super().__init__(f"batch {batch_id}: its payload is no longer stored; send it again")


class NodesOnly(Forbidden):
    def __init__(self, caller: str) -> None:
        super().__init__(f"{caller} is not a node: only neighbouring nodes may call this")
