"""What the catalogue refuses, each naming the field or the rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from exchange.core.errors import Conflict, Forbidden, HubError, NotFound, Unprocessable


class InvalidDescriptor(Unprocessable):
    """A data item or catalogue field the hub cannot take (the same check as schema files)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}", problems=[{"field": where, "message": problem}])


class IncompleteCatalogue(Unprocessable):
    def __init__(self, code: str, missing: list[str]) -> None:
        super().__init__(
            f"{code}: cannot be submitted or published without {', '.join(missing)}",
            problems=[{"field": m, "rule": "required"} for m in missing],
        )


class ResourceCodeTaken(Conflict):
    def __init__(self, code: str) -> None:
        super().__init__(f"name: resource code {code!r} is already catalogued on this node")


class CatalogueEntryNotFound(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(f"resource {code!r} is not in this node's catalogue")


class VersionNotFound(NotFound):
    def __init__(self, code: str, number: int) -> None:
        super().__init__(f"resource {code!r} has no published version {number}")


class NotOwnDepartment(Forbidden):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what}: only staff of the provider department may do this")


class NotBureau(Forbidden):
    def __init__(self, action: str, bureau: str) -> None:
        super().__init__(f"{action}: only the bureau's staff (department {bureau}) may do this")


class OwnSubmission(Forbidden):
    def __init__(self, actor: str) -> None:
        super().__init__(f"review: {actor} submitted this resource and cannot review it too")


class WrongStatus(Conflict):
    def __init__(self, code: str, action: str, status: str, allowed: tuple[str, ...]) -> None:
        super().__init__(
            f"{code}: cannot {action} a resource in status {status!r} "
            f"(only when {' or '.join(allowed)})"
        )


class ReasonRequired(Unprocessable):
    def __init__(self, action: str) -> None:
        super().__init__(
            f"reasons: {action} needs at least one reason",
            problems=[{"field": "reasons", "rule": "required"}],
        )


class BreakingChange(Conflict):
    def __init__(self, code: str, problems: list[dict[str, Any]]) -> None:
        first = problems[0]
        super().__init__(
            f"{code}: field {first['field']!r}: {first['message']}; a published resource's "
            "data items change only compatibly: catalogue a new resource instead",
            problems=problems,
        )


class ResourceWithdrawn(HubError):
    status_code = 410

    def __init__(self, code: str) -> None:
        super().__init__(f"resource {code!r} was withdrawn (停用): its data is kept, not served")


class NotPublished(Conflict):
    def __init__(self, code: str, status: str) -> None:
        super().__init__(f"resource {code!r} is {status}, not published: it accepts no batches")


class VersionNotAccepted(Conflict):
    def __init__(self, code: str, version: int, current: int, deadline: dt.datetime | None) -> None:
        when = f"its grace period ended at {deadline.isoformat()}" if deadline else "it is gone"
        super().__init__(
            f"X-Batch-Schema-Version: resource {code!r} version {version} is no longer "
            f"accepted ({when}); write against version {current}"
        )
