from __future__ import annotations

from pydantic import BaseModel, Field


class ClockRead(BaseModel):
    """A node's clock, signed: the answer to a neighbour's clock handshake."""

    node: str
    caller: str
    caller_time: int = Field(description="the caller's signed request timestamp, echoed")
    time: str = Field(description="this node's clock, seconds since the epoch (3 decimals)")
    offset_s: float = Field(description="this node's clock minus the caller's, as seen here")
    key_id: str
    signature: str = Field(description="Ed25519 over `signing.clock_message`, see README")
