"""How a personal value appears to someone not allowed to see it: masked by its field's sensitivity.

Used wherever values leave their provider: quality findings (logged, stored with quarantined
batches, shown to the sending department's staff) and shared records (API, console, bulk) when
the consumer's grant does not allow plain values. No personal value may appear in clear,
whatever its length or shape.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from exchange.core.resource_schema import FieldSpec, ResourceSchema, Sensitivity

MAX_VALUE_CHARS = 64
# Fields a GB 11643 ID number is made of: its birth date (digits 7-14) and its gender (the parity
# of digit 17). Shown beside a masked ID number they rebuild it, so they are withheld with it.
RIC_PART_CHECKS = frozenset({"ric_birth_date", "ric_gender"})
_RIC_PART_NAME = re.compile(r"(^|_)(birth|birthday|dob|gender|sex)(_|$)", re.IGNORECASE)


def display(value: object, spec: FieldSpec) -> str:
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    masked = mask(text, sensitivity_of(spec))
    if len(masked) > MAX_VALUE_CHARS:
        return masked[: MAX_VALUE_CHARS - 1] + "…"
    return masked


def sensitivity_of(spec: FieldSpec) -> Sensitivity:
    # A field checked as an ID number holds ID numbers even if its schema forgot to say so.
    if spec.check == "cn_ric":
        return Sensitivity.personal_id
    return spec.sensitivity


def derived_from(schema: ResourceSchema) -> dict[str, tuple[str, ...]]:
    """Each field that is a part of an identifier in the row, with those identifiers.

    A field checked `ric_birth_date` or `ric_gender` is a part of the row's ID numbers; so is a
    field named like one (birth_date, gender, sex, ...) in a schema that declares no such check,
    as resources catalogued at runtime may not. The region (digits 1-6) is not withheld: the
    masked form shows it (330106********1234).
    """
    ids = tuple(f.name for f in schema.fields if sensitivity_of(f) is Sensitivity.personal_id)
    if not ids:
        return {}
    return {
        f.name: ids
        for f in schema.fields
        if f.name not in ids
        and (f.check in RIC_PART_CHECKS or (f.check is None and _RIC_PART_NAME.search(f.name)))
    }


def hidden_fields(
    schema: ResourceSchema, fields: Iterable[str], plain: Collection[str]
) -> list[str]:
    """Of `fields`, those a grant allowing `plain` sees masked: the personal fields not in
    plain, and the parts of an identifier not in plain. Masking is judged on the whole row."""
    parts = derived_from(schema)
    return [
        f
        for f in fields
        if (sensitivity_of(schema.field(f)).is_personal and f not in plain)
        or any(i not in plain for i in parts.get(f, ()))
    ]


def mask(text: str, sensitivity: Sensitivity) -> str:
    match sensitivity:
        case Sensitivity.personal_id:
            # 330106********1234; shorter (malformed) values keep proportionally less.
            return _keep_ends(text, hidden_at_least=8, head=6, tail=4)
        case Sensitivity.contact:
            return _keep_ends(text, hidden_at_least=4, head=3, tail=4)  # 138****1234
        case Sensitivity.personal_name:
            return text[:1] + "*" * max(len(text) - 1, 1)  # 张*
        case Sensitivity.address:
            return text[:6] + "****"  # 浙江省杭州市****
        case Sensitivity.secret:
            return "****"
    return text


def _keep_ends(text: str, *, hidden_at_least: int, head: int, tail: int) -> str:
    visible = max(len(text) - hidden_at_least, 0)
    keep_tail = min(tail, (visible + 1) // 2)
    keep_head = min(head, visible - keep_tail)
    hidden = len(text) - keep_head - keep_tail
    return text[:keep_head] + "*" * hidden + text[len(text) - keep_tail :]
