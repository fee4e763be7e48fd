import pytest
from sqlalchemy.orm import Session

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
    assert counts["districts"] == len(districts) >= 10
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
    assert again == {"districts": 0, "resources": 0}
    assert before == after
