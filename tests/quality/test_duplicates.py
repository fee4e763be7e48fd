"""Finding rows that repeat an earlier row's key, by sort (digit keys) or by hashing."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pytest

from exchange.quality.duplicates import repeats


def _expected(keys: list[tuple[object, ...]]) -> tuple[list[bool], list[int]]:
    first_row: dict[tuple[object, ...], int] = {}
    repeated, first = [], []
    for row, key in enumerate(keys):
        if any(part in (None, "") for part in key):
            repeated.append(False)
            first.append(-1)
            continue
        repeated.append(key in first_row)
        first.append(first_row.setdefault(key, row))
    return repeated, first


def _present(*columns: Sequence[object]) -> np.ndarray:
    return np.array([all(v not in (None, "") for v in row) for row in zip(*columns, strict=True)])


@pytest.mark.parametrize(
    "alphabet",
    ["0123456789", "0123456789X", "0123456789ab"],  # digit keys, ID-like keys, other text
)
def test_repeats_match_a_plain_python_reference(alphabet: str) -> None:
    rng = random.Random(7)
    pool = ["".join(rng.choice(alphabet) for _ in range(5)) for _ in range(300)]
    values: list[str | None] = [rng.choice([*pool, None, ""]) for _ in range(2_000)]
    if alphabet != "0123456789ab":
        values = [v if not v or v[:-1].isdigit() else None for v in values]  # X only last
    got, first = repeats([pa.array(values, pa.string())], _present(values))
    expected, expected_first = _expected([(v,) for v in values])
    assert got.tolist() == expected
    assert [f for f, r in zip(first.tolist(), expected, strict=True) if r] == [
        f for f, r in zip(expected_first, expected, strict=True) if r
    ]
    assert sum(expected) > 100


def test_a_composite_key_repeats_only_when_every_part_does() -> None:
    rng = random.Random(11)
    a = [rng.choice(["GDP", "CPI", None]) for _ in range(1_000)]
    b = [rng.choice(["330102000000", "330106000000", ""]) for _ in range(1_000)]
    c = [rng.choice(["2024", "2024Q1", "2024-01"]) for _ in range(1_000)]
    columns = [pa.array(col, pa.string()) for col in (a, b, c)]
    got, first = repeats(columns, _present(a, b, c))
    expected, expected_first = _expected(list(zip(a, b, c, strict=True)))
    assert got.tolist() == expected
    assert first[got].tolist() == [f for f, r in zip(expected_first, expected, strict=True) if r]


def test_distinct_keys_repeat_nothing() -> None:
    values = [f"{i:018d}" for i in range(1_000)]
    got, _ = repeats([pa.array(values)], np.ones(1_000, dtype=bool))
    assert not got.any()
