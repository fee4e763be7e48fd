import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from exchange.platforms.open_data.errors import BadParameter
from exchange.platforms.open_data.portal import repository, service
from tests.platforms.open_data.builders import SCHEMAS, make_dataset, seeded

pytestmark = pytest.mark.both_backends


def codes(session: Session, q: str, **filters: list[str]) -> list[str]:
    result = service.search(session, SCHEMAS, q=q, filters=filters, limit=50)
    return [c.resource.code for c in result.cards]


def test_chinese_words_find_the_right_datasets(db: Session, settings: Settings) -> None:
    seeded(db, settings)
    assert codes(db, "经济") == ["macro_indicator"]
    assert codes(db, "企业") == ["legal_person"]
    # 常住人口 in the indicators' abstract; 人口 in the divisions' description. The population
    # registry itself is closed (禁止开放) and must not be found.
    found = codes(db, "人口")
    assert set(found) == {"macro_indicator", "geo_division"}
    assert "population" not in found


def test_unrelated_words_find_nothing(db: Session, settings: Settings) -> None:
    seeded(db, settings)
    for word in ("天气", "医保", "交通违章", "xyzzy"):
        assert codes(db, word) == [], word


def test_words_are_segmented_not_matched_as_substrings(db: Session, settings: Settings) -> None:
    seeded(db, settings)
    make_dataset(db, settings, "oral_history", title="工人口述历史档案", tags=["档案"])
    # "工人口述" contains the characters 人口 but not the word: a substring match would find it.
    assert "oral_history" not in codes(db, "人口")
    assert codes(db, "口述") == ["oral_history"]
    assert codes(db, "工人") == ["oral_history"]


def test_title_hits_rank_above_abstract_hits(db: Session, settings: Settings) -> None:
    seeded(db, settings)
    make_dataset(db, settings, "population_stats", title="人口统计年鉴", tags=["人口"])
    assert codes(db, "人口")[0] == "population_stats"


def test_every_word_of_a_query_must_match(db: Session, settings: Settings) -> None:
    seeded(db, settings)
    assert codes(db, "企业 地址") == []
    assert codes(db, "经济 指标") == ["macro_indicator"]
    assert codes(db, "人口数据") == codes(db, "人口")  # 数据 alone is too general to exclude


def test_closed_datasets_are_nowhere_not_even_in_facet_counts(
    db: Session, settings: Settings
) -> None:
    seeded(db, settings)
    make_dataset(db, settings, "secret_roster", title="人员名册", topic="机密", open_class="closed")
    result = service.search(db, SCHEMAS, limit=100)
    listed = {c.resource.code for c in result.cards}
    assert "secret_roster" not in listed and "population" not in listed
    assert "material" not in listed
    assert result.total == len(listed) == 5  # 4 open + credit_record (restricted)
    facet_values = {(f.facet, f.value) for fs in result.facets.values() for f in fs}
    assert ("topic", "机密") not in facet_values
    assert ("topic", "人口") not in facet_values  # only the closed registry has it
    assert ("open_class", "closed") not in facet_values
    assert codes(db, "名册") == []


def test_facet_counts_follow_the_query_and_filters(db: Session, settings: Settings) -> None:
    seeded(db, settings)
    result = service.search(db, SCHEMAS, limit=100)
    counts = {(f.facet, f.value): f.count for fs in result.facets.values() for f in fs}
    assert counts[("open_class", "open")] == 4
    assert counts[("open_class", "restricted")] == 1
    assert counts[("provider", "ZRZY")] == 2
    assert counts[("format", "geojson")] == 2
    assert counts[("format", "csv")] == 4
    assert counts[("update_cycle", "monthly")] == 2
    narrowed = service.search(db, SCHEMAS, filters={"provider": ["ZRZY"]}, limit=100)
    assert {c.resource.code for c in narrowed.cards} == {"geo_address", "geo_division"}
    inner = {(f.facet, f.value): f.count for fs in narrowed.facets.values() for f in fs}
    assert inner[("update_cycle", "monthly")] == 1 and ("provider", "TJ") not in inner
    geo = service.search(db, SCHEMAS, filters={"format": ["GeoJSON"], "tag": ["区划"]})
    assert [c.resource.code for c in geo.cards] == ["geo_division"]


def test_bad_search_input_names_the_parameter(db: Session, settings: Settings) -> None:
    seeded(db, settings)
    with pytest.raises(BadParameter, match="colour"):
        service.search(db, SCHEMAS, filters={"colour": ["red"]})
    with pytest.raises(BadParameter, match="sort"):
        service.search(db, SCHEMAS, sort="random")
    with pytest.raises(BadParameter, match="q"):
        service.search(db, SCHEMAS, q="人" * 201)


def test_the_index_follows_catalogue_changes(db: Session, settings: Settings) -> None:
    seeded(db, settings)
    entry = make_dataset(db, settings, "bus_lines", title="公交线路", tags=["交通"])
    assert codes(db, "交通") == ["bus_lines"]
    entry.open_class = "closed"
    entry.schema_sha256 = "0" * 64
    db.flush()
    service.refresh_catalog(db, SCHEMAS)
    assert codes(db, "交通") == []


def test_all_facet_counts_come_from_one_query(db: Session, settings: Settings) -> None:
    seeded(db, settings)
    query = service.build_query(db, "地理", {"format": ["geojson"]})
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    bind = db.connection()
    event.listen(bind, "before_cursor_execute", count)
    try:
        counts = repository.facet_counts(db, query)
    finally:
        event.remove(bind, "before_cursor_execute", count)
    assert len(statements) == 1
    assert {c.facet for c in counts} == {
        "provider",
        "topic",
        "format",
        "update_cycle",
        "open_class",
        "tag",
    }


def test_pinyin_initials_and_single_characters(db: Session, settings: Settings) -> None:
    seeded(db, settings)
    make_dataset(db, settings, "bus_stops", title="公交站点分布", tags=["交通"])
    assert codes(db, "gongjiao") == ["bus_stops"]
    assert codes(db, "gj") == ["bus_stops"]
    assert codes(db, "jiaotong") == ["bus_stops"]  # a tag's pinyin
    assert "bus_stops" in codes(db, "站")  # one character
    assert "bus_stops" not in codes(db, "qiye")
    assert codes(db, "qiye") == codes(db, "企业")


def test_synonyms_lead_from_what_citizens_type(db: Session, settings: Settings) -> None:
    seeded(db, settings)
    assert codes(db, "营业执照") == codes(db, "法人") != []


def test_a_district_finds_the_datasets_covering_it(db: Session, settings: Settings) -> None:
    seeded(db, settings)
    # a city node's datasets cover its districts; a district unknown to the city finds nothing
    assert set(codes(db, "西湖区")) == set(codes(db, "杭州市")) != set()
    assert codes(db, "朝阳区") == []
