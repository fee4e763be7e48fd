from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from exchange.core.resource_schema import OpenClass
from exchange.directory.models import Resource


def public_resources(session: Session) -> Sequence[Resource]:
    """Only 无条件开放 resources are public; the others never reach the portal's queries."""
    return session.scalars(
        select(Resource)
        .options(joinedload(Resource.provider))
        .where(Resource.open_class == OpenClass.open.value, Resource.status == "published")
        .order_by(Resource.last_updated_at.desc().nulls_last(), Resource.code)
    ).all()
