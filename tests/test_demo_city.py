"""The demo city's resource specs: enough of a city's catalogue to look like one."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from exchange import demo_city
from exchange import seed as seeding
from exchange.catalogue import repository as catalogue_repo
from exchange.core import classification
from exchange.core.db import make_engine, session_scope
from exchange.core.resource_schema import SchemaFileError, load_schema
from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from exchange.core.store import PayloadStore
from exchange.demo import seed_demo_catalogue, seed_demo_city
from exchange.lifecycle import prepare_database
from exchange.testing.postgres import LocalPostgres

SPECS = demo_city.specs()
DEPARTMENTS = {d.code: d for d in demo_city.departments()}


def test_every_file_loads_with_the_schema_loader() -> None:
    files = sorted(p for p in demo_city.DEMO_DIR.glob("*.json") if p.name != "departments.json")
    assert [load_schema(p).code for p in files] == [s.code for s in SPECS]
    assert len(SPECS) >= 60


def test_they_come_from_at_least_twenty_real_departments() -> None:
    providers = {s.catalog.provider for s in SPECS}
    assert len(providers) >= 20 and providers <= set(DEPARTMENTS)
    for s in SPECS:
        assert s.catalog.provider_name == DEPARTMENTS[s.catalog.provider].name
    assert DEPARTMENTS["GA"].name == "杭州市公安局"
    assert DEPARTMENTS["ZRZY"].name == "杭州市规划和自然资源局"
    assert all(d.code.isupper() and d.name_en for d in DEPARTMENTS.values())


def test_share_and_open_classes_are_mixed_and_most_are_open() -> None:
    shares = Counter(s.catalog.share_class.value for s in SPECS)
    opens = Counter(s.catalog.open_class.value for s in SPECS)
    assert min(shares.values()) >= 3 and set(shares) == {"unconditional", "conditional", "none"}
    assert min(opens.values()) >= 3 and set(opens) == {"open", "restricted", "closed"}
    open_specs = [s for s in SPECS if s.catalog.open_class.value == "open"]
    assert len(open_specs) >= 40
    assert len({s.catalog.provider for s in open_specs}) >= 15


def test_classifications_are_codes_of_the_tree_across_its_three_classes() -> None:
    paths = [classification.path(s.catalog.classification) for s in SPECS]
    assert all(paths), [s.code for s, p in zip(SPECS, paths, strict=True) if not p]
    assert {p[0].code for p in paths} == {"1", "2", "3"}
    assert len({p[1].code for p in paths}) >= 20


def test_catalogue_entries_have_english_and_no_resource_code() -> None:
    for s in SPECS:
        assert s.catalog.title_en and s.catalog.abstract_en and s.catalog.identifier is None
        assert s.catalog.abstract_en.isascii() and len(s.catalog.abstract) >= 30


def test_personal_data_is_never_open() -> None:
    for s in SPECS:
        personal = [f.name for f in s.fields if f.sensitivity.is_personal]
        if personal:
            assert s.catalog.open_class.value == "closed", (s.code, personal)


def test_a_spec_that_references_an_unknown_field_is_refused(tmp_path: Path) -> None:
    source = json.loads((demo_city.DEMO_DIR / "tj_cpi.json").read_text("utf-8"))
    source["fields"][1]["references"] = "nowhere.code"
    (tmp_path / "tj_cpi.json").write_text(json.dumps(source, ensure_ascii=False), "utf-8")
    with pytest.raises(SchemaFileError, match=r"references unknown field 'nowhere\.code'"):
        demo_city._specs(tmp_path)


def test_hub_demo_catalogues_every_spec_and_loads_its_rows(
    pg_server: LocalPostgres, settings: Settings
) -> None:
    """What `hub demo` does: the registries are loaded, then every demo spec is catalogued
    through the live catalogue's workflow (published, its code issued by the node, every step
    logged) and its synthetic rows are accepted by the gate with no finding."""
    engine = make_engine(pg_server.create_database("hub_demo_city"))
    try:
        rt = Runtime(
            settings=settings,
            engine=engine,
            sessions=sessionmaker(engine, expire_on_commit=False),
            store=PayloadStore(settings.resolved_store_url),
        )
        prepare_database(engine, rt.schemas)
        with session_scope(rt.sessions) as session:
            seed_demo_city(session, settings, rt.schemas)
        seeding.load_divisions(rt)
        assert all(r["status"] == "accepted" for r in seeding.seed(rt, 1))
        done = seed_demo_catalogue(rt, 40)
        assert done == {
            "catalogued": len(SPECS),
            "published": len(SPECS),
            "accepted": len(SPECS),
            "findings": 0,
        }
        with session_scope(rt.sessions) as session:
            for spec in SPECS:
                entry = catalogue_repo.get(session, spec.code)
                assert entry is not None and entry.status == "published", spec.code
                assert entry.identifier.startswith(f"330100/{spec.catalog.provider}/")
        again = seed_demo_catalogue(rt, 40)  # idempotent: nothing published or written twice
        assert again["published"] == 0 and again["catalogued"] == len(SPECS)
    finally:
        engine.dispose()
