"""Which schema version a batch may be written against: the one in force, or its predecessor
until the grace deadline the newer version set when it was published."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from exchange.catalogue import repository as repo
from exchange.catalogue.errors import VersionNotAccepted


def accepts_previous(session: Session, code: str, declared: int | None, now: dt.datetime) -> bool:
    """True when the batch may lack what the version in force added (it was written against
    the previous one, within its grace period); VersionNotAccepted when the version it names
    is not (or no longer) accepted. A batch naming no version is held to the one in force,
    unless the previous one is still in its grace period (connectors that predate versions)."""
    resource = repo.get(session, code)
    current = resource.current_version if resource is not None else None
    if resource is None or current is None:
        if declared not in (None, 1):
            raise VersionNotAccepted(code, declared or 0, 1, None)
        return False
    if declared == current:
        return False
    if declared is not None and declared > current:
        raise VersionNotAccepted(code, declared, current, None)
    previous = current - 1 if declared is None else declared
    if previous < 1:
        return False
    successor = repo.version(session, resource.id, previous + 1)
    deadline = successor.previous_until if successor is not None else None
    open_ = deadline is not None and now < deadline
    if declared is None:
        return open_
    if not open_:
        raise VersionNotAccepted(code, declared, current, deadline)
    return True
