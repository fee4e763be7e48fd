"""Which neighbour a call across levels goes to next: up to the common ancestor, then down,
one level a hop (the exchange centre's rule: never skipping a level)."""

from __future__ import annotations

from exchange.core import divisions


def next_hop(me: str, target: str) -> str | None:
    """The neighbour of `me` on the way to `target`: the child below `me` when `target` lies
    below, else the parent; None when `me` is the target or has nowhere to go."""
    if me == target:
        return None
    below = divisions.child_towards(me, target)
    return below if below is not None else divisions.parent_of(me)


def path(origin: str, target: str) -> list[str]:
    """Every node a call from `origin` to `target` passes through, both ends included."""
    out = [origin]
    while (step := next_hop(out[-1], target)) is not None:
        out.append(step)
    return out
