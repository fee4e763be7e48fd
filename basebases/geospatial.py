"""Geospatial registry (自然资源): the division tree (GB/T 2260), standard addresses and POIs.

The division table (exchange.core.divisions) has each division's centroid, not its boundary, so
"which division contains this point" is answered by the nearest centroid among divisions of the
requested level: right far from borders, an approximation near them. Boundaries can be added as
a resource without changing callers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from basebases.base import BaseRegistry
from exchange.core import divisions

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    level: str
    distance_km: float


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


class Geospatial(BaseRegistry):
    kind = "geospatial"
    resources = ("geo_division", "geo_address")

    def children(self, session: Session, code: str) -> list[dict[str, Any]]:
        t = self.tables("geo_division").current
        rows = self.rows(session, t.c.parent_code == code, resource="geo_division")
        return sorted(rows, key=lambda r: r["code"])

    def nearest(
        self, session: Session, lon: float, lat: float, *, level: str = "district", limit: int = 1
    ) -> list[Place]:
        t = self.tables("geo_division").current
        rows = self.rows(
            session,
            t.c.level == level,
            t.c.longitude.is_not(None),
            resource="geo_division",
            limit=100_000,
        )
        places = [
            Place(
                r["code"],
                r["name"],
                r["level"],
                haversine_km(lon, lat, r["longitude"], r["latitude"]),
            )
            for r in rows
        ]
        return sorted(places, key=lambda p: p.distance_km)[:limit]

    def containing(self, session: Session, lon: float, lat: float) -> Place | None:
        """The district the point lies in (nearest centroid; see the module's note)."""
        found = self.nearest(session, lon, lat, level="district")
        return found[0] if found else None

    def geocode(self, session: Session, address: str) -> str | None:
        """The 12-digit division code of a Chinese address, if the registry knows it."""
        code = divisions.locate(address)
        if code is None:
            return None
        known = self.lookup(session, code, resource="geo_division")
        return code if known is not None else None

    def addresses_in(
        self, session: Session, division: str, kind: str | None = None
    ) -> list[dict[str, Any]]:
        t = self.tables("geo_address").current
        where = [t.c.division == division] + ([t.c.kind == kind] if kind else [])
        return self.rows(session, *where, resource="geo_address")
