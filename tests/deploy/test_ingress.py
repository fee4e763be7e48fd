"""The Kubernetes ingress lets gigabytes through to batch intake only."""

from __future__ import annotations

from pathlib import Path

import yaml

HUB_YAML = Path(__file__).parents[2] / "deploy" / "k8s" / "hub.yaml"


def _size_mb(text: str) -> float:
    units = {"k": 1 / 1024, "m": 1, "g": 1024}
    return float(text[:-1]) * units[text[-1].lower()]


def test_the_body_limit_is_set_per_path() -> None:
    ingresses = [d for d in yaml.safe_load_all(HUB_YAML.read_text()) if d["kind"] == "Ingress"]
    limits = {}
    for ing in ingresses:
        size = _size_mb(
            ing["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
        )
        for rule in ing["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                limits[p["path"]] = size
    assert limits["/exchange/v1/batches/"] >= 2048
    assert limits["/"] <= 10, "only batch intake needs more than an application's attachment"
