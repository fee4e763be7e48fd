"""`hub check`: the same checks from the command line, exit code 1 on critical findings."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from exchange.cli import app
from exchange.core.runtime import Runtime
from tests.pipelines.city import Planted


def _env(rt: Runtime) -> dict[str, str]:
    s = rt.settings
    return {
        "HUB_ENV": "test",
        "HUB_SECRET_KEY": s.secret_key.get_secret_value(),
        "HUB_DATABASE_URL": rt.engine.url.render_as_string(hide_password=False),
        "HUB_VAR_DIR": str(s.var_dir),
        "HUB_STORE_URL": s.resolved_store_url,
    }


def test_check_ops_exits_1_and_names_the_problems(planted_city: tuple[Runtime, Planted]) -> None:
    rt, planted = planted_city
    result = CliRunner().invoke(app, ["check", "ops"], env=_env(rt))
    assert result.exit_code == 1, result.output
    assert "freshness.overdue" in result.output and planted.stale_resource in result.output
    assert "connector.silent" in result.output


@pytest.mark.parametrize("system", ["ops", "security"])
def test_check_exits_0_on_a_clean_city(clean_city: Runtime, system: str) -> None:
    result = CliRunner().invoke(app, ["check", system], env=_env(clean_city))
    assert result.exit_code == 0, result.output
    assert f"{system}: 0 critical, 0 warning, 0 info" in result.output
