"""The catalogue's answer to `LiveSchemas`: which published versions are in force."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from exchange.catalogue import repository as repo


class _Source:
    def generation(self, session: Session) -> int:
        return repo.generation(session)

    def versions(self, session: Session) -> dict[str, int]:
        return repo.live_versions(session)

    def withdrawn(self, session: Session) -> frozenset[str]:
        return repo.withdrawn_codes(session)

    def descriptors(self, session: Session, wanted: dict[str, int]) -> dict[str, dict[str, Any]]:
        return repo.descriptors(session, wanted)


SOURCE = _Source()
