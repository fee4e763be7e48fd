from pathlib import Path

import pytest

from exchange.core.settings import DEV_SECRET, Environment, NodeLevel, SettingsError, load_settings


def test_defaults_are_the_embedded_sqlite_file_and_local_payload_folder() -> None:
    s = load_settings()
    assert s.env is Environment.development
    assert s.node_code == "330100000000" and s.node_level is NodeLevel.city
    assert s.resolved_node_name == "杭州市"
    assert s.resolved_database_url == f"sqlite:///{Path('var/hub.db').resolve()}"
    assert s.resolved_store_url == Path("var/payloads").resolve().as_uri()


def test_settings_are_read_from_hub_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_NODE_CODE", "330106000000")
    monkeypatch.setenv("HUB_NODE_LEVEL", "district")
    monkeypatch.setenv("HUB_DATABASE_URL", "postgresql+psycopg://hub@db/hub")
    monkeypatch.setenv("HUB_PARENT__CODE", "330100000000")
    monkeypatch.setenv("HUB_PARENT__URL", "http://city.example:8000")
    s = load_settings()
    assert s.resolved_node_name == "西湖区"
    assert s.resolved_database_url == "postgresql+psycopg://hub@db/hub"
    assert s.parent is not None and s.parent.url == "http://city.example:8000"


def test_a_settings_file_is_read_and_environment_overrides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "hub.toml"
    f.write_text(
        'node_code = "330000000000"\nnode_level = "province"\n'
        '[[children]]\ncode = "330100000000"\nurl = "http://127.0.0.1:8101"\n'
    )
    monkeypatch.setenv("HUB_SETTINGS_FILE", str(f))
    monkeypatch.setenv("HUB_BASE_URL", "http://127.0.0.1:8100")
    s = load_settings()
    assert s.node_level is NodeLevel.province and s.resolved_node_name == "浙江省"
    assert [c.code for c in s.children] == ["330100000000"]
    assert s.base_url == "http://127.0.0.1:8100"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"node_code": "3301"}, "invalid setting HUB_NODE_CODE: '3301' is not a 12-digit"),
        (
            {"node_code": "339999000000"},
            "invalid setting HUB_NODE_CODE: 339999000000 is not a known",
        ),
        ({"node_level": "district"}, "invalid setting HUB_NODE_LEVEL: district does not fit"),
        ({"env": "production"}, "invalid setting HUB_SECRET_KEY: the built-in development"),
        (
            {"env": "production", "secret_key": "short"},
            "invalid setting HUB_SECRET_KEY: production",
        ),
        ({"env": "staging"}, "invalid setting HUB_ENV:"),
        ({"db_pool_size": 0}, "invalid setting HUB_DB_POOL_SIZE:"),
        ({"no_such_setting": 1}, "invalid setting HUB_NO_SUCH_SETTING:"),
        (
            {"parent": {"code": "320000000000", "url": "http://p"}},
            "invalid setting HUB_PARENT: 320000000000 is not the division above 330100000000",
        ),
        (
            {"children": [{"code": "330206000000", "url": "http://c"}]},
            "invalid setting HUB_CHILDREN: 330206000000 is not a direct child",
        ),
    ],
)
def test_a_bad_setting_is_refused_with_one_line_naming_it(overrides: dict, expected: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(**overrides)
    assert str(err.value).startswith(expected)
    assert "\n" not in str(err.value)


def test_the_development_secret_is_accepted_only_in_development() -> None:
    assert load_settings().secret_key.get_secret_value() == DEV_SECRET
    s = load_settings(env="production", secret_key="x" * 40)
    assert s.env is Environment.production
