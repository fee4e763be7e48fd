"""GB 11643 resident ID numbers and GB 32100 credit codes, checked a million at a time.

python-stdnum is the authority, but calling it once per value costs seconds per million rows.
So numpy classifies every value here, and stdnum is called only for the rows a finding is
shown for (`classify_ric`, `classify_uscc`); tests hold the two to agreement.

Where the gate deliberately differs from stdnum:
* values must already be in canonical form (no separators, upper-case letters): stdnum
  normalises them, but the hub stores what it receives. An ID number ending in a letter other
  than X is malformed (stdnum reports a wrong check digit);
* a region code counts as known if stdnum's table lists it for any period, or the current
  division list (exchange.core.divisions) does. stdnum also wants
  the code to be in force in the birth year, which flags most people born before their
  district got its current code (their number was assigned later, e.g. 330102 exists since
  1983) and would bury real problems under warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat

from exchange.core import divisions
from exchange.quality.rules import RIC_FORMAT, USCC_FORMAT, RuleName

RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int32)
RIC_CHECK_CHARS = np.frombuffer(b"10X98765432", dtype=np.uint8)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array(
    [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int32
)
_NOT_USCC = 255
_USCC_VALUE = np.full(256, _NOT_USCC, dtype=np.uint8)
_USCC_VALUE[np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)] = np.arange(31)
_USCC_CHARS = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)
_ZERO = ord("0")


def fixed_width(values: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The bytes of each value as a (width, n) uint8 matrix (row i = the i-th character of every
    value, contiguous, which makes column-wise arithmetic fast), and which values are exactly
    `width` bytes long and not null. Values of another length hold zeros."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.large_string())
    n = len(values)
    offset_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    _, offsets_buf, data_buf = values.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=offset_type)[values.offset : values.offset + n + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.empty(0, "u1")
    fits = np.diff(offsets) == width
    if values.null_count:
        fits &= values.is_valid().to_numpy(zero_copy_only=False)
    start = int(offsets[0]) if n else 0
    if bool(fits.all()) and int(offsets[-1]) - start == n * width:
        return np.ascontiguousarray(data[start : start + n * width].reshape(n, width).T), fits
    columns = np.zeros((width, n), dtype=np.uint8)
    rows = np.flatnonzero(fits)
    starts = offsets[rows].astype(np.int64)
    columns[:, rows] = data[starts + np.arange(width, dtype=np.int64)[:, None]]
    return columns, fits


def ric_check_chars(digits: np.ndarray) -> np.ndarray:
    """ISO 7064 MOD 11-2 check character (a byte) per value, from (>= 17, n) digit values."""
    total = np.zeros(digits.shape[1], dtype=np.int32)
    for i, weight in enumerate(RIC_WEIGHTS):
        total += digits[i] * weight
    return RIC_CHECK_CHARS[total % 11]


def uscc_check_chars(positions: np.ndarray) -> np.ndarray:
    """GB 32100 check character (a byte) per value, from (>= 17, n) alphabet positions."""
    total = np.zeros(positions.shape[1], dtype=np.int32)
    for i, weight in enumerate(USCC_WEIGHTS):
        total += positions[i] * weight
    return _USCC_CHARS[(31 - total % 31) % 31]


@dataclass(frozen=True)
class RicChecks:
    """Per-row verdicts over one column; every mask is False for null and empty values."""

    format_bad: np.ndarray  # includes a birth-date part that is no date
    checksum_bad: np.ndarray
    region_bad: np.ndarray
    shaped: np.ndarray  # 17 digits and a check character: the digits can be read
    birth_days: np.ndarray  # days since 1970-01-01 encoded in the number, where date_ok
    date_ok: np.ndarray
    odd_sequence: np.ndarray  # 17th digit odd: the number was assigned to a man


def check_ric(values: pa.Array) -> RicChecks:
    chars, fits = fixed_width(values, 18)
    digits = chars - np.uint8(_ZERO)  # wraps below "0", so one comparison tests for a digit
    last = chars[17]
    shaped = fits & (digits[:17].max(axis=0) <= 9) & ((digits[17] <= 9) | (last == ord("X")))
    digits[:, ~shaped] = 0  # keeps the arithmetic below in range on rows that are no number
    checksum_bad = shaped & (ric_check_chars(digits) != last)
    birth_days, date_ok = _dates(digits)
    date_ok &= shaped
    region_bad = shaped & ~checksum_bad & date_ok & ~known_regions()[_number(digits, 0, 6)]
    return RicChecks(
        format_bad=(_present(values) & ~shaped) | (shaped & ~checksum_bad & ~date_ok),
        checksum_bad=checksum_bad,
        region_bad=region_bad,
        shaped=shaped,
        birth_days=birth_days,
        date_ok=date_ok,
        odd_sequence=(digits[16] & 1).astype(bool),
    )


@dataclass(frozen=True)
class UsccChecks:
    format_bad: np.ndarray
    checksum_bad: np.ndarray


def check_uscc(values: pa.Array) -> UsccChecks:
    chars, fits = fixed_width(values, 18)
    positions = _USCC_VALUE[chars]
    shaped = fits & (positions[:8].max(axis=0) <= 9) & (positions.max(axis=0) != _NOT_USCC)
    positions[:, ~shaped] = 0
    return UsccChecks(
        format_bad=_present(values) & ~shaped,
        checksum_bad=shaped & (uscc_check_chars(positions) != chars[17]),
    )


def _present(values: pa.Array) -> np.ndarray:
    present = pc.greater(pc.binary_length(values), 0)
    return present.fill_null(False).to_numpy(zero_copy_only=False)


def _number(digits: np.ndarray, start: int, stop: int) -> np.ndarray:
    out = np.zeros(digits.shape[1], dtype=np.int32)
    for i in range(start, stop):
        out = out * 10 + digits[i]
    return out


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)


def _dates(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days since 1970-01-01 of the YYYYMMDD at positions 6..13, and whether it is a date."""
    year, month, day = _number(digits, 6, 10), _number(digits, 10, 12), _number(digits, 12, 14)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    last_day = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + (leap & (month == 2))
    ok = (year >= 1) & month_ok & (day >= 1) & (day <= last_day)
    # Howard Hinnant's days_from_civil: integer arithmetic, no datetime objects.
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468, ok


