from __future__ import annotations

import pytest

from exchange.core import divisions

ZHEJIANG, HANGZHOU, XIHU = "330000000000", "330100000000", "330106000000"
NINGBO = "330200000000"


@pytest.mark.parametrize(
    ("code", "parent"), [(ZHEJIANG, None), (HANGZHOU, ZHEJIANG), (XIHU, HANGZHOU)]
)
def test_a_division_knows_the_level_above_it(code: str, parent: str | None) -> None:
    assert divisions.parent_of(code) == parent
    division = divisions.get(code)
    assert division is not None and division.parent_code == parent


@pytest.mark.parametrize(
    ("me", "destination", "step"),
    [
        (ZHEJIANG, XIHU, HANGZHOU),  # a province sends a district's batch to its city
        (ZHEJIANG, HANGZHOU, HANGZHOU),
        (HANGZHOU, XIHU, XIHU),
        (HANGZHOU, NINGBO, None),  # a sibling lies up the tree, not below
        (HANGZHOU, ZHEJIANG, None),
        (XIHU, HANGZHOU, None),
        (HANGZHOU, HANGZHOU, None),
    ],
)
def test_the_step_down_towards_a_destination(me: str, destination: str, step: str | None) -> None:
    assert divisions.child_towards(me, destination) == step
