"""A grant written straight into a provider node's database, for tests and benchmarks of calls
across levels: what an approved application would leave there (the consumer department, of
this node or of another level, in the provider's directory; the application; the grant)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from exchange.core import divisions
from exchange.directory.models import Department, Node
from exchange.platforms.sharing.models import Application, Grant


def direct_grant(
    engine: Engine,
    *,
    provider: tuple[str, str],
    consumer: tuple[str, str],
    resource: str,
    fields: Sequence[str],
    expires_in: dt.timedelta = dt.timedelta(days=30),
    rate_per_minute: int = 600,
    rows_per_day: int = 100_000,
) -> uuid.UUID:
    """`provider` and `consumer` are (node code, department code)."""
    now = dt.datetime.now(dt.UTC)
    node_code, dept_code = consumer
    with Session(engine) as s:
        if s.get(Node, node_code) is None:
            s.add(
                Node(
                    code=node_code,
                    level=divisions.level_of(node_code),
                    name=divisions.name_of(node_code),
                    parent_code=divisions.parent_of(node_code),
                )
            )
        taker = _department(s, node_code, dept_code) or Department(
            node_code=node_code, code=dept_code, name=f"{divisions.name_of(node_code)}{dept_code}"
        )
        s.add(taker)
        giver = _department(s, *provider)
        assert giver is not None, f"no department {provider} at the provider"
        s.flush()
        app = Application(
            resource_code=resource, applicant_id=taker.id, provider_id=giver.id,
            purpose="跨层级核验", legal_basis="《政务数据共享条例》", fields=list(fields),
            duration_days=max(1, expires_in.days), status="approved", submitted_by="test",
            review_due=now, answer_due=now, decided_at=now, decided_by="test",
        )  # fmt: skip
        s.add(app)
        s.flush()
        grant = Grant(
            application_id=app.id, resource_code=resource, consumer_id=taker.id,
            provider_id=giver.id, fields=list(fields), plain_fields=[], purpose=app.purpose,
            conditional=False, rate_per_minute=rate_per_minute, rows_per_day=rows_per_day,
            expires_at=now + expires_in,
        )  # fmt: skip
        s.add(grant)
        s.commit()
        return grant.id


def _department(s: Session, node_code: str, code: str) -> Department | None:
    stmt = select(Department).where(Department.node_code == node_code, Department.code == code)
    return s.scalar(stmt)
