import pytest
from sqlalchemy.orm import Session

from exchange import demo_city
from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.core.settings import Settings
from exchange.demo import seed_demo_city
from exchange.directory import repository as repo

pytestmark = pytest.mark.both_backends


def test_the_demo_city_is_hangzhou_with_its_real_districts(db: Session, settings: Settings) -> None:
    counts = seed_demo_city(db, settings, load_all(SCHEMAS_DIR))
    me = repo.get_self_node(db)
    assert me is not None and (me.code, me.name, me.level) == ("330100000000", "杭州市", "city")
    districts = {n.code: n.name for n in repo.list_nodes(db) if n.parent_code == me.code}
    assert districts["330106000000"] == "西湖区"
    assert districts["330102000000"] == "上城区"
    assert districts["330113000000"] == "临平区" and districts["330114000000"] == "钱塘区"
    assert "330103000000" not in districts and "330104000000" not in districts  # gone in 2021
    assert counts["districts"] == len(districts) == 13
    assert all(code.startswith("3301") and len(code) == 12 for code in districts)


def test_the_catalogue_has_one_entry_per_schema_with_its_provider(
    db: Session, settings: Settings
) -> None:
    schemas = load_all(SCHEMAS_DIR)
    seed_demo_city(db, settings, schemas)
    resources = {r.code: r for r in repo.list_resources(db)}
    assert set(resources) == set(schemas)
    population = resources["population"]
    provider = repo.get_department_by_id(db, population.provider_id)
    assert provider is not None and provider.name == "杭州市公安局" and provider.code == "GA"
    assert population.share_class == "conditional" and population.open_class == "closed"


def test_seeding_twice_changes_nothing(db: Session, settings: Settings) -> None:
    schemas = load_all(SCHEMAS_DIR)
    seed_demo_city(db, settings, schemas)
    before = (
        len(repo.list_nodes(db)),
        len(repo.list_departments(db)),
        len(repo.list_resources(db)),
    )
    again = seed_demo_city(db, settings, schemas)
    after = (len(repo.list_nodes(db)), len(repo.list_departments(db)), len(repo.list_resources(db)))
    assert again == {"districts": 0, "departments": 0, "resources": 0}
    assert before == after


def test_the_city_s_departments_are_in_the_directory_by_their_real_names(
    db: Session, settings: Settings
) -> None:
    counts = seed_demo_city(db, settings, load_all(SCHEMAS_DIR))
    listed = {d.code: d for d in repo.list_departments(db) if d.node_code == settings.node_code}
    assert counts["departments"] == len(demo_city.departments()) >= 20
    assert listed["SWJ"].name == "国家税务总局杭州市税务局"  # not 杭州市 + a suffix
    assert listed["WJW"].name == "杭州市卫生健康委员会"
    assert listed["WJW"].parent_org == "杭州市人民政府"
    # The built-in resources' providers are the same departments, not look-alikes.
    resources = {r.code: r for r in repo.list_resources(db)}
    provider = repo.get_department_by_id(db, resources["geo_division"].provider_id)
    assert provider is not None and provider.name == "杭州市规划和自然资源局"
