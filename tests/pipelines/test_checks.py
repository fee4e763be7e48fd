"""Each assurance system over a clean city finds nothing; over the planted city, each problem."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from exchange.core.runtime import Runtime
from exchange.directory.models import Resource
from exchange.pipelines import runs, service, standards
from exchange.pipelines.models import CheckFinding, CheckRun
from exchange.platforms.open_data.portal import service as portal
from exchange.platforms.sharing.catalog import service as sharing
from exchange.quality import score as quality_score
from tests.pipelines.city import Planted


def _run(rt: Runtime, system: str, key: str) -> tuple[CheckRun, list[CheckFinding]]:
    run_id = service.run_system(rt, system, key)
    with rt.sessions() as session:
        return runs.get_run(session, run_id), list(runs.findings(session, run_id))


@pytest.mark.parametrize("system", ["standards", "security", "ops"])
def test_clean_city_has_no_findings(clean_city: Runtime, system: str) -> None:
    run, found = _run(clean_city, system, f"clean-{system}")
    assert [(f.kind, f.subject, f.message) for f in found] == []
    assert run.finished_at is not None
    assert all(
        c["status"] == "ok" or c["status"].startswith("not available") for c in run.checks.values()
    )


def test_standards_find_the_row_that_bypassed_the_gate(
    planted_city: tuple[Runtime, Planted],
) -> None:
    rt, planted = planted_city
    run, found = _run(rt, "standards", "planted-standards")
    checksum = [f for f in found if f.kind == "rule.cn_ric.checksum"]
    assert [(f.subject, f.severity, f.detail["count"]) for f in checksum] == [
        ("population", "critical", 1)
    ]
    sample = checksum[0].detail["samples"][0]
    assert sample["key"] == planted.bad_checksum_id[:6] + "********" + planted.bad_checksum_id[-4:]
    assert checksum[0].detail["keys"] == [sample["key"]]  # what an operator looks up
    assert checksum[0].detail["fields"] == [sample["field"]]
    with rt.sessions() as session:
        reports = {q.resource_code: q for q in standards.quality_reports(session, run.id)}
        score = session.scalar(select(Resource.quality_score).where(Resource.code == "population"))
    population = reports["population"]
    assert population.engine == "great_expectations"
    assert population.failures_by_rule == {"cn_ric.checksum": 1}
    assert population.pass_rate == pytest.approx((population.rows - 1) / population.rows, abs=1e-6)
    assert score is not None and score < 1.0
    assert reports["geo_division"].passed and reports["geo_division"].pass_rate == 1.0


def test_portal_and_sharing_catalogue_show_the_score_the_standards_run_stored(
    planted_city: tuple[Runtime, Planted],
) -> None:
    rt, planted = planted_city
    run, _ = _run(rt, "standards", "planted-score")
    code = planted.reopened_resource  # population: opened on the portal by a planted problem
    with rt.sessions() as session:
        report = {q.resource_code: q for q in standards.quality_reports(session, run.id)}[code]
        entry = session.get(Resource, code)
        assert entry is not None and report.pass_rate < 1.0
        expected = quality_score.assess(entry, report.pass_rate)
        card = portal.card_of(session, rt.schemas, code)
        shared = sharing.entry(session, code)
    assert entry.quality_score == card.quality.score == shared.quality_score == expected.score
    assert card.quality.checks[0].value == shared.quality_checks[0].value == report.pass_rate


def test_security_finds_the_leak_and_the_published_unshared_resource(
    planted_city: tuple[Runtime, Planted],
) -> None:
    rt, _ = planted_city
    run, found = _run(rt, "security", "planted-security")
    by_kind = {(f.kind, f.subject): f for f in found}
    leak = by_kind[("pii.name_with_id", "geo_address.name")]
    assert leak.severity == "critical" and leak.detail["count"] == 1
    assert "3301" in leak.detail["example"] and "19900101" not in leak.detail["example"]
    assert ("pii.resident_id", "geo_address.name") in by_kind
    exposed = by_kind[("exposure.reachable", "macro_indicator")]
    assert (
        exposed.severity == "critical" and "package_list lists macro_indicator" in exposed.message
    )
    assert run.checks["access"]["status"] == "ok"
    assert run.checks["audit_chain"]["status"] == "ok"


def test_security_names_the_misused_rights_and_the_rows_tampered_with(
    planted_city: tuple[Runtime, Planted],
) -> None:
    rt, planted = planted_city
    _, found = _run(rt, "security", "planted-rights")
    by_subject = {f.subject: f for f in found if f.check in ("access", "audit_chain")}
    expired = by_subject[planted.expired_grant]
    assert expired.detail["uses"] == 2 and "was expired at" in expired.message
    revoked = by_subject[planted.revoked_grant]
    assert revoked.detail["uses"] == 1 and "was revoked at" in revoked.message
    surge = by_subject[planted.surging_department]
    assert surge.detail["last_24h"] == 5_000 and 30 <= surge.detail["baseline"] <= 45
    assert "WJ-old-gateway" in by_subject[planted.dormant_client].message
    # Exactly the two rows touched, each named by id; the rest of the chain still verifies.
    audit = sorted((f.kind, f.subject) for f in found if f.check == "audit_chain")
    assert audit == [
        ("audit.entry_altered", f"audit_entry:{planted.tampered_entry}"),
        ("audit.entry_deleted", f"audit_entry:{planted.deleted_entry}"),
    ]
    granted = next(f for f in found if f.kind == "exposure.granted")
    assert granted.subject == planted.unshared_granted and len(granted.detail["grants"]) == 1


def test_ops_find_the_stale_resource_and_the_silent_connector(
    planted_city: tuple[Runtime, Planted],
) -> None:
    rt, planted = planted_city
    _, found = _run(rt, "ops", "planted-ops")
    stale = [f for f in found if f.kind == "freshness.overdue"]
    assert [(f.subject, f.severity) for f in stale] == [(planted.stale_resource, "critical")]
    silent = [f for f in found if f.kind == "connector.silent"]
    assert [(f.subject, f.severity) for f in silent] == [
        (f"connector:{planted.silent_connector}", "critical")
    ]


def test_running_a_check_twice_replaces_its_findings(planted_city: tuple[Runtime, Planted]) -> None:
    rt, _ = planted_city
    first, found_first = _run(rt, "ops", "idempotent-ops")
    second, found_second = _run(rt, "ops", "idempotent-ops")
    assert first.id == second.id
    assert len(found_second) == len(found_first) > 0
