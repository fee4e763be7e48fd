"""The soak of the embedded default, short: pushes, reads and console sign-ins at once on a
SQLite node served by `hub serve`, with no 5xx (the 10-minute run is `python -m bench soak`)."""

from __future__ import annotations

import pytest

from bench import soak

pytestmark = pytest.mark.slow


def test_a_15_second_soak_of_the_sqlite_node_answers_no_5xx() -> None:
    tally = soak.main(["--minutes", "0.25", "--readers", "3", "--residents", "500"])
    assert tally.total("5xx") == 0, tally.errors
    served = {kind for (kind, klass), n in tally.counts.items() if klass in ("2xx", "3xx") and n}
    # every kind of call got through while the others ran: none starved behind the writers
    assert served >= {
        "connector push",
        "read by key",
        "read a page",
        "console sign-in",
        "console home",
    }, tally.counts
    assert tally.counts[("read a missing key", "4xx")] > 0  # the 404s are counted as such
