"""A failed check is a result: a crash on one resource is a finding, the run still finishes
with status "error", and the ops page and /metrics show it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from exchange.app import create_app
from exchange.core.runtime import Runtime
from exchange.directory.models import Resource
from exchange.pipelines import ops, runs, service
from exchange.platforms.sharing.access.principal import Role
from tests.pipelines.city import Planted
from tests.platforms.sharing.builders import console_login, make_user

BROKEN = "credit_record"  # not the planted stale resource: freshness must still find that one


@pytest.fixture
def fortnightly(planted_city: tuple[Runtime, Planted]) -> Iterator[tuple[Runtime, Planted]]:
    """A catalogue value the update-cycle enum does not know, written straight to the table."""
    rt, planted = planted_city
    with rt.sessions() as session, session.begin():
        before = session.get(Resource, BROKEN)
        assert before is not None, "the planted city catalogues credit_record"
        cycle = before.update_cycle
        session.execute(
            update(Resource).where(Resource.code == BROKEN).values(update_cycle="fortnightly")
        )
    try:
        yield rt, planted
    finally:
        with rt.sessions() as session, session.begin():
            session.execute(
                update(Resource).where(Resource.code == BROKEN).values(update_cycle=cycle)
            )


def test_a_bad_catalogue_value_is_an_error_finding_and_the_others_are_still_checked(
    fortnightly: tuple[Runtime, Planted],
) -> None:
    rt, planted = fortnightly
    run_id = service.run_system(rt, "ops", "failed-fortnightly")
    with rt.sessions() as session:
        run = runs.get_run(session, run_id)
        found = {(f.kind, f.subject): f for f in runs.findings(session, run_id)}
    assert run.finished_at is not None and run.status == "error"
    crash = found[(runs.CRASHED, BROKEN)]
    assert crash.severity == "critical" and "fortnightly" in crash.message
    assert run.error is not None and "fortnightly" in run.error
    assert ("freshness.overdue", planted.stale_resource) in found  # it went on
    assert ("connector.silent", f"connector:{planted.silent_connector}") in found

    with rt.sessions() as session:
        operator = make_user(session, rt.settings, Role.operator, department=None)
    with TestClient(create_app(rt.settings, runtime=rt)) as client:
        page = console_login(client, operator).get("/console/ops")
        metrics = client.get("/metrics").text
    assert page.status_code == 200
    assert 'class="status-error"' in page.text and "fortnightly" in page.text
    assert 'hub_assurance_last_run_status{system="ops",status="error"} 1' in metrics
    assert 'hub_assurance_last_run_status{system="ops",status="ok"} 0' in metrics
    assert 'hub_assurance_check_errors{system="ops"} 1' in metrics


def test_a_check_that_crashes_whole_is_recorded_and_the_run_finishes(
    planted_city: tuple[Runtime, Planted], monkeypatch: pytest.MonkeyPatch
) -> None:
    rt, _ = planted_city

    def broken_storage(_rt: Runtime) -> runs.CheckResult:
        raise OSError("payload store unreachable")

    monkeypatch.setattr(ops, "check_storage", broken_storage)
    run_id = service.run_system(rt, "ops", "failed-storage")
    with rt.sessions() as session:
        run = runs.get_run(session, run_id)
        crashes = [f for f in runs.findings(session, run_id) if f.kind == runs.CRASHED]
    assert run.status == "error" and run.finished_at is not None
    assert run.checks["storage"]["status"] == "error"
    assert "payload store unreachable" in run.checks["storage"]["error"]
    assert [c.subject for c in crashes] == ["storage"]
    assert run.checks["relay"]["status"] == "ok"  # the checks after it still ran


def test_a_planned_check_that_never_reported_makes_the_run_an_error(
    planted_city: tuple[Runtime, Planted],
) -> None:
    rt, _ = planted_city
    run_id = service.open_run(rt, "ops", "failed-never-reported", "airflow")
    service.record_check(rt, "ops", run_id, "storage")
    service.finish_run(rt, run_id, ["storage", "relay"])  # relay's task died
    with rt.sessions() as session:
        run = runs.get_run(session, run_id)
        crashes = [f.subject for f in runs.findings(session, run_id) if f.kind == runs.CRASHED]
    assert run.status == "error" and crashes == ["relay"]
    assert run.checks["relay"]["status"] == "error"


def test_checks_recording_at_the_same_time_keep_each_others_entries(
    planted_city: tuple[Runtime, Planted],
) -> None:
    """Mapped check tasks record into one run concurrently: none may drop another's entry."""
    import threading

    rt, _ = planted_city
    run_id = service.open_run(rt, "ops", "failed-concurrent", "airflow")
    names = ["storage", "quarantine", "relay", "connectors"]
    both_read = threading.Barrier(len(names))
    errors: list[BaseException] = []

    def record(name: str) -> None:
        try:
            with rt.sessions() as session, session.begin():
                run = runs.get_run(session, run_id)
                assert name not in run.checks  # each has read the run before any wrote
                both_read.wait(timeout=30)
                runs.record(session, run, runs.CheckResult(name))
        except BaseException as exc:  # surfaced below, in the test's own thread
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with rt.sessions() as session:
        assert sorted(runs.get_run(session, run_id).checks) == sorted(names)
