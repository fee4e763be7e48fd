"""Builders for open-data tests: catalogue entries without a schema file, data through intake."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from exchange.directory import repository as directory_repo
from exchange.directory.models import Resource
from exchange.platforms.open_data.portal import service
from exchange.seed import push_table
from tests.builders import seed_city

SCHEMAS = load_all(SCHEMAS_DIR)
DEFAULT_ABSTRACT = (
    "一个用于测试的数据集，描述它的内容、来源、统计口径与更新方式，供公众查阅、下载与再利用，"
    "并说明字段含义和数据质量情况。"
)


def make_dataset(
    session: Session,
    settings: Settings,
    code: str,
    *,
    title: str,
    abstract: str = DEFAULT_ABSTRACT,
    tags: list[str] | None = None,
    topic: str | None = "测试",
    open_class: str = "open",
    update_cycle: str = "monthly",
    provider: str = "TJ",
    licence: str | None = "CC-BY-4.0",
    last_updated_at: dt.datetime | None = None,
    **extra: Any,
) -> Resource:
    """A catalogue entry with no schema file (so no rows), indexed for search."""
    dept = directory_repo.get_department(session, settings.node_code, provider)
    assert dept is not None, f"seed the city first: no department {provider}"
    resource = Resource(
        code=code,
        title=title,
        abstract=abstract,
        classification="主题信息资源/测试",
        provider_id=dept.id,
        share_class="unconditional",
        open_class=open_class,
        update_cycle=update_cycle,
        topic=topic,
        tags=tags or [],
        licence=licence,
        data_items=[],
        schema_sha256=hashlib.sha256(f"{code}{title}{abstract}{tags}".encode()).hexdigest(),
        last_updated_at=last_updated_at,
        **extra,
    )
    session.add(resource)
    session.flush()
    service.refresh_catalog(session, SCHEMAS)
    return resource


def seeded(session: Session, settings: Settings) -> None:
    """The demo city's catalogue, committed so requests see it."""
    seed_city(session, settings)
    session.commit()


def load(runtime: Runtime, resource: str, table: pa.Table) -> dict[str, Any]:
    """Rows through the real intake (gate, loader, catalogue bump), then a catalogue refresh."""
    result = push_table(runtime, resource, table)
    assert result["status"] == "accepted", result
    with runtime.sessions() as s:
        service.refresh_catalog(s, SCHEMAS)
        s.commit()
    return result
