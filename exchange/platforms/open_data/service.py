"""Open-data platform rules: what the public may see."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from exchange.directory.models import Resource
from exchange.platforms.open_data import repository as repo


def public_datasets(session: Session) -> Sequence[Resource]:
    return repo.public_resources(session)


def package_names(session: Session) -> list[str]:
    return [r.code for r in repo.public_resources(session)]
