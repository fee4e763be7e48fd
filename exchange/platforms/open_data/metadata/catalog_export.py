"""The whole catalogue at once: every listed dataset for DCAT, CSV and the sitemap."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

from sqlalchemy.orm import Session, sessionmaker

from exchange.platforms.open_data.datastore.exports import BOM
from exchange.platforms.open_data.portal import repository as repo
from exchange.platforms.open_data.portal import service

PAGE = 500
COLUMNS = (
    "code",
    "identifier",
    "title",
    "abstract",
    "classification",
    "provider_code",
    "provider_name",
    "open_class",
    "update_cycle",
    "topic",
    "tags",
    "licence",
    "formats",
    "published_at",
    "last_updated_at",
    "row_count",
    "quality_score",
    "overdue",
    "landing_page",
)


def _pages(session: Session, schemas: service.Schemas) -> Iterator[list[service.Card]]:
    offset = 0
    while True:
        rows = repo.listed(session, limit=PAGE, offset=offset)
        if not rows:
            return
        yield service.cards(session, schemas, [(r, 0) for r in rows])
        offset += PAGE


def all_cards(session: Session, schemas: service.Schemas) -> list[service.Card]:
    return [card for page in _pages(session, schemas) for card in page]


def _when(value: dt.datetime | None) -> str:
    return value.isoformat() if value else ""


def catalogue_csv(
    sessions: sessionmaker[Session], schemas: service.Schemas, base: str
) -> Iterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    yield BOM + buf.getvalue().encode()
    with sessions() as session:
        for page in _pages(session, schemas):
            buf.seek(0)
            buf.truncate()
            for card in page:
                r = card.resource
                writer.writerow(
                    (
                        r.code,
                        r.identifier or "",
                        r.title,
                        r.abstract,
                        r.classification,
                        r.provider.code,
                        r.provider.name,
                        r.open_class,
                        r.update_cycle,
                        r.topic or "",
                        ";".join(r.tags),
                        r.licence or "",
                        ";".join(card.formats),
                        _when(r.published_at),
                        _when(r.last_updated_at),
                        r.row_count,
                        f"{card.quality.score:.2f}",
                        "true" if card.overdue else "false",
                        f"{base}/datasets/{r.code}",
                    )
                )
            yield buf.getvalue().encode()


def sitemap_entries(session: Session) -> list[tuple[str, dt.datetime | None]]:
    entries: list[tuple[str, dt.datetime | None]] = [("/", None), ("/datasets", None)]
    entries.append(("/developers", None))
    for r in repo.listed(session):
        entries.append((f"/datasets/{r.code}", r.last_updated_at or r.published_at))
        entries.append((f"/datasets/{r.code}/api", None))
    return entries
