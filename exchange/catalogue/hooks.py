"""What else must change when the published set does, inside the same transaction (the
open-data search index): installed by the composition root, as the catalogue knows no platform."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy.orm import Session

from exchange.core.resource_schema import ResourceSchema

AfterChange = Callable[[Session, Mapping[str, ResourceSchema]], object]
AFTER_CHANGE: list[AfterChange] = []


def install(hook: AfterChange) -> None:
    if hook not in AFTER_CHANGE:  # wire() runs at every entry point: once is enough
        AFTER_CHANGE.append(hook)


def run(session: Session, schemas: Mapping[str, ResourceSchema]) -> None:
    for hook in AFTER_CHANGE:
        hook(session, schemas)
