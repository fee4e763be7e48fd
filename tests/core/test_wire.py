"""The batch wire contract: what the connector and the relay send is what the intake reads."""

from __future__ import annotations

import datetime as dt

import pytest

from exchange.core import wire

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_headers_sent_are_the_headers_read() -> None:
    sent = wire.BatchHeaders(
        "macro_indicator",
        "ab" * 32,
        "sig",
        origin="330100000000/TJ/c1",
        origin_key="key",
        destination="330000000000",
        valid_from=NOW,
        lineage=[{"node": "330106000000", "action": "received"}],
    )
    http = sent.to_http(size=10)
    assert http["Content-Type"] == wire.ARROW_STREAM and http["Content-Length"] == "10"
    assert wire.parse_headers({k.lower(): v for k, v in http.items()}, NOW) == sent


@pytest.mark.parametrize(
    ("header", "value", "problem"),
    [
        (wire.SHA256, "abc", "must be 64 hex digits"),
        (wire.DESTINATION, "3301", "must be a 12-digit node code"),
        (wire.VALID_FROM, "2026-01-01T00:00:00", "must carry a UTC offset"),
        (wire.LINEAGE, "not base64!", "must be base64 JSON"),
    ],
)
def test_a_bad_header_is_named(header: str, value: str, problem: str) -> None:
    http = wire.BatchHeaders("macro_indicator", "ab" * 32, "sig").to_http(size=1)
    http[header] = value
    with pytest.raises(wire.HeaderProblem) as exc:
        wire.parse_headers({k.lower(): v for k, v in http.items()}, NOW)
    assert (exc.value.header, exc.value.problem) == (header, problem)
