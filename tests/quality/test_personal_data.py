"""The one personal-data detector: its rules in Python, and the same verdicts from its SQL form."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from stdnum.cn import ric, uscc

from basebases import synthetic
from exchange.quality import personal_data as pd
from exchange.quality import sql_checks as sqlc
from exchange.quality.personal_data import Kind

RIC = "33010619900101123X"  # check character right, born 1990-01-01, region 330106


def _ric(body: str) -> str:
    """`body` (17 digits) completed with its right GB 11643 check character."""
    return body + ric.calc_check_digit(body + "0")


def _uscc(body: str) -> str:
    return body + uscc.calc_check_digit(body)


def _wrong(code: str, right: str) -> str:
    return code[:-1] + ("1" if right != "1" else "2")


INDIVIDUAL = _uscc("92330106MA2GL7YP1")


# text -> the kinds the detector must find in it (and nothing else)
CASES: dict[str, set[Kind]] = {
    f"身份证{RIC}": {Kind.resident_id},
    f"联系人张三 {RIC}。": {Kind.name_with_id, Kind.resident_id},
    f"张三：{RIC.lower()}": {Kind.name_with_id, Kind.resident_id},  # a lower-case x
    _wrong(RIC, RIC[-1]): set(),  # wrong check character
    _ric("33010619900230123"): set(),  # 30 February: the check character fits, the date not
    _ric("33010618991231123"): set(),  # born before 1900
    _ric("99010619900101123"): set(),  # no province 99
    f"A{RIC}": set(),  # part of a longer code
    f"{RIC}1": set(),
    "手机 13912345678）": {Kind.mobile},
    "电话 12912345678": set(),  # no mobile prefix
    "139123456789": set(),  # 12 digits
    "经营者 " + INDIVIDUAL: {Kind.individual_business},
    _wrong(INDIVIDUAL, INDIVIDUAL[-1]): set(),  # wrong check character
    "91330106MA2GL7YP1X": set(),  # a company's code (91): published on purpose
    "来信 zhang.san@example.com.cn 反映": {Kind.email},
    "杭州市西湖区文三路 90 号": set(),
    # as people type them: spaced, dashed, full-width
    f"身份证 {RIC[:6]} {RIC[6:14]} {RIC[14:]}": {Kind.resident_id},
    f"身份证号{RIC[:6]}-{RIC[6:14]}-{RIC[14:]}": {Kind.resident_id},
    "身份证" + RIC.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")): {
        Kind.resident_id
    },
    f"张三 {RIC[:6]} {RIC[6:]}": {Kind.name_with_id, Kind.resident_id},
    "老身份证 330106900101123": {Kind.resident_id_15},  # 15 digits, born 1990-01-01
    "330106901301123": set(),  # month 13
    "990106900101123": set(),  # no province 99
    "手机 +86 138-1234-5678": {Kind.mobile},
    "8613812345678": {Kind.mobile},
    "联系电话：１３８ １２３４ ５６７８": {Kind.mobile},
    "0571-8888 1234": set(),  # a landline
    # codes that are no personal data, alone and next to numbers
    "330106000000": set(),
    "区划 330106000000 123": set(),
    "统计期 2024-01-02": set(),
    "91330106MA2GL7YP1X 1": set(),
}


def _all_digit_company_code() -> str:
    """A business's credit code of digits only whose check character also fits GB 11643."""
    for n in range(10_000):
        code = _uscc(f"91330106{n:09d}")
        if code[-1].isdigit() and ric.calc_check_digit(code) == code[-1]:
            return code
    raise AssertionError("none found")


@pytest.mark.parametrize("value", list(CASES))
def test_the_detector_finds_exactly_the_personal_data_in_a_text(value: str) -> None:
    assert set(pd.first_of_each(value)) == CASES[value]


def test_an_all_digit_company_code_is_no_id_number() -> None:
    code = _all_digit_company_code()
    assert pd.is_credit_code(code) and not pd.is_resident_id(code)


def test_an_id_number_that_happens_to_be_a_valid_credit_code_is_still_one() -> None:
    ids = synthetic.people(300, seed=3).column("id_number").to_pylist()
    both = [i for i in ids if pd.is_credit_code(i)]
    assert both and all(pd.is_resident_id(i) for i in both)


def test_synthetic_residents_are_all_recognised() -> None:
    ids = synthetic.people(200, seed=3).column("id_number").to_pylist()
    assert all(pd.is_resident_id(i) for i in ids)


def test_masks_keep_no_more_than_the_region_and_the_last_four() -> None:
    named = dict(pd.find(f"联系人张三 {RIC}"))[Kind.name_with_id]
    masked = pd.mask(Kind.name_with_id, named)
    assert masked == named[0] + "* 330106********123X" and "张三" not in masked
    assert pd.mask(Kind.resident_id, RIC) == "330106********123X"
    assert pd.mask(Kind.mobile, "13912345678") == "139****5678"
    assert pd.mask(Kind.email, "zhang.san@example.com") == "z***@example.com"
    assert pd.redact(f"我的手机13912345678，身份证{RIC}") == (
        "我的手机139****5678，身份证330106********123X"
    )


def test_the_sql_form_reaches_the_same_verdicts(pg_engine: Engine) -> None:
    texts = [*CASES, _all_digit_company_code(), "张三 " + _all_digit_company_code()]
    texts += [f"住户 {i}" for i in synthetic.people(50, seed=5).column("id_number").to_pylist()]
    scan = pd.SqlScan("value", 0)
    verdicts = ", ".join(f"{scan.found(k)} AS {k.value}" for k in Kind)
    rows = ", ".join(f"({i}, {sqlc.literal(t)})" for i, t in enumerate(texts))
    sql = (
        f"SELECT i, {verdicts} FROM (SELECT i, {', '.join(scan.extract())} "
        f"FROM (VALUES {rows}) AS t(i, value)) s ORDER BY i"
    )
    with pg_engine.connect() as conn:
        in_sql = {
            texts[r[0]]: {k for k, hit in zip(Kind, r[1:], strict=True) if hit}
            for r in conn.execute(text(sql))
        }
    in_python = {t: set(pd.first_of_each(t)) for t in texts}
    assert in_sql == in_python
