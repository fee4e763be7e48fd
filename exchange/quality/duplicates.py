"""Rows that repeat an earlier row's key within one batch, and which row they repeat.

Hashing a million distinct strings costs ~200 ms in Arrow, a third of the gate's budget. Most
keys the hub sees at that scale are fixed-width digit strings (ID numbers, division codes),
which map exactly onto int64 and are then compared by one numpy sort.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exchange.quality.identifiers import fixed_width

_MAX_DIGITS = 18  # 17 digits and a 0-9/X check character still fit in an int64 exactly


def repeats(columns: list[pa.Array], present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows whose key repeats an earlier row's, the first row holding that key for each row).

    Rows outside `present` take no part: they neither repeat nor are repeated."""
    keys = _digit_keys(columns[0], present) if len(columns) == 1 else None
    if keys is not None:
        return _repeats_by_sort(keys, present)
    return _repeats_by_codes(_combined_codes(columns, present), present)


def _digit_keys(column: pa.Array, present: np.ndarray) -> np.ndarray | None:
    """Exact int64 keys if every present value is digits (last may be X) of one width."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return None
    if not present.any():
        return None
    lengths = pc.binary_length(column).fill_null(0).to_numpy(zero_copy_only=False)
    width = int(lengths[present][0])
    if width > _MAX_DIGITS or (lengths[present] != width).any():
        return None
    chars, fits = fixed_width(column, width)
    digits = chars - np.uint8(ord("0"))
    last = np.where(chars[-1] == ord("X"), 10, digits[-1])
    if (digits[:-1, present] > 9).any() or (last[present] > 10).any():
        return None
    keys = np.zeros(len(column), dtype=np.int64)
    for row in digits[:-1]:
        keys = keys * 10 + row
    return np.where(fits, keys * 11 + last, -1)


def _repeats_by_sort(keys: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = np.flatnonzero(present)
    counted = keys[rows]
    repeated = np.zeros(len(keys), dtype=bool)
    first = np.full(len(keys), -1, dtype=np.int64)
    if not (np.diff(np.sort(counted)) == 0).any():
        return repeated, first  # the usual case, decided by one unstable sort
    order = np.argsort(counted, kind="stable")  # stable: within a key, rows stay in order
    same = counted[order][1:] == counted[order][:-1]
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    group_of = np.cumsum(np.concatenate(([True], ~same))) - 1
    first[rows[order]] = rows[order[starts]][group_of]
    repeated[rows[order[1:][same]]] = True
    return repeated, first


def _combined_codes(columns: list[pa.Array], present: np.ndarray) -> np.ndarray:
    codes = _codes(columns[0])
    for column in columns[1:]:
        more = _codes(column)
        pairs = codes * (int(more.max(initial=0)) + 1) + more
        # Rows left out must not share a code with a counted row, or first-seen order breaks.
        codes = _codes(pa.array(np.where(present, pairs, -1)))
    return codes


def _codes(column: pa.Array) -> np.ndarray:
    indices = pc.dictionary_encode(column).indices
    return indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _repeats_by_codes(codes: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Dictionary codes are handed out in order of first appearance, so a row is the first of
    # its value exactly when its code exceeds every code before it: one pass, no sort.
    rows = np.flatnonzero(present)
    seen = codes[rows]
    before = np.maximum.accumulate(np.concatenate(([-1], seen[:-1])))
    is_first = seen > before
    first_of_code = np.full(int(codes.max(initial=-1)) + 1, -1, dtype=np.int64)
    first_of_code[seen[is_first]] = rows[is_first]
    repeated = np.zeros(len(codes), dtype=bool)
    repeated[rows[~is_first]] = True
    first = np.full(len(codes), -1, dtype=np.int64)
    first[rows] = first_of_code[seen]
    return repeated, first
