"""Check characters of national identifiers, computed on whole numpy arrays at once.

Each function takes an (n, k) uint8 array of ASCII codes (the body) and returns the (n,) ASCII
codes of the check character, so callers can assemble a million codes without Python loops.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from stdnum.cn import ric

# GB 11643: weight of position i is 2**(17 - i) mod 11; the remainder indexes this string.
_RIC_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
_RIC_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)

# GB 32100: 31 characters (no I, O, Z, S, V) and weights 3**i mod 31.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
_USCC_INDEX = np.full(128, -1, dtype=np.int64)
_USCC_INDEX[np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)] = np.arange(31)
_USCC_CHARS = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)

# GB 11714 organisation code: digits count as themselves, letters as A=10 ... Z=35.
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ORG_VALUE = np.full(128, -1, dtype=np.int64)
_ORG_VALUE[48:58] = np.arange(10)
_ORG_VALUE[65:91] = np.arange(10, 36)
_ORG_CHECK = np.frombuffer(b"0123456789X0", dtype=np.uint8)


def ric_check(body: np.ndarray) -> np.ndarray:
    """ISO 7064 MOD 11-2 over the 17 digits of a resident identity number."""
    values = body.astype(np.int64) - ord("0")
    return _RIC_CHECK[(values @ _RIC_WEIGHTS) % 11]


def uscc_check(body: np.ndarray) -> np.ndarray:
    """The 18th character of a unified social credit code over its first 17."""
    values = _USCC_INDEX[body]
    if (values < 0).any():
        raise ValueError("a credit code body has a character outside the GB 32100 alphabet")
    return _USCC_CHARS[(31 - (values @ _USCC_WEIGHTS) % 31) % 31]


def org_check(body: np.ndarray) -> np.ndarray:
    """The 9th character of an organisation code (GB 11714) over its first 8."""
    values = _ORG_VALUE[body]
    if (values < 0).any():
        raise ValueError("an organisation code body has a character that is not 0-9 or A-Z")
    return _ORG_CHECK[11 - (values @ _ORG_WEIGHTS) % 11]


@cache
def ric_accepted_years(region: str, first: int, last: int) -> np.ndarray:
    """Boolean per year in first..last: does `stdnum.cn.ric` accept `region` for people born then?

    stdnum knows when each county code was in use (上城区 330102 since 1983, 滨江区 330108 since
    1996, ...) and rejects numbers whose region code did not exist in their birth year. Asking
    stdnum itself keeps the generator and the validators the hub runs in agreement.
    """
    accepted = np.zeros(last - first + 1, dtype=bool)
    for i, year in enumerate(range(first, last + 1)):
        body = f"{region}{year}0101001"
        try:
            accepted[i] = ric.is_valid(body + ric.calc_check_digit(body + "0"))
        except KeyError:
            # stdnum lists the code without a period (临平区 330113, new in 2021): it cannot say,
            # so the generator gives such people an older district's code, as most have.
            break
    return accepted
