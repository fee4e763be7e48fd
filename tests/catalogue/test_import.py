"""`hub catalogue import`: a schema file catalogued through the whole workflow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from exchange.catalogue import errors
from exchange.catalogue import service as catalogue
from exchange.catalogue.importer import IMPORT_ACTOR, import_descriptor
from exchange.core.runtime import Runtime
from tests.catalogue.builders import PROVIDER, context, department, descriptor
from tests.test_cli import run_hub


@pytest.mark.both_backends
def test_an_import_goes_through_every_step_as_the_import(db: Session, runtime: Runtime) -> None:
    department(db, runtime, PROVIDER, "规划和自然资源局")
    ctx = context(runtime)
    done = import_descriptor(db, ctx, descriptor(), as_dept=PROVIDER)
    assert (done.action, done.version) == ("published", 1)
    steps = [(e.action, e.actor) for e in catalogue.events(db, "bus_stop")]
    assert steps == [(a, IMPORT_ACTOR) for a in ("created", "submitted", "approved", "published")]
    assert "bus_stop" in runtime.schemas
    again = import_descriptor(db, ctx, descriptor(), as_dept=PROVIDER)
    assert again.action == "unchanged"
    d = descriptor()
    d["fields"].append({"name": "shelter", "type": "boolean", "title": "有无候车亭"})
    assert import_descriptor(db, ctx, d, as_dept=PROVIDER).version == 2


@pytest.mark.both_backends
def test_an_import_for_an_unknown_department_without_its_name_is_refused(
    db: Session, runtime: Runtime
) -> None:
    department(db, runtime, PROVIDER, "规划和自然资源局")
    with pytest.raises(errors.InvalidDescriptor) as refused:
        import_descriptor(db, context(runtime), descriptor(), as_dept="XX")
    assert "XX" in refused.value.detail


@pytest.mark.slow
def test_the_catalogue_commands_import_list_show_and_version(tmp_path: Path) -> None:
    path = tmp_path / "bus_stop.json"
    path.write_text(json.dumps(descriptor(), ensure_ascii=False), "utf-8")
    assert run_hub("db", "upgrade", cwd=tmp_path).returncode == 0
    init = run_hub("node", "init", cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    r = run_hub("catalogue", "import", str(path), "--as", PROVIDER, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\t")[:3] == ["published", "bus_stop", "330100/ZRZY/000003"]
    listed = run_hub("catalogue", "list", cwd=tmp_path).stdout
    assert "bus_stop\t330100/ZRZY/000003\tpublished\tv1" in listed
    assert "population\t330100/GA/000001\tpublished\tv1" in listed
    shown = json.loads(run_hub("catalogue", "show", "bus_stop", cwd=tmp_path).stdout)
    assert [e["action"] for e in shown["events"]][-1] == "published"
    assert run_hub("catalogue", "versions", "bus_stop", cwd=tmp_path).stdout.startswith("v1\t")
    broken = descriptor()
    broken["fields"].pop(3)
    path.write_text(json.dumps(broken, ensure_ascii=False), "utf-8")
    r = run_hub("catalogue", "import", str(path), "--as", PROVIDER, cwd=tmp_path)
    assert r.returncode == 2 and "BreakingChange" in r.stderr and "'lines'" in r.stderr
