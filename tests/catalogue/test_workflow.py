"""编目 -> 审核 -> 发布 -> 停用, at the service level, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from exchange.catalogue import errors
from exchange.catalogue import repository as catalogue_repo
from exchange.catalogue import service as catalogue
from exchange.catalogue.builtins import register_builtins
from exchange.catalogue.models import CatalogueEvent, CatalogueResource, Status
from exchange.core.runtime import Runtime
from exchange.directory import repository as directory
from tests.catalogue.builders import BUREAU, PROVIDER, actor, context, department, descriptor

pytestmark = pytest.mark.both_backends


@dataclass(frozen=True)
class Scene:
    ctx: catalogue.Context
    provider: catalogue.Actor
    reviewer: catalogue.Actor
    other: catalogue.Actor


@pytest.fixture
def scene(db: Session, runtime: Runtime) -> Scene:
    provider = department(db, runtime, PROVIDER, "规划和自然资源局")
    bureau = department(db, runtime, BUREAU, "数据资源管理局")
    other = department(db, runtime, "JT", "交通运输局")
    register_builtins(db, runtime.settings.node_code, runtime.schemas)
    return Scene(
        ctx=context(runtime),
        provider=actor(provider),
        reviewer=actor(bureau, "user:reviewer1"),
        other=actor(other),
    )


def _publish(db: Session, scene: Scene, d: dict[str, Any] | None = None) -> CatalogueResource:
    ctx, who, reviewer = scene.ctx, scene.provider, scene.reviewer
    r = catalogue.create(db, ctx, who, d or descriptor())
    catalogue.submit(db, ctx, who, r.code)
    catalogue.approve(db, ctx, reviewer, r.code)
    catalogue.publish(db, ctx, reviewer, r.code)
    return r


def test_a_published_resource_is_live_with_its_table_and_every_step_logged(
    db: Session, runtime: Runtime, scene: Scene
) -> None:
    r = _publish(db, scene)
    # the two built-in ZRZY files hold 000001 and 000002: the node issues the next
    assert r.identifier == "330100/ZRZY/000003"
    assert r.status == Status.published and r.current_version == 1
    assert "bus_stop" in runtime.schemas
    assert runtime.schemas["bus_stop"].catalog.identifier == "330100/ZRZY/000003"
    assert "ds_bus_stop" in inspect(db.connection()).get_table_names()
    entry = directory.get_resource(db, "bus_stop")
    assert entry is not None and entry.status == "published" and entry.identifier == r.identifier
    actions = [(e.action, e.actor) for e in catalogue.events(db, "bus_stop")]
    assert actions == [
        ("created", "user:zrzy1"),
        ("submitted", "user:zrzy1"),
        ("approved", "user:reviewer1"),
        ("published", "user:reviewer1"),
    ]


def test_the_builtin_resources_are_published_version_1_of_the_same_catalogue(
    db: Session, scene: Scene
) -> None:
    population = catalogue.get(db, "population")
    assert population.builtin and population.status == Status.published
    assert population.identifier == "330100/GA/000001"
    assert [v.number for v in catalogue.versions(db, "population")] == [1]


def test_a_deleted_drafts_number_is_never_issued_again(db: Session, scene: Scene) -> None:
    ctx, who = scene.ctx, scene.provider
    first = catalogue.create(db, ctx, who, descriptor())
    catalogue.delete(db, ctx, who, first.code)
    second = catalogue.create(db, ctx, who, descriptor())
    assert first.identifier == "330100/ZRZY/000003"
    assert second.identifier == "330100/ZRZY/000004"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"fields": [{"name": "stop_id", "type": "text"}]}, "fields", "not supported"),
        (
            {"fields": [{"name": "stop_id", "type": "string", "codeList": "GB/T 0000"}]},
            "fields.stop_id",
            "unknown codeList",
        ),
        ({"primaryKey": ["stop_code"]}, "primaryKey", "primary key"),
        (
            {
                "fields": [
                    {"name": "stop_id", "type": "string"},
                    {"name": "stop_id", "type": "string"},
                ]
            },
            "fields",
            "not unique",
        ),
        ({"classification": "109"}, "catalog.classification", "classification tree"),
        ({"share_methods": ["传真"]}, "catalog.share_methods", "共享方式"),
    ],
)
def test_a_bad_draft_is_refused_naming_the_field_and_nothing_is_written(
    db: Session, scene: Scene, change: dict[str, Any], field: str, words: str
) -> None:
    before = db.scalar(select(func.count()).select_from(CatalogueResource))
    with pytest.raises(errors.InvalidDescriptor) as refused:
        catalogue.create(db, scene.ctx, scene.provider, descriptor(**change))
    assert refused.value.problems and refused.value.problems[0]["field"] == field
    assert words in refused.value.detail
    assert db.scalar(select(func.count()).select_from(CatalogueResource)) == before


def test_a_code_already_catalogued_is_a_conflict(db: Session, scene: Scene) -> None:
    with pytest.raises(errors.ResourceCodeTaken):
        catalogue.create(db, scene.ctx, scene.provider, descriptor(name="population"))


def test_another_departments_draft_cannot_be_edited_or_submitted(db: Session, scene: Scene) -> None:
    r = catalogue.create(db, scene.ctx, scene.provider, descriptor())
    with pytest.raises(errors.NotOwnDepartment):
        catalogue.submit(db, scene.ctx, scene.other, r.code)
    with pytest.raises(errors.NotOwnDepartment):
        catalogue.update(db, scene.ctx, scene.other, r.code, descriptor(title="改"))
    with pytest.raises(errors.NotOwnDepartment):
        catalogue.create(db, scene.ctx, scene.other, descriptor(provider=PROVIDER))


def test_a_reviewer_cannot_review_their_own_submission(db: Session, scene: Scene) -> None:
    ctx, reviewer = scene.ctx, scene.reviewer
    r = catalogue.create(db, ctx, reviewer, descriptor(name="data_inventory"))
    catalogue.submit(db, ctx, reviewer, r.code)
    with pytest.raises(errors.OwnSubmission):
        catalogue.approve(db, ctx, reviewer, r.code)
    assert catalogue.get(db, r.code).status == Status.submitted


def test_only_the_bureau_reviews_and_publishes(db: Session, scene: Scene) -> None:
    ctx, who = scene.ctx, scene.provider
    r = catalogue.create(db, ctx, who, descriptor())
    catalogue.submit(db, ctx, who, r.code)
    with pytest.raises(errors.NotBureau):
        catalogue.approve(db, ctx, scene.other, r.code)
    with pytest.raises(errors.WrongStatus):
        catalogue.publish(db, ctx, scene.reviewer, r.code)  # not approved yet


def test_returning_needs_reasons_and_the_provider_edits_and_resubmits(
    db: Session, scene: Scene
) -> None:
    ctx, who, reviewer = scene.ctx, scene.provider, scene.reviewer
    r = catalogue.create(db, ctx, who, descriptor())
    catalogue.submit(db, ctx, who, r.code)
    with pytest.raises(errors.ReasonRequired):
        catalogue.send_back(db, ctx, reviewer, r.code, ["  "])
    catalogue.send_back(db, ctx, reviewer, r.code, ["摘要过短，请说明数据范围"])
    assert catalogue.get(db, r.code).status == Status.returned
    catalogue.update(db, ctx, who, r.code, descriptor(abstract="全市公交站点，含撤销站点。"))
    catalogue.submit(db, ctx, who, r.code)
    returned = [e for e in catalogue.events(db, r.code) if e.action == "returned"]
    assert returned[0].reason == "摘要过短，请说明数据范围"


def test_an_incomplete_entry_is_not_submitted_or_published(db: Session, scene: Scene) -> None:
    ctx, who = scene.ctx, scene.provider
    r = catalogue.create(db, ctx, who, descriptor(abstract="", share_class="conditional"))
    with pytest.raises(errors.IncompleteCatalogue) as refused:
        catalogue.submit(db, ctx, who, r.code)
    assert "catalog.abstract" in refused.value.detail
    assert "catalog.share_conditions" in refused.value.detail
    assert catalogue.get(db, r.code).status == Status.draft


def test_an_additive_version_alters_the_table_and_keeps_every_version(
    db: Session, runtime: Runtime, scene: Scene
) -> None:
    ctx, who, reviewer = scene.ctx, scene.provider, scene.reviewer
    _publish(db, scene)
    d = descriptor()
    d["fields"].append({"name": "shelter", "type": "boolean", "title": "有无候车亭"})
    d["fields"][3]["type"] = "number"  # integer -> number: a widening
    catalogue.update(db, ctx, who, "bus_stop", d)
    assert catalogue.get(db, "bus_stop").status == Status.published  # v1 still in force
    catalogue.submit(db, ctx, who, "bus_stop")
    catalogue.approve(db, ctx, reviewer, "bus_stop")
    v2 = catalogue.publish(db, ctx, reviewer, "bus_stop")
    assert v2.number == 2 and v2.previous_until is not None
    columns = {c["name"] for c in inspect(db.connection()).get_columns("ds_bus_stop")}
    assert "shelter" in columns
    assert "shelter" in runtime.schemas["bus_stop"].by_name
    assert [v.number for v in catalogue.versions(db, "bus_stop")] == [1, 2]
    assert "shelter" not in {
        f["name"] for f in catalogue.version(db, "bus_stop", 1).descriptor["fields"]
    }


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["fields"].pop(3), "lines"),
        (lambda d: d["fields"][3].update(type="string"), "lines"),
        (
            lambda d: d["fields"].append(
                {"name": "x", "type": "string", "constraints": {"required": True}}
            ),
            "x",
        ),
        (lambda d: d.update(primaryKey=["stop_name"]), "stop_name"),
    ],
)
def test_a_breaking_version_is_refused_naming_the_field(
    db: Session, scene: Scene, edit: Callable[[dict[str, Any]], object], field: str
) -> None:
    _publish(db, scene)
    d = descriptor()
    edit(d)
    with pytest.raises(errors.BreakingChange) as refused:
        catalogue.update(db, scene.ctx, scene.provider, "bus_stop", d)
    assert refused.value.problems and refused.value.problems[0]["field"] == field
    assert "new resource" in refused.value.detail
    assert catalogue.get(db, "bus_stop").draft is None


def test_a_withdrawn_resource_keeps_its_entry_marked_withdrawn(db: Session, scene: Scene) -> None:
    _publish(db, scene)
    with pytest.raises(errors.ReasonRequired):
        catalogue.withdraw(db, scene.ctx, scene.reviewer, "bus_stop", "")
    catalogue.withdraw(db, scene.ctx, scene.reviewer, "bus_stop", "数据源停止维护")
    assert catalogue.get(db, "bus_stop").status == Status.withdrawn
    entry = directory.get_resource(db, "bus_stop")
    assert entry is not None and entry.status == "withdrawn"


def test_an_item_another_department_is_source_of_is_flagged_for_the_reviewer(
    db: Session, scene: Scene
) -> None:
    ctx, who, reviewer = scene.ctx, scene.provider, scene.reviewer
    d = descriptor()
    d["fields"].append({"name": "owner_id", "type": "string", "title": "公民身份号码"})
    r = catalogue.create(db, ctx, who, d)
    catalogue.submit(db, ctx, who, r.code)
    flags = catalogue.source_flags(db, r.code)
    assert [(f.field, f.existing_resource, f.source_department) for f in flags] == [
        ("owner_id", "population", "GA")
    ]
    with pytest.raises(errors.InvalidDescriptor) as refused:
        catalogue.approve(db, ctx, reviewer, r.code)
    assert "decisions.owner_id" in refused.value.detail and "population" in refused.value.detail
    catalogue.approve(
        db, ctx, reviewer, r.code, decisions={"owner_id": "站点产权人，非身份核验用途"}
    )
    approved = db.scalars(select(CatalogueEvent).where(CatalogueEvent.action == "approved")).one()
    assert approved.detail["source_flags"][0]["decision"] == "站点产权人，非身份核验用途"


def test_an_item_declared_as_the_other_departments_is_not_flagged(
    db: Session, scene: Scene
) -> None:
    d = descriptor()
    d["fields"].append(
        {"name": "owner_id", "type": "string", "title": "公民身份号码", "source": "GA"}
    )
    r = catalogue.create(db, scene.ctx, scene.provider, d)
    assert catalogue.source_flags(db, r.code) == []


def test_an_identifier_recorded_before_the_counter_knew_of_it_is_skipped(
    db: Session, scene: Scene
) -> None:
    taken = catalogue.create(db, scene.ctx, scene.provider, descriptor())
    taken.identifier = "330100/ZRZY/000004"  # e.g. an entry written by an older import
    db.flush()
    issued = catalogue.create(db, scene.ctx, scene.provider, descriptor(name="bus_line"))
    assert issued.identifier == "330100/ZRZY/000005"


def test_a_code_taken_by_a_concurrent_draft_is_a_conflict_not_a_crash(
    db: Session, scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue.create(db, scene.ctx, scene.provider, descriptor())
    # the second request checked before the first committed: only the unique index sees it
    monkeypatch.setattr(catalogue_repo, "code_taken", lambda *_: False)
    with pytest.raises(errors.ResourceCodeTaken):
        catalogue.create(db, scene.ctx, scene.provider, descriptor())
    assert catalogue.get(db, "bus_stop").identifier == "330100/ZRZY/000003"
