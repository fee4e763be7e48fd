"""Refusals of the audit anchoring calls between nodes."""

from __future__ import annotations

from exchange.core.errors import BadRequest, Conflict, Forbidden, HubError, PayloadTooLarge


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


class NoParent(Conflict):
    def __init__(self, me: str) -> None:
        super().__init__(f"node {me} has no parent: there is no copy to verify against=parent")


class ParentUnreachable(HubError):
    """The parent did not answer or refused: the chain could not be compared (not a verdict)."""

    status_code = 502

    def __init__(self, why: str) -> None:
        super().__init__(f"could not fetch the heads the parent holds: {why}")
