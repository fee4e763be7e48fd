"""一数一源: each data item has one source department. A draft's item that another department
already provides as its own source is flagged for the reviewer, with that resource named.

"The same item" is judged by what identifies it, not by a common word: the existing item is
the key of its resource or carries an identifying check (公民身份号码, 统一社会信用代码), and
the new one, a non-key attribute of the draft, has the same title, or the same name and
check. An item whose `source` names the
other department already says it is that department's data, and is not flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class SourceFlag:
    field: str
    title: str
    existing_resource: str
    existing_field: str
    source_department: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# checks that identify a subject (a person, a company); a division code only names a place
IDENTIFYING_CHECKS = frozenset({"cn_ric", "cn_uscc"})


def _identifying(d: dict[str, Any], keys: Sequence[str]) -> list[dict[str, Any]]:
    return [
        f
        for f in d.get("fields", [])
        if f.get("check") in IDENTIFYING_CHECKS
        or (f.get("name") in keys and f.get("check") != "division")
    ]


def flag_sources(
    draft: dict[str, Any], provider: str, in_force: Sequence[tuple[str, str, dict[str, Any]]]
) -> list[SourceFlag]:
    own_code = draft.get("name")
    own_keys = draft.get("primaryKey") or []
    own_keys = [own_keys] if isinstance(own_keys, str) else own_keys
    flags: list[SourceFlag] = []
    for item in draft.get("fields", []):
        source = item.get("source") or provider
        if source != provider:
            continue  # declared as another department's data: used, not re-collected
        if item.get("name") in own_keys:
            continue  # the draft's own key identifies its own records (编号 is everyone's)
        for code, dept, descriptor in in_force:
            if code == own_code:
                continue
            keys = descriptor.get("primaryKey") or []
            keys = [keys] if isinstance(keys, str) else keys
            hit = next(
                (
                    f
                    for f in _identifying(descriptor, keys)
                    if (f.get("source") or dept) != provider
                    and (
                        (item.get("title") and f.get("title") == item.get("title"))
                        or (
                            f.get("name") == item.get("name")
                            and f.get("check")
                            and f.get("check") == item.get("check")
                        )
                    )
                ),
                None,
            )
            if hit is not None:
                flags.append(
                    SourceFlag(
                        field=str(item.get("name")),
                        title=str(item.get("title") or item.get("name")),
                        existing_resource=code,
                        existing_field=str(hit.get("name")),
                        source_department=str(hit.get("source") or dept),
                    )
                )
                break
    return flags
