"""Credit registry (发改/信用): red and black lists, penalties and licences on people and firms."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_
from sqlalchemy.orm import Session

from basebases.base import BaseRegistry


class Credit(BaseRegistry):
    kind = "credit"
    resources = ("credit_record",)

    def records_for(
        self, session: Session, subject_code: str, *, on: dt.date | None = None
    ) -> list[dict[str, Any]]:
        """Records about a subject (credit code or ID number) in force on a day (default today)."""
        t = self.tables().current
        day = on or dt.date.today()
        return self.rows(
            session,
            t.c.subject_code == subject_code,
            t.c.decided_on <= day,
            or_(t.c.valid_until.is_(None), t.c.valid_until >= day),
        )
