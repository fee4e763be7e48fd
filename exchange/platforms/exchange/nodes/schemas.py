from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class NodeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    level: str
    name: str
    url: str | None
    parent_code: str | None


class TopologyRead(BaseModel):
    node: NodeRead
    parent: NodeRead | None
    children: list[NodeRead]
    public_key: str
