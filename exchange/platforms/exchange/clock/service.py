"""The clock handshake between neighbouring nodes: each side learns the offset between the two
clocks from a signed exchange, before it reaches the 300 s beyond which signed calls fail.

The caller signs its request as always (its timestamp is its clock); the answering node checks
the signature but not the timestamp, and signs its own clock together with the caller's
timestamp. The caller verifies that answer with the neighbour's key and takes the offset
against the middle of its round trip (NTP's estimate).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from exchange.core import signing
from exchange.core.runtime import Runtime
from exchange.core.settings import NodeRef
from exchange.platforms.exchange.auth import Caller
from exchange.platforms.exchange.clock.schemas import ClockRead

CLOCK_PATH = "/exchange/v1/clock"


def answer(rt: Runtime, caller: Caller, authorization: str) -> ClockRead:
    parsed = signing.parse_authorization(authorization)
    assert parsed is not None  # the caller was authenticated from this header
    now = signing.now()
    shown = f"{now:.3f}"
    pair = rt.node_keys
    me = rt.settings.node_code
    return ClockRead(
        node=me,
        caller=caller.key_id,
        caller_time=parsed.timestamp,
        time=shown,
        offset_s=round(now - parsed.timestamp, 1),
        key_id=pair.key_id,
        signature=pair.sign(signing.clock_message(me, caller.key_id, parsed.timestamp, shown)),
    )


@dataclass(frozen=True)
class ClockReading:
    node: str
    offset_s: float | None  # the neighbour's clock minus ours; None when it could not be read
    problem: str | None = None


def handshake(rt: Runtime, neighbour: NodeRef, http: httpx.Client) -> ClockReading:
    """Ask a neighbour for its signed clock; the offset only counts if the answer verifies."""
    me = rt.settings.node_code
    pair = rt.node_keys
    header = signing.authorization_header(
        signing.qualified_key_id(me, pair), pair, "GET", CLOCK_PATH
    )
    parsed = signing.parse_authorization(header)
    assert parsed is not None
    sent = signing.now()
    try:
        resp = http.get(neighbour.url.rstrip("/") + CLOCK_PATH, headers={"Authorization": header})
    except httpx.HTTPError as exc:
        return ClockReading(neighbour.code, None, f"{type(exc).__name__}")
    received = signing.now()
    if resp.status_code != 200:
        return ClockReading(neighbour.code, None, f"answered {resp.status_code}")
    try:
        body = ClockRead.model_validate(resp.json())
        theirs = float(body.time)
    except ValueError:
        return ClockReading(neighbour.code, None, "the answer is not a clock reading")
    message = signing.clock_message(neighbour.code, me, parsed.timestamp, body.time)
    genuine = (
        body.node == neighbour.code
        and body.caller_time == parsed.timestamp
        and neighbour.public_key is not None
        and signing.verify(neighbour.public_key, message, body.signature)
    )
    if not genuine:
        return ClockReading(neighbour.code, None, "the clock answer does not verify")
    return ClockReading(neighbour.code, round(theirs - (sent + received) / 2, 1))
