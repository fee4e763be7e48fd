"""Population registry (公安): residents keyed by resident identity number (GB 11643)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from basebases.base import BaseRegistry


class Population(BaseRegistry):
    kind = "population"
    resources = ("population",)

    def residents_of(
        self, session: Session, division: str, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """Living residents registered in a division (household registration)."""
        t = self.tables().current
        return self.rows(
            session, t.c.household_division == division, t.c.status == "living", limit=limit
        )
