"""Legal person registry (市场监管): companies and organisations keyed by credit code (GB 32100)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from basebases.base import BaseRegistry


class LegalPerson(BaseRegistry):
    kind = "legal_person"
    resources = ("legal_person",)

    def represented_by(self, session: Session, id_number: str) -> list[dict[str, Any]]:
        """Every legal person whose legal representative is this resident (a population link)."""
        t = self.tables().current
        return self.rows(session, t.c.legal_rep_id_number == id_number)
