import pytest
from sqlalchemy.orm import Session

from exchange.core import ratelimit
from exchange.core.ratelimit import RateLimited, hit

pytestmark = pytest.mark.both_backends


def test_requests_within_the_limit_pass_and_count_down(db: Session) -> None:
    states = [hit(db, "client:a", limit=3, window_s=60) for _ in range(3)]
    assert [s.remaining for s in states] == [2, 1, 0]
    assert states[0].headers()["X-RateLimit-Limit"] == "3"


def test_the_request_past_the_limit_is_429_with_retry_after(db: Session) -> None:
    for _ in range(2):
        hit(db, "client:b", limit=2, window_s=60)
    with pytest.raises(RateLimited) as err:
        hit(db, "client:b", limit=2, window_s=60)
    assert err.value.status_code == 429
    assert 1 <= int(err.value.headers["Retry-After"]) <= 61
    assert err.value.headers["X-RateLimit-Remaining"] == "0"


def test_keys_are_counted_separately_and_windows_reset(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratelimit.time, "time", lambda: 1_000_000.0)
    hit(db, "client:c", limit=1, window_s=60)
    hit(db, "client:d", limit=1, window_s=60)
    with pytest.raises(RateLimited):
        hit(db, "client:c", limit=1, window_s=60)
    monkeypatch.setattr(ratelimit.time, "time", lambda: 1_000_061.0)
    assert hit(db, "client:c", limit=1, window_s=60).remaining == 0
