"""FastAPI dependencies shared by every platform. The request's transaction ends here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from exchange.core.runtime import Runtime
from exchange.core.settings import Settings


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_settings(request: Request) -> Settings:
    return get_runtime(request).settings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed before the response is sent, else rolled back.

    What must be recorded even when the request fails (rate counters, refused-access audit)
    is registered with `keep_on_failure` and written in a second, small transaction.
    """
    session = get_runtime(request).sessions()
    request.state.keep_on_failure = []
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        if request.state.keep_on_failure:
            for record in request.state.keep_on_failure:
                record(session)
            session.commit()
        raise
    finally:
        session.close()


def keep_on_failure(request: Request, record: Callable[[Session], object]) -> None:
    request.state.keep_on_failure.append(record)


def commit_so_far(request: Request, session: Session) -> None:
    """Commit what the request has done until now (authentication, rate counts), so that no
    transaction, and on SQLite no write lock, stays open across a long wait such as an upload.
    What was to be kept on failure is kept already; the rest of the request commits later."""
    session.commit()
    request.state.keep_on_failure = []


# scope="function" ends the dependency (commit) before the response goes out, so a client
# never sees success for a write that later fails to commit.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_read_session(request: Request) -> Iterator[Session]:
    """A read-only session: on the replica while it is fresh, else on the primary. Never write."""
    session = get_runtime(request).reads.read_sessions()()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


ReadSession = Annotated[Session, Depends(get_read_session)]
