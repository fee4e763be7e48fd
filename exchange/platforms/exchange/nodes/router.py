from __future__ import annotations

from fastapi import APIRouter

from exchange.core.deps import DbSession, RuntimeDep
from exchange.platforms.exchange.nodes import service as nodes_service
from exchange.platforms.exchange.nodes.schemas import NodeRead, TopologyRead

router = APIRouter(tags=["exchange: nodes"])


@router.get("/node", response_model=TopologyRead, summary="This node, its parent and children")
def get_topology(session: DbSession, rt: RuntimeDep) -> TopologyRead:
    me, parent, children = nodes_service.topology(session)
    return TopologyRead(
        node=NodeRead.model_validate(me),
        parent=NodeRead.model_validate(parent) if parent else None,
        children=[NodeRead.model_validate(c) for c in children],
        public_key=rt.node_keys.public_b64,
    )


@router.get("/nodes/{code}", response_model=NodeRead, summary="A node known to this node")
def get_node(code: str, session: DbSession) -> NodeRead:
    return NodeRead.model_validate(nodes_service.node(session, code))
