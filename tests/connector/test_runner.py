"""The runner's back-off while the hub is unreachable or overloaded."""

from __future__ import annotations

from exchange.connector.runner import Backoff


def test_backoff_doubles_up_to_its_cap_and_resets_on_success() -> None:
    backoff = Backoff(max_s=5)
    assert backoff.ready()
    assert [backoff.failed(None) for _ in range(5)] == [1, 2, 4, 5, 5]
    assert not backoff.ready()
    backoff.succeeded()
    assert backoff.ready() and backoff.failed(None) == 1


def test_backoff_waits_at_least_what_the_hub_asked_for() -> None:
    backoff = Backoff(max_s=300)
    assert backoff.failed(retry_after=30) == 30
    assert backoff.failed(retry_after=None) == 60  # keeps doubling from there
