"""deploy/prometheus/alerts.yml: valid rules (promtool; `make test` installs Debian's
prometheus package for it), alerts that fire on the series they are written for (promtool's
rule unit tests), and every metric they name exported by a real node's /metrics."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from exchange.app import create_app
from exchange.core.runtime import Runtime
from exchange.core.settings import NodeRef
from exchange.pipelines import service
from exchange.testing.postgres import free_port
from tests.pipelines.city import Planted

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = RULES.with_name("alerts_test.yml")
WANTED = {
    "HubRelayBacklogOld",
    "HubQuarantineSpike",
    "HubFreshnessOverdue",
    "HubAuditUnsealed",
    "HubCheckRunsStale",
    "HubRouteErrorRate",
    "HubRouteLatencyP99",
    "HubNeighbourUnreachable",
}
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
    "bool", "offset", "le", "time", "rate", "increase", "sum", "max", "min", "avg", "count",
    "histogram_quantile", "abs", "absent",
}  # fmt: skip


def _rules() -> list[dict[str, object]]:
    doc = yaml.safe_load(RULES.read_text())
    return [r for g in doc["groups"] for r in g["rules"]]


def _metric_names(expr: str) -> set[str]:
    expr = re.sub(r'"[^"]*"', '""', expr)  # label values are not names
    expr = re.sub(r"\{[^}]*\}", "", expr)  # nor are label names
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # range selectors
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set(re.findall(r"\b[a-zA-Z_][a-zA-Z0-9_]*\b", expr))
    return {n for n in names - PROMQL_WORDS if not re.fullmatch(r"\d.*|e", n)}


def test_the_rules_cover_what_operators_asked_for() -> None:
    rules = _rules()
    assert WANTED - {r["alert"] for r in rules} == set()
    for r in rules:
        assert r["labels"]["severity"] in ("warning", "critical"), r["alert"]  # type: ignore[index]
        assert r["annotations"]["summary"], r["alert"]  # type: ignore[index]
        names = _metric_names(str(r["expr"]))
        assert names and all(":" not in n and n.startswith("hub_") for n in names), names


def test_promtool_checks_the_rules_and_their_unit_tests() -> None:
    check = subprocess.run(
        ["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    tested = subprocess.run(
        ["promtool", "test", "rules", str(RULE_TESTS)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=RULES.parent,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


def _exported(body: str) -> set[str]:
    names: set[str] = set()
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            names.add(name)
            if kind == "histogram":
                names |= {name + "_bucket", name + "_sum", name + "_count"}
            if kind == "counter" and not name.endswith("_total"):
                names.add(name + "_total")
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def test_every_metric_the_rules_name_is_on_a_nodes_metrics(
    planted_city: tuple[Runtime, Planted],
) -> None:
    """The planted city, with a parent that does not answer, after an ops and a security run."""
    rt, _ = planted_city
    away = NodeRef(code="330000000000", url=f"http://127.0.0.1:{free_port()}")
    rt = dataclasses.replace(rt, settings=rt.settings.model_copy(update={"parent": away}))
    service.run_system(rt, "ops", "rules-ops")
    service.run_system(rt, "security", "rules-security")
    with TestClient(create_app(rt.settings, runtime=rt)) as client:
        client.get("/healthz")  # one request, so the HTTP families have samples
        exported = _exported(client.get("/metrics").text)
    named = set().union(*(_metric_names(str(r["expr"])) for r in _rules()))
    assert named - exported == set()
