"""How a batch's columns fail to conform to its resource's schema, worded once: the connector
reading a file, the intake checking a stream and the quality gate checking a table all say it
with these words (only the standard library: a connector loads it without the web stack)."""

from __future__ import annotations

from collections.abc import Sequence

MISSING, UNKNOWN, TYPE = "missing", "unknown", "type"


def missing_column(name: str, *, required: bool = True) -> str:
    return f"column {name!r} is missing" + (" and is required" if required else "")


def unknown_column(name: str, resource: str, known: Sequence[str]) -> str:
    return f"unknown column {name!r}: resource {resource} has the columns {', '.join(known)}"


def wrong_type(name: str, got: object, expected: object) -> str:
    return f"column {name!r} is {got}, expected {expected}"
