"""Refusals and failures of calls across levels; each names the rule or the hop."""

from __future__ import annotations

from collections.abc import Sequence

from exchange.core import divisions
from exchange.core.errors import BadRequest, Conflict, Forbidden, HubError, NotFound, Unauthorized


class NotSharedWithLevel(Forbidden):
    def __init__(self, resource: str, provider: str, levels: Sequence[str], caller: str) -> None:
        super().__init__(
            f"resource {resource} of node {provider} is shared with levels "
            f"{', '.join(levels)} (its catalogue entry's share_levels); node {caller} is at "
            f"level {divisions.level_of(caller)}"
        )


class ReplayedRequest(Unauthorized):
    def __init__(self, caller: str) -> None:
        super().__init__(
            f"this relayed request from node {caller} was already received (its nonce was "
            "seen): a replay is refused"
        )


class BodyNotSigned(Unauthorized):
    def __init__(self) -> None:
        super().__init__("the body does not match the signed X-Content-SHA256: not what was signed")


class WrongDirection(Forbidden):
    def __init__(self, caller: str, origin: str, expected: str | None) -> None:
        super().__init__(
            f"node {caller} relayed a call from {origin}, which reaches this node through "
            f"{expected or 'no neighbour'}: calls travel level by level on the one path"
        )


class BadRelayBody(BadRequest):
    def __init__(self, why: str) -> None:
        super().__init__(f"relayed request refused: {why}")


class UnknownProviderNode(NotFound):
    def __init__(self, provider: str) -> None:
        super().__init__(f"X-Provider-Node {provider}: no such division, so no node to ask")


class ProviderIsThisNode(Conflict):
    def __init__(self, me: str) -> None:
        super().__init__(f"node {me} is this node: read its own resources without X-Provider-Node")


class NotMyTrace(Forbidden):
    def __init__(self, caller: str, request_id: str) -> None:
        super().__init__(f"node {caller} took no part in request {request_id} through this node")


class HopUnreachable(HubError):
    """The next hop did not answer: the call fails here, never with a stale copy."""

    status_code = 502

    def __init__(self, me: str, hop: str, why: str) -> None:
        super().__init__(f"node {me} could not reach the next hop, node {hop}: {why}")


class HopTimeout(HubError):
    status_code = 504

    def __init__(self, me: str, hop: str, budget_s: float) -> None:
        super().__init__(
            f"node {me} got no answer from the next hop, node {hop}, within {budget_s:.1f} s"
        )
