"""Builders for catalogue tests: a node with departments, actors, and a valid descriptor."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.orm import Session

from exchange.catalogue.service import Actor, Context
from exchange.core.runtime import Runtime
from exchange.directory import service as directory
from exchange.directory.models import Department

BUREAU = "DSJ"  # 数据资源管理局
PROVIDER = "ZRZY"  # 规划和自然资源局

BUS_STOPS: dict[str, Any] = {
    "name": "bus_stop",
    "fields": [
        {
            "name": "stop_id",
            "type": "string",
            "title": "站点编号",
            "constraints": {"required": True},
        },
        {"name": "stop_name", "type": "string", "title": "站点名称"},
        {"name": "division", "type": "string", "title": "所在区划", "check": "division"},
        {"name": "lines", "type": "integer", "title": "线路数"},
    ],
    "primaryKey": ["stop_id"],
    "catalog": {
        "title": "公交站点",
        "abstract": "全市公交站点的编号、名称、所在区划与线路数。",
        "classification": "3",
        "share_class": "unconditional",
        "open_class": "open",
        "update_cycle": "monthly",
        "format": "table",
        "share_methods": ["系统对接", "下载"],
        "tags": ["交通"],
        "licence": "CC-BY-4.0",
        "jurisdiction": "any",
    },
}


def descriptor(**changes: Any) -> dict[str, Any]:
    d = copy.deepcopy(BUS_STOPS)
    for key, value in changes.items():
        if key in d["catalog"] or key in ("share_conditions", "provider"):
            d["catalog"][key] = value
        else:
            d[key] = value
    return d


def department(session: Session, runtime: Runtime, code: str, name: str) -> Department:
    node = directory.sync_topology(session, runtime.settings)
    return directory.ensure_department(session, node, code, name)


def actor(dept: Department, name: str | None = None) -> Actor:
    return Actor(
        name=name or f"user:{dept.code.lower()}1",
        department_id=dept.id,
        department_code=dept.code,
        bureau=dept.code == BUREAU,
    )


def context(runtime: Runtime) -> Context:
    return Context(node_code=runtime.settings.node_code, schemas=runtime.schemas)
