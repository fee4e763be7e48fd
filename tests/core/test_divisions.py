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


HANGZHOU_NOW = {
    "330102": "上城区",
    "330105": "拱墅区",
    "330106": "西湖区",
    "330108": "滨江区",
    "330109": "萧山区",
    "330110": "余杭区",
    "330111": "富阳区",
    "330112": "临安区",
    "330113": "临平区",
    "330114": "钱塘区",
    "330122": "桐庐县",
    "330127": "淳安县",
    "330182": "建德市",
}


def test_hangzhou_has_its_districts_since_the_2021_rezoning() -> None:
    children = {d.code: d.name for d in divisions.children_of(HANGZHOU)}
    assert children == {f"{code}000000": name for code, name in HANGZHOU_NOW.items()}
    for code in children:
        d = divisions.get(code)
        assert d is not None and d.parent_code == HANGZHOU and d.level == "district"
        assert d.longitude is not None and d.latitude is not None


@pytest.mark.parametrize("gone", ["330103000000", "330104000000", "330185000000"])
def test_abolished_divisions_are_unknown(gone: str) -> None:
    # 下城区 and 江干区 were merged away in 2021, 临安市 became 临安区 (330112) in 2017.
    assert divisions.get(gone) is None
    with pytest.raises(ValueError, match="not a known administrative division"):
        divisions.require(gone)


def test_the_table_is_the_current_national_list() -> None:
    # Changes after cpca's table: 2023 米林县 -> 米林市, 2024 和田's 和康县 and 和安县.
    assert divisions.name_of("540481000000") == "米林市"
    assert divisions.get("540422000000") is None
    assert divisions.name_of("653228000000") == "和康县"
    assert len(divisions.ethnic_groups()) == 56


def test_a_municipality_hangs_its_districts_on_a_placeholder() -> None:
    beijing = divisions.get("110105000000")
    assert beijing is not None and beijing.parent_code == "110100000000"
    assert divisions.get("110100000000") is not None
    assert "110100000000" not in {d.code for d in divisions.children_of("110000000000")}


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("浙江省杭州市西湖区文三路90号", "330106000000"),
        ("杭州市临平区南苑街道世纪大道1号", "330113000000"),
        ("浙江杭州钱塘区下沙街道", "330114000000"),
        ("北京市朝阳区建国路1号", "110105000000"),
        ("浙江省宁波市", "330200000000"),
        ("西湖区文三路", None),  # 杭州 and 南昌 both have one
        ("杭州市江干区凯旋路", "330100000000"),  # the district is gone; the city is still named
        ("火星", None),
    ],
)
def test_an_address_is_located_in_the_division_it_names(address: str, code: str | None) -> None:
    assert divisions.locate(address) == code
