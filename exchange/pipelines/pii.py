"""Personal data where the public can see it: open datasets' served columns and API responses.

A served column (sensitivity `public`) of an open dataset may still carry what a clerk typed
into it: an ID number, a mobile number, a name with an ID number, or the credit code of an
individual business (个体工商户, GB 32100 codes starting 92: the code of a natural person's
business). On PostgreSQL each dataset is scanned whole, in one query, inside the database;
elsewhere (the small embedded node) and for HTTP responses the same patterns run in Python.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, select, text

from exchange.core.resource_schema import ResourceSchema, Sensitivity
from exchange.datastore.tables import current_name, tables_for
from exchange.quality import sql_checks as sqlc
from exchange.quality.identifiers import USCC_ALPHABET, USCC_WEIGHTS

RIC = r"(?:^|[^0-9A-Za-z])([0-9]{17}[0-9Xx])(?:[^0-9A-Za-z]|$)"
MOBILE = r"(?:^|[^0-9])(1[3-9][0-9]{9})(?:[^0-9]|$)"
INDIVIDUAL_USCC = r"(?:^|[^0-9A-Z])(92[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10})(?:[^0-9A-Z]|$)"
NAME_WITH_ID = r"([一-龥]{2,4})[ :：,，]*([0-9]{17}[0-9Xx])"
_RIC_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

# kind -> (severity, what it is)
KINDS = {
    "pii.name_with_id": ("critical", "a name next to an ID number"),
    "pii.resident_id": ("critical", "an ID number (GB 11643, valid check character)"),
    "pii.mobile": ("warning", "a mobile phone number"),
    "pii.individual_business": ("warning", "the credit code of an individual business"),
}


@dataclass(frozen=True)
class Leak:
    dataset: str
    column: str
    kind: str
    count: int
    example: str  # masked
    key: str | None  # masked key of one row holding it


def mask(kind: str, value: str) -> str:
    if kind == "pii.mobile":
        return value[:3] + "****" + value[-4:]
    if kind == "pii.name_with_id":
        return value[:1] + "*" + " " + value[-18:-12] + "********" + value[-4:]
    return value[:6] + "********" + value[-4:]


def ric_ok(number: str) -> bool:
    """A resident ID: right check character and a real birth date. An all-digit credit code
    can pass the check character by chance (1 in 11), but is then no date and a valid USCC."""
    total = sum(int(d) * w for d, w in zip(number[:17], _RIC_W, strict=True))
    if "10X98765432"[total % 11] != number[17].upper():
        return False
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return not uscc_ok(number)


def uscc_ok(code: str) -> bool:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(code[:17], USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31] == code[17]


def find(value: str) -> Iterator[tuple[str, str]]:
    """(kind, matched text) for each personal value in `value`."""
    for m in re.finditer(NAME_WITH_ID, value):
        if ric_ok(m.group(2)):
            yield "pii.name_with_id", m.group(1) + m.group(2)
    for m in re.finditer(RIC, value):
        if ric_ok(m.group(1)):
            yield "pii.resident_id", m.group(1)
    for m in re.finditer(MOBILE, value):
        yield "pii.mobile", m.group(1)
    for m in re.finditer(INDIVIDUAL_USCC, value):
        if uscc_ok(m.group(1)):
            yield "pii.individual_business", m.group(1)


def served_text_fields(schema: ResourceSchema) -> list[str]:
    """What the portal serves of a dataset: public columns. A column checked as a credit
    code is the organisation's own key, published on purpose."""
    return [
        f.name
        for f in schema.fields
        if f.sensitivity is Sensitivity.public and f.type == "string" and f.check != "cn_uscc"
    ]


def scan_dataset(engine: Engine, schema: ResourceSchema) -> list[Leak]:
    columns = served_text_fields(schema)
    if not columns:
        return []
    if engine.dialect.name == "postgresql":
        return _scan_in_database(engine, schema, columns)
    return _scan_rows(engine, schema, columns)