@cache
def known_regions() -> np.ndarray:
    """Lookup table over 000000..999999: True where stdnum or the division list knows the code."""
    table = np.zeros(1_000_000, dtype=bool)
    for _, low, high, _, counties in numdb.get("cn/loc").prefixes:
        for province in range(int(low), int(high) + 1):
            for _, c_low, c_high, props, _ in counties:
                if "county" in props:
                    table[province * 10_000 + int(c_low) : province * 10_000 + int(c_high) + 1] = 1
    # stdnum's table lags the Ministry's list (it has no 临平区 330113 or 钱塘区 330114, created
    # in 2021): a code in the current list is known too.
    table[[int(code[:6]) for code in divisions.table()]] = 1
    return table


def classify_ric(value: str) -> tuple[RuleName, str] | None:
    """The rule `value` fails, in stdnum's order (format, checksum, birth date, region), and a
    message that never repeats the number."""
    if not re.fullmatch(RIC_FORMAT, value):
        return RuleName.cn_ric_format, "not 17 digits and a digit or upper-case X (GB 11643)"
    try:
        ric.validate(value)
    except InvalidFormat as exc:  # InvalidLength is a subclass
        return RuleName.cn_ric_format, _sentence(exc.message, "GB 11643")
    except InvalidChecksum as exc:
        return RuleName.cn_ric_checksum, _sentence(exc.message, "GB 11643, ISO 7064 MOD 11-2")
    except (InvalidComponent, KeyError):  # KeyError: stdnum knows the province, not the county
        try:
            ric.get_birth_date(value)
        except InvalidComponent:
            return RuleName.cn_ric_format, "the birth date part is not a calendar date (GB 11643)"
        if not known_regions()[int(value[:6])]:
            return RuleName.cn_ric_region, f"region code {value[:6]} is not a known county code"
    return None


def classify_uscc(value: str) -> tuple[RuleName, str] | None:
    if not re.fullmatch(USCC_FORMAT, value):
        return RuleName.cn_uscc_format, "not 8 digits and 10 characters of the GB 32100 alphabet"
    try:
        uscc.validate(value)
    except InvalidFormat as exc:
        return RuleName.cn_uscc_format, _sentence(exc.message, "GB 32100")
    except InvalidChecksum as exc:
        return RuleName.cn_uscc_checksum, _sentence(exc.message, "GB 32100")
    return None


def _sentence(stdnum_message: str, standard: str) -> str:
    return f"{stdnum_message.rstrip('.')} ({standard})"
