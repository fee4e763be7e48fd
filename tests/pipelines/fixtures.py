"""Two seeded cities on the test server, one clean, one with every planted problem.

A plugin (registered in tests/conftest.py) so the pipeline and the DAG tests share them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from exchange.core.runtime import Runtime
from exchange.testing.postgres import LocalPostgres
from tests.pipelines.city import Planted, plant_problems, seeded_city


@pytest.fixture(scope="session")
def clean_city(
    pg_server: LocalPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runtime]:
    rt, _ = seeded_city(pg_server, "assurance_clean", tmp_path_factory.mktemp("clean"))
    yield rt
    rt.close()


@pytest.fixture(scope="session")
def planted_city(
    pg_server: LocalPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Runtime, Planted]]:
    rt, traffic = seeded_city(pg_server, "assurance_planted", tmp_path_factory.mktemp("planted"))
    yield rt, plant_problems(rt, traffic)
    rt.close()
