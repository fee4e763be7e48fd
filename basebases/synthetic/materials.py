"""Application materials (电子证照): certificates held by the people and legal persons generated."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import NamedTuple, TypeVar

import numpy as np
import pyarrow as pa

from basebases.synthetic import vocab
from basebases.synthetic._common import (
    AS_OF_DAY,
    Place,
    build_table,
    column_days,
    dates,
    day_number,
    draw,
    living_adults,
    places_of,
    rng_for,
    years_after,
)

_NATURAL_SHARE = 0.75
# material type, share, minimum age of the holder
_NATURAL = (
    ("id_card", 0.30, 0),
    ("household_register", 0.18, 0),
    ("marriage_certificate", 0.12, 22),
    ("degree_certificate", 0.12, 22),
    ("property_certificate", 0.15, 18),
    ("other", 0.13, 18),
)
_LEGAL = (("business_licence", 0.55), ("property_certificate", 0.15), ("other", 0.30))
_OTHER_NATURAL = (  # title, issuing department (None: the holder's own paper), months valid
    ("无犯罪记录证明", "公安局", 6),
    ("社会保险参保证明", "人力资源和社会保障局", 3),
    ("个人所得税纳税记录", "税务局", 0),
    ("授权委托书", None, 12),
)
_OTHER_LEGAL = (
    ("食品经营许可证", "市场监督管理局", 60),
    ("授权委托书", None, 12),
    ("章程", None, 0),
    ("年度审计报告", None, 12),
)
# Certificates of the bodies that market regulation does not register.
_REGISTRATION = {
    "12": ("事业单位法人证书", "事业单位登记管理局"),
    "51": ("社会团体法人登记证书", "民政局"),
    "52": ("民办非企业单位登记证书", "民政局"),
    "53": ("基金会法人登记证书", "民政局"),
}
_DEGREES = (("学士学位证书", 0.7), ("硕士学位证书", 0.25), ("博士学位证书", 0.05))
# Academic degrees were introduced in 1981.
_DEGREES_FROM = day_number(dt.date(1982, 1, 1))
# One property register (不动产登记) since March 2015.
_PROPERTY_FROM = day_number(dt.date(2015, 3, 1))


def materials(n: int, *, seed: int, people: pa.Table, legal_persons: pa.Table) -> pa.Table:
    """`n` materials held by adults of `people` and by `legal_persons`."""
    rng = rng_for(seed, "material")
    ps, city_code = places_of(people, legal_persons)
    m = _Maker(rng, ps, people, legal_persons)
    if legal_persons.num_rows == 0 or people.num_rows == 0:
        natural_share = float(legal_persons.num_rows == 0)
    else:
        natural_share = _NATURAL_SHARE
    rows = [m.natural() if draw < natural_share else m.legal() for draw in rng.random(n)]
    ids = [f"CL{city_code[:6]}{i + 1:010d}" for i in range(n)]
    digests = [
        hashlib.sha256(f"{mid}\n{r.holder}\n{r.title}\n{r.issued}\n{seed}".encode()).hexdigest()
        for mid, r in zip(ids, rows, strict=True)
    ]

    def text(field: str) -> pa.Array:
        return pa.array([getattr(r, field) for r in rows], pa.string())

    valid_days = np.array([-1 if r.valid is None else r.valid for r in rows], dtype=np.int64)
    return build_table(
        "material",
        {
            "material_id": pa.array(ids, pa.string()),
            "material_type": text("type"),
            "holder_code": text("holder"),
            "holder_kind": text("kind"),
            "title": text("title"),
            "issuer": text("issuer"),
            "file_sha256": pa.array(digests, pa.string()),
            "issued_on": dates(np.array([r.issued for r in rows], dtype=np.int64)),
            "valid_until": pa.array(valid_days.astype(np.int32), pa.date32(), mask=valid_days < 0),
        },
    )


T = TypeVar("T")


class _Row(NamedTuple):
    kind: str
    holder: str
    type: str
    title: str
    issuer: str | None
    issued: int  # days since 1970-01-01
    valid: int | None


class _Maker:
    def __init__(
        self,
        rng: np.random.Generator,
        ps: tuple[Place, ...],
        people: pa.Table,
        legal_persons: pa.Table,
    ) -> None:
        self.rng = rng
        self.ps = {p.code: p for p in ps}
        self.city = ps[0]
        self.by_age = {
            age: living_adults(people, age=age) if people.num_rows else np.array([], np.int64)
            for age in {a for _, _, a in _NATURAL}
        }
        self.ids = people["id_number"].to_numpy(zero_copy_only=False)
        self.homes = people["household_division"].to_numpy(zero_copy_only=False)
        self.births = column_days(people, "birth_date")
        self.uscc = legal_persons["uscc"].to_numpy(zero_copy_only=False)
        self.founded = column_days(legal_persons, "established_on")
        self.divisions = legal_persons["division"].to_numpy(zero_copy_only=False)

    def _day(self, first: int, last: int = AS_OF_DAY) -> int:
        first = min(first, last)
        return int(self.rng.integers(first, last + 1))

    def _one(self, values: Sequence[T]) -> T:
        return values[int(self.rng.integers(0, len(values)))]

    def natural(self) -> _Row:
        kind_index = draw(self.rng, [s for _, s, _ in _NATURAL])
        mtype, _, min_age = _NATURAL[kind_index]
        pool = self.by_age[min_age]
        if len(pool) == 0:
            pool = self.by_age[0]
            mtype = "id_card"
        row = int(pool[self.rng.integers(0, len(pool))])
        birth = int(self.births[row])
        place = self.ps.get(self.homes[row], self.city)
        issuer: str | None
        valid: int | None = None
        if mtype == "id_card":
            issued = self._day(max(birth + 30, AS_OF_DAY - 5 * 365))
            age = (issued - birth) / 365.2425
            years = 5 if age < 16 else 10 if age < 26 else 20 if age < 46 else 0
            valid = years_after(issued, years) if years else None
            title, issuer = "居民身份证", place.police
        elif mtype == "household_register":
            title, issuer, issued = "居民户口簿", place.police, self._day(birth + 1)
        elif mtype == "marriage_certificate":
            title, issuer = "结婚证", place.office("民政局")
            issued = self._day(years_after(birth, 22))
        elif mtype == "degree_certificate":
            title = _DEGREES[draw(self.rng, [w for _, w in _DEGREES])][0]
            issuer = self._one(vocab.UNIVERSITIES)
            graduated = years_after(birth, 22)
            issued = self._day(max(graduated, _DEGREES_FROM))
        elif mtype == "property_certificate":
            title, issuer = "不动产权证书", f"{self.city.city}规划和自然资源局"
            issued = self._day(max(years_after(birth, 18), _PROPERTY_FROM))
        else:
            title, department, months = self._one(_OTHER_NATURAL)
            issuer = self._issuer(department, place)
            issued = self._day(AS_OF_DAY - 3 * 365)
            valid = issued + months * 30 if months else None
        return _Row("natural_person", self.ids[row], mtype, title, issuer, issued, valid)

    def legal(self) -> _Row:
        mtype = _LEGAL[draw(self.rng, [s for _, s in _LEGAL])][0]
        row = int(self.rng.integers(0, len(self.uscc)))
        code, founded = str(self.uscc[row]), int(self.founded[row])
        place = self.ps.get(self.divisions[row], self.city)
        # Characters 3-8 of the code name the registering authority's region.
        at_city = code[2:8] == self.city.code[:4] + "00"
        issuer: str | None
        valid: int | None = None
        if mtype == "business_licence" and code[:2] in _REGISTRATION:
            mtype = "other"
            title, registrar = _REGISTRATION[code[:2]]
            issuer = f"{self.city.city}{registrar}" if at_city else place.office(registrar)
            issued = self._day(founded)
        elif mtype == "business_licence":
            title = "营业执照"
            issuer = self._issuer("市场监督管理局", None if at_city else place)
            issued = self._day(founded)
        elif mtype == "property_certificate":
            title, issuer = "不动产权证书", f"{self.city.city}规划和自然资源局"
            issued = self._day(max(founded, _PROPERTY_FROM))
        else:
            title, department, months = self._one(_OTHER_LEGAL)
            issuer = self._issuer(department, place)
            issued = self._day(max(founded, AS_OF_DAY - 3 * 365))
            valid = issued + months * 30 if months else None
        return _Row("legal_person", code, mtype, title, issuer, issued, valid)

    def _issuer(self, department: str | None, place: Place | None) -> str | None:
        if department is None:
            return None
        if department == "公安局":
            return place.police if place else f"{self.city.city}公安局"
        if department == "税务局":
            return f"国家税务总局{self.city.city}税务局"
        return place.office(department) if place else f"{self.city.city}{department}"
