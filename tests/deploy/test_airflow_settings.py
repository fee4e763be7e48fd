"""The Airflow services of each deployment get every HUB_* setting the hub's own services get,
so a DAG task and `hub check` on a hub container look at the same node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose" / "node.yaml").read_text())  # type: ignore[no-any-return]


def test_compose_airflow_services_get_the_hubs_whole_environment() -> None:
    services = _compose()["services"]
    hub = services["hub"]
    airflow = {name: s for name, s in services.items() if name.startswith("airflow-")}
    assert set(airflow) >= {"airflow-worker", "airflow-scheduler", "airflow-dag-processor"}
    settings = {k: v for k, v in hub["environment"].items() if k.startswith(("HUB_", "AWS_"))}
    assert {"HUB_DATABASE_URL", "HUB_STORE_URL", "HUB_ENV", "HUB_NODE_KEY_FILE"} <= set(settings)
    for name, service in airflow.items():
        env = service["environment"]
        missing = {k for k, v in settings.items() if env.get(k) != v}
        assert missing == set(), f"{name} lacks {sorted(missing)}"
        assert service["env_file"] == hub["env_file"], name  # node code, level, neighbours
        assert service["secrets"] == hub["secrets"], name
        assert env["AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES"] == "hub_database_url"


def test_k8s_airflow_pods_read_the_same_config_map_and_secret_as_the_hub() -> None:
    hub_docs = list(yaml.safe_load_all((DEPLOY / "k8s" / "hub.yaml").read_text()))
    hub_sources = [
        source
        for doc in hub_docs
        if doc and doc.get("kind") == "Deployment"
        for c in doc["spec"]["template"]["spec"]["containers"]
        for source in c.get("envFrom", [])
    ]
    assert hub_sources
    values = yaml.safe_load((DEPLOY / "k8s" / "airflow-values.yaml").read_text())
    airflow_sources = yaml.safe_load(values["extraEnvFrom"])
    assert all(s in airflow_sources for s in hub_sources), airflow_sources
    assert "env" not in values  # not a hand-picked subset beside them
    assert values["config"]["core"]["sensitive_var_conn_names"] == "hub_database_url"
