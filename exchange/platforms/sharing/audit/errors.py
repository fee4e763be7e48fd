"""Refusals of the audit anchoring calls between nodes."""

from __future__ import annotations

from exchange.core.errors import BadRequest, Conflict, Forbidden, PayloadTooLarge


class NotMyChild(Forbidden):
    def __init__(self, caller: str, me: str) -> None:
        super().__init__(f"node {caller} is not a child of {me}: only children anchor here")


class HeadAltered(BadRequest):
    def __init__(self, child: str, seal_no: int) -> None:
        super().__init__(f"seal {seal_no} of {child}: its hash does not match its fields")


class HeadNotSigned(Forbidden):
    def __init__(self, child: str, seal_no: int) -> None:
        super().__init__(f"seal {seal_no} does not carry a signature of node {child}")


class ForkedChain(Conflict):
    """The child sent a head that contradicts one this node countersigned before."""

    def __init__(self, child: str, seal_no: int, why: str) -> None:
        super().__init__(
            f"seal {seal_no} of {child} {why}: the chain was rewritten or truncated since; "
            "nothing was countersigned"
        )


class AnchorBodyTooLarge(PayloadTooLarge):
    def __init__(self, limit: int) -> None:
        super().__init__(f"an anchoring call carries at most {limit} bytes")


class BadHeads(BadRequest):
    def __init__(self, why: str) -> None:
        super().__init__(f"seal heads: {why}")
