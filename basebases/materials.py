"""Application materials registry (政务服务): submitted once, reused later (最多跑一次)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_
from sqlalchemy.orm import Session

from basebases.base import BaseRegistry


class Materials(BaseRegistry):
    kind = "materials"
    resources = ("material",)

    def reusable(
        self,
        session: Session,
        holder_code: str,
        *,
        material_type: str | None = None,
        on: dt.date | None = None,
    ) -> list[dict[str, Any]]:
        """The holder's materials still valid on a day, newest first: no need to submit again."""
        t = self.tables().current
        day = on or dt.date.today()
        where = [
            t.c.holder_code == holder_code,
            or_(t.c.valid_until.is_(None), t.c.valid_until >= day),
        ]
        if material_type:
            where.append(t.c.material_type == material_type)
        rows = self.rows(session, *where)
        return sorted(rows, key=lambda r: r["issued_on"] or dt.date.min, reverse=True)