def _scan_in_database(engine: Engine, schema: ResourceSchema, columns: list[str]) -> list[Leak]:
    key = " || '|' || ".join(f"coalesce({sqlc.q(k)}::text, '')" for k in schema.primary_key)
    extracted = [f"({key}) AS k"]
    measures: list[str] = []
    names: list[tuple[str, str, str]] = []
    for i, col in enumerate(columns):
        c = sqlc.q(col)
        # substring(... from pattern) returns the first parenthesised group: one candidate per
        # value, enough to prove a column leaks (the count is of values, not of matches).
        extracted += [
            f"upper(substring({c} from {sqlc.literal(RIC)})) AS r{i}",
            f"substring({c} from {sqlc.literal(MOBILE)}) AS m{i}",
            f"substring({c} from {sqlc.literal(INDIVIDUAL_USCC)}) AS u{i}",
            f"substring({c} from {sqlc.literal('[一-龥]{2,4}[ :：,，]*[0-9]{17}[0-9Xx]')}) AS n{i}",
        ]
        ric_valid = f"(r{i} IS NOT NULL AND {sqlc.ric_check_char(f'r{i}')} = substr(r{i}, 18, 1))"
        named = f"(n{i} IS NOT NULL AND {ric_valid})"
        uscc_valid = f"(u{i} IS NOT NULL AND {sqlc.uscc_check_char(f'u{i}')} = substr(u{i}, 18, 1))"
        for kind, cond, value in (
            ("pii.name_with_id", named, f"n{i}"),
            ("pii.resident_id", ric_valid, f"r{i}"),
            ("pii.mobile", f"m{i} IS NOT NULL", f"m{i}"),
            ("pii.individual_business", uscc_valid, f"u{i}"),
        ):
            j = len(names)
            measures += [
                f"count(*) FILTER (WHERE {cond}) AS c{j}",
                f"min({value}) FILTER (WHERE {cond}) AS v{j}",
                f"min(k) FILTER (WHERE {cond}) AS k{j}",
            ]
            names.append((col, kind, value))
    sql = (
        f"SELECT {', '.join(measures)} FROM (SELECT {', '.join(extracted)} "
        f"FROM {sqlc.q(current_name(schema.code))} WHERE NOT _deleted) s"
    )
    with engine.connect() as conn:
        row = conn.execute(text(sql)).one()
    leaks = []
    for j, (col, kind, _) in enumerate(names):
        count = int(row[3 * j])
        if count:
            leaks.append(
                Leak(
                    schema.code,
                    col,
                    kind,
                    count,
                    mask(kind, str(row[3 * j + 1])),
                    _mask_key(row[3 * j + 2]),
                )
            )
    return leaks


def _mask_key(key: str | None) -> str | None:
    if key is None:
        return None
    return "|".join(
        part if len(part) < 11 else part[:4] + "****" + part[-2:] for part in key.split("|")
    )


def _scan_rows(engine: Engine, schema: ResourceSchema, columns: list[str]) -> list[Leak]:
    current = tables_for(schema).current
    keys = [current.c[k] for k in schema.primary_key]
    query = select(*keys, *(current.c[c] for c in columns)).where(current.c._deleted.is_(False))
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            key = "|".join(str(v) for v in row[: len(keys)])
            for col, value in zip(columns, row[len(keys) :], strict=True):
                for kind, hit in _kinds_once(find(value) if isinstance(value, str) else ()):
                    found.setdefault((col, kind), []).append((hit, key))
    return [
        Leak(schema.code, col, kind, len(hits), mask(kind, hits[0][0]), _mask_key(hits[0][1]))
        for (col, kind), hits in found.items()
    ]


def _kinds_once(hits: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """First match of each kind in a value: counts are of values, as in the SQL scan."""
    seen: dict[str, str] = {}
    for kind, hit in hits:
        seen.setdefault(kind, hit)
    return list(seen.items())
