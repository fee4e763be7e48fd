"""The vectorised ID-number and credit-code checks against python-stdnum, value by value."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pytest
from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat

from exchange.core import divisions
from exchange.quality.identifiers import (
    USCC_ALPHABET,
    check_ric,
    check_uscc,
    classify_ric,
    classify_uscc,
    fixed_width,
)
from exchange.quality.rules import RuleName

SEED = 20_241_121


def _stdnum_ric(value: str) -> RuleName | None:
    """stdnum's verdict in our rule names, with the two documented departures: a check
    character other than 0-9 or X is malformed (stdnum calls it a wrong checksum), and a region
    code stdnum lists for some period is known, whatever the birth year."""
    if len(value) == 18 and value[:17].isdigit() and value[17] not in "0123456789X":
        return RuleName.cn_ric_format
    try:
        ric.validate(value)
    except InvalidFormat:
        return RuleName.cn_ric_format
    except InvalidChecksum:
        return RuleName.cn_ric_checksum
    except (InvalidComponent, KeyError):
        try:
            ric.get_birth_date(value)
        except InvalidComponent:
            return RuleName.cn_ric_format
        parts = numdb.get("cn/loc").info(value[:6])
        if any("county" in props for _, props in parts):
            return None
        return RuleName.cn_ric_region
    return None


def _valid_ric(rng: random.Random, regions: list[str]) -> str:
    born = date(1900, 1, 1) + timedelta(days=rng.randrange(44_000))
    body = f"{rng.choice(regions)}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def _corrupt(rng: random.Random, value: str, alphabet: str) -> str:
    chars = list(value)
    i = rng.randrange(len(chars))
    match rng.randrange(6):
        case 0:  # one mistyped character
            chars[i] = rng.choice(alphabet)
        case 1:  # two neighbours swapped
            j = min(i + 1, len(chars) - 1)
            chars[i], chars[j] = chars[j], chars[i]
        case 2:  # a character lost
            del chars[i]
        case 3:  # a character too many
            chars.insert(i, rng.choice(alphabet))
        case 4:  # a letter where only digits belong
            chars[i] = rng.choice("ABOIZ")
        case _:  # another check character
            chars[-1] = rng.choice(alphabet)
    return "".join(chars)


def _ric_samples() -> list[str]:
    rng = random.Random(SEED)
    regions = sorted({code[:6] for code in divisions.table()})
    regions += [f"{rng.randrange(1_000_000):06d}" for _ in range(200)]  # mostly unknown
    values = [_valid_ric(rng, regions) for _ in range(2_500)]
    values += [_corrupt(rng, v, "0123456789X") for v in values[:2_500]]
    for v in values[:300]:  # dates that do not exist
        values.append(v[:10] + rng.choice(["13", "00", "02"]) + rng.choice(["30", "32"]) + v[14:])
    return values


def _verdicts_ric(values: list[str]) -> list[RuleName | None]:
    checks = check_ric(pa.array(values))
    out: list[RuleName | None] = []
    for i in range(len(values)):
        if checks.format_bad[i]:
            out.append(RuleName.cn_ric_format)
        elif checks.checksum_bad[i]:
            out.append(RuleName.cn_ric_checksum)
        elif checks.region_bad[i]:
            out.append(RuleName.cn_ric_region)
        else:
            out.append(None)
        assert checks.format_bad[i] + checks.checksum_bad[i] + checks.region_bad[i] <= 1
    return out


def test_vectorised_ric_checks_agree_with_stdnum_on_random_valid_and_corrupted_numbers() -> None:
    values = _ric_samples()
    expected = [_stdnum_ric(v) for v in values]
    got = _verdicts_ric(values)
    disagreements = [(v, e, g) for v, e, g in zip(values, expected, got, strict=True) if e != g]
    assert disagreements == []
    # Every class is well represented, so agreement is not agreement on one easy case.
    tally = Counter(expected)
    classes = {None, RuleName.cn_ric_format, RuleName.cn_ric_checksum, RuleName.cn_ric_region}
    assert set(tally) == classes and min(tally.values()) >= 100, tally


def test_the_per_value_classification_agrees_with_stdnum_too() -> None:
    values = _ric_samples()[::5]
    for value in values:
        verdict = classify_ric(value)
        assert (verdict[0] if verdict else None) == _stdnum_ric(value), value


def test_a_region_code_introduced_after_the_birth_year_is_not_flagged() -> None:
    # 330109 萧山区 dates from 2001; people born there earlier kept their numbers.
    body = "33010919600101001"
    value = body + ric.calc_check_digit(body + "0")
    assert not ric.is_valid(value)  # stdnum alone would warn about this person
    assert classify_ric(value) is None
    assert not check_ric(pa.array([value])).region_bad[0]


def test_a_current_county_stdnum_cannot_place_is_known_not_a_crash() -> None:
    # 330113 临平区 (2021) is listed by stdnum without a period (it raises KeyError for it); the
    # Ministry's current list knows it, so a 临平 number is valid.
    body = "33011320220101001"
    value = body + ric.calc_check_digit(body + "0")
    assert classify_ric(value) is None
    assert not check_ric(pa.array([value])).region_bad[0]


def test_a_region_code_nobody_knows_is_a_region_finding() -> None:
    body = "33019920220101001"
    value = body + ric.calc_check_digit(body + "0")
    rule, message = classify_ric(value) or (None, "")
    assert rule is RuleName.cn_ric_region and "330199" in message
    assert check_ric(pa.array([value])).region_bad[0]


def test_a_lower_case_x_is_a_format_finding_although_stdnum_would_normalise_it() -> None:
    value = "11010519491231002X"
    assert ric.is_valid(value.lower())
    checks = check_ric(pa.array([value, value.lower()]))
    assert checks.format_bad.tolist() == [False, True]
    assert classify_ric(value.lower())[0] is RuleName.cn_ric_format  # type: ignore[index]


def _valid_uscc(rng: random.Random) -> str:
    body = "".join(rng.choice("0123456789") for _ in range(8))
    body += "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def _stdnum_uscc(value: str) -> RuleName | None:
    try:
        uscc.validate(value)
    except InvalidFormat:
        return RuleName.cn_uscc_format
    except InvalidChecksum:
        return RuleName.cn_uscc_checksum
    return None


def test_vectorised_uscc_checks_agree_with_stdnum_on_random_valid_and_corrupted_codes() -> None:
    rng = random.Random(SEED)
    values = [_valid_uscc(rng) for _ in range(2_500)]
    values += [_corrupt(rng, v, USCC_ALPHABET) for v in values]
    checks = check_uscc(pa.array(values))
    got = [
        RuleName.cn_uscc_format if f else RuleName.cn_uscc_checksum if c else None
        for f, c in zip(checks.format_bad, checks.checksum_bad, strict=True)
    ]
    expected = [_stdnum_uscc(v) for v in values]
    assert [(v, e, g) for v, e, g in zip(values, expected, got, strict=True) if e != g] == []
    assert [(classify_uscc(v) or (None,))[0] for v in values[::5]] == expected[::5]
    assert min(Counter(expected).values()) >= 300


def test_nulls_and_empty_values_are_no_identifier_finding() -> None:
    checks = check_ric(pa.array([None, "", "11010519491231002X"]))
    assert not checks.format_bad.any() and not checks.checksum_bad.any()
    assert not check_uscc(pa.array([None, ""])).format_bad.any()


@pytest.mark.parametrize("string_type", [pa.string(), pa.large_string()])
def test_fixed_width_reads_a_sliced_array_with_nulls_and_odd_lengths(
    string_type: pa.DataType,
) -> None:
    values = pa.array(["skip", "abc", None, "de", "fgh", "ijkl"], string_type).slice(1)
    chars, fits = fixed_width(values, 3)
    assert fits.tolist() == [True, False, False, True, False]
    assert bytes(chars[:, 0]) == b"abc" and bytes(chars[:, 3]) == b"fgh"
    assert not chars[:, 1].any() and not chars[:, 4].any()
    contiguous, _ = fixed_width(pa.array(["abc", "fgh"], string_type), 3)
    assert np.array_equal(contiguous, np.array([list(b"af"), list(b"bg"), list(b"ch")]))
