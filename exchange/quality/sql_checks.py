"""The rules that no stock expectation expresses, as SQL boolean expressions over a stored row.

Each function returns the condition a *valid* value meets, written against unqualified column
names (the expectation runs it over its own subquery of `ds_<code>`). Nulls are left to the
`required` rule: the expectation engine never passes a null value to these conditions.

They agree with the gate's numpy versions (`identifiers.py`, `evaluators.py`) rule by rule, so
a value quarantined at intake is also a failure when found in a table at night.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import numpy as np

from exchange.quality.identifiers import RIC_WEIGHTS, USCC_ALPHABET, USCC_WEIGHTS, known_regions
from exchange.quality.rules import RIC_FORMAT, USCC_FORMAT


def q(name: str) -> str:
    """A quoted identifier; schema field names are validated lower_snake_case already."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def in_list(values: Iterable[object]) -> str:
    return "(" + ", ".join(literal(v) for v in values) + ")"


def matches(column: str, pattern: str) -> str:
    # PostgreSQL's ~ is an unanchored search, like the gate's own anchoring of the pattern.
    return f"({q(column)} ~ {literal(pattern)})"


def ric_check_char(column: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits (GB 11643)."""
    col = q(column)
    # ascii() of a digit minus 48 is the digit; the 48s are subtracted once, as a constant.
    terms = " + ".join(f"{w} * ascii(substr({col}, {i + 1}, 1))" for i, w in enumerate(RIC_WEIGHTS))
    return f"substr('10X98765432', (({terms}) - {48 * int(RIC_WEIGHTS.sum())}) % 11 + 1, 1)"


# PostgreSQL evaluates OR from the left and stops at the first true term, so each condition
# below puts the test a valid row passes first: the format regex (the dearest term, ~1.5 s
# per million values) then runs only for the rare rows that fail the cheap test.


def ric_checksum_ok(column: str) -> str:
    """Right check character, or not a well-formed number (then `cn_ric.format` reports it)."""
    col = q(column)
    return f"({ric_check_char(column)} = substr({col}, 18, 1) OR NOT {matches(column, RIC_FORMAT)})"


@cache
def known_region_codes() -> tuple[str, ...]:
    return tuple(f"{code:06d}" for code in np.flatnonzero(known_regions()))


def ric_region_ok(column: str) -> str:
    """A county code stdnum knows; numbers failing format or checksum are judged by those rules.

    PostgreSQL (14+) hashes a long constant IN list, so the ~4,000 codes cost one probe a row."""
    col = q(column)
    return (
        f"(substr({col}, 1, 6) IN {in_list(known_region_codes())}"
        f" OR NOT {matches(column, RIC_FORMAT)}"
        f" OR {ric_check_char(column)} <> substr({col}, 18, 1))"
    )


def uscc_check_char(column: str) -> str:
    """GB 32100 check character: alphabet[(31 - weighted sum mod 31) mod 31]."""
    col, alphabet = q(column), literal(USCC_ALPHABET)
    terms = " + ".join(
        f"{w} * (strpos({alphabet}, substr({col}, {i + 1}, 1)) - 1)"
        for i, w in enumerate(USCC_WEIGHTS)
    )
    return f"substr({alphabet}, (31 - ({terms}) % 31) % 31 + 1, 1)"


def uscc_checksum_ok(column: str) -> str:
    col = q(column)
    return (
        f"({uscc_check_char(column)} = substr({col}, 18, 1) OR NOT {matches(column, USCC_FORMAT)})"
    )


def ric_birth_date_ok(column: str, id_field: str) -> str:
    """The birth date equals the YYYYMMDD encoded in the row's ID number (when it has one)."""
    idc = q(id_field)
    return (
        f"(to_char({q(column)}, 'YYYYMMDD') = substr({idc}, 7, 8)"
        f" OR {idc} IS NULL OR NOT {matches(id_field, RIC_FORMAT)})"
    )


def ric_gender_ok(column: str, id_field: str) -> str:
    """No contradiction: men (1) have an odd 17th digit, women (2) an even one."""
    idc, g = q(id_field), q(column)
    odd = f"(ascii(substr({idc}, 17, 1)) % 2 = 1)"
    return (
        f"(NOT (({g} = '1' AND NOT {odd}) OR ({g} = '2' AND {odd}))"
        f" OR {idc} IS NULL OR NOT {matches(id_field, RIC_FORMAT)})"
    )


def ric_gender_stated(column: str, id_field: str, unstated: Iterable[str]) -> str:
    """The warning half of `ric_gender`: a code that cannot be compared with the ID number."""
    idc = q(id_field)
    return (
        f"({q(column)} NOT IN {in_list(unstated)}"
        f" OR {idc} IS NULL OR NOT {matches(id_field, RIC_FORMAT)})"
    )


def reference_missing_query(
    key_columns: Iterable[str],
    column: str,
    target_table: str,
    target_column: str,
    when: tuple[str, str] | None,
) -> str:
    """Rows of `{batch}` whose value has no live match in the target: an anti-join."""
    keys = ", ".join(f"b.{q(k)}" for k in key_columns)
    condition = f" AND b.{q(when[0])} = {literal(when[1])}" if when else ""
    return (
        f"SELECT {keys} FROM (SELECT * FROM {{batch}}) b"
        f" WHERE b._deleted = false AND b.{q(column)} IS NOT NULL"
        f"{condition} AND NOT EXISTS (SELECT 1 FROM {q(target_table)} t"
        f" WHERE t.{q(target_column)} = b.{q(column)} AND t._deleted = false)"
    )
