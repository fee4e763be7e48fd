from __future__ import annotations

from fastapi import APIRouter

from exchange.core.deps import DbSession
from exchange.platforms.exchange import service
from exchange.platforms.exchange.schemas import NodeRead, TopologyRead

router = APIRouter(tags=["exchange"])


@router.get("/node", response_model=TopologyRead, summary="This node, its parent and children")
def get_topology(session: DbSession) -> TopologyRead:
    me, parent, children = service.topology(session)
    return TopologyRead(
        node=NodeRead.model_validate(me),
        parent=NodeRead.model_validate(parent) if parent else None,
        children=[NodeRead.model_validate(c) for c in children],
    )


@router.get("/nodes/{code}", response_model=NodeRead, summary="A node known to this node")
def get_node(code: str, session: DbSession) -> NodeRead:
    return NodeRead.model_validate(service.node(session, code))
