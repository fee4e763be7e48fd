"""Calls across levels go up to the common ancestor and down again, one level a hop."""

from __future__ import annotations

from exchange.platforms.sharing.vertical.routing import next_hop, path

PROVINCE, HANGZHOU, NINGBO = "330000000000", "330100000000", "330200000000"
SHANGCHENG, XIHU, HAISHU = "330102000000", "330106000000", "330203000000"


def test_a_district_reaches_the_province_through_its_city() -> None:
    assert path(SHANGCHENG, PROVINCE) == [SHANGCHENG, HANGZHOU, PROVINCE]


def test_the_province_reaches_a_district_through_its_city() -> None:
    assert path(PROVINCE, XIHU) == [PROVINCE, HANGZHOU, XIHU]


def test_two_districts_of_one_city_meet_at_the_city() -> None:
    assert path(SHANGCHENG, XIHU) == [SHANGCHENG, HANGZHOU, XIHU]


def test_districts_of_two_cities_meet_at_the_province() -> None:
    assert path(SHANGCHENG, HAISHU) == [SHANGCHENG, HANGZHOU, PROVINCE, NINGBO, HAISHU]


def test_the_target_itself_has_no_next_hop() -> None:
    assert next_hop(PROVINCE, PROVINCE) is None
    assert next_hop(PROVINCE, "110000000000") is None  # another province: no nation level yet
