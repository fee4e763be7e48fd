"""The portal's Chinese full-text index: jieba-segmented words per dataset, and its facet values.

PostgreSQL's default text-search parser does not segment Chinese and a substring match finds
"人口" inside "工人口述", so words are cut with jieba when the catalogue syncs (`refresh`) and
stored one row per (word, dataset) with a weight by where the word occurs. A search is then
an indexed lookup of the query's words, on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable, Mapping
from functools import lru_cache

from sqlalchemy.orm import Session

from exchange.core import classification
from exchange.core.resource_schema import ResourceSchema
from exchange.directory.models import Resource
from exchange.platforms.open_data import access
from exchange.platforms.open_data.search import repository as repo

MAX_TERM = 64
# Where a word occurs decides how much it counts; a word in several places adds up.
WEIGHTS = {
    "code": 8,
    "title": 8,
    "tag": 5,
    "topic": 4,
    "provider": 3,
    "classification": 2,
    "abstract": 1,
}
# Function words jieba returns on their own; they tell nothing about a dataset.
STOPWORDS = frozenset("的了和与及或等各是在由按为对其之并从向于以中") | {"全市"}

_ready = threading.Lock()
_initialised = False


def _jieba():
    global _initialised
    import jieba

    if not _initialised:
        with _ready:
            if not _initialised:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _initialised = True
    return jieba


def _normal(token: str) -> str | None:
    token = token.strip().lower()
    if not token or token in STOPWORDS or not any(ch.isalnum() for ch in token):
        return None
    return token[:MAX_TERM]


@lru_cache(maxsize=4096)  # provider names, topics, tags and titles repeat across datasets
def index_words(text: str) -> frozenset[str]:
    """Every word and sub-word of `text` (jieba's search mode), for the index."""
    words = (_normal(t) for t in _jieba().cut_for_search(text))
    return frozenset(w for w in words if w)


def query_words(q: str) -> list[str]:
    """The words of a query (jieba's precise mode), in order, without repeats."""
    seen: dict[str, None] = {}
    for token in _jieba().cut(q):
        word = _normal(token)
        if word:
            seen.setdefault(word, None)
    return list(seen)


def sub_words(word: str) -> list[str]:
    """Smaller words inside a compound query word, used when the compound itself is unknown."""
    parts = [w for w in (_normal(t) for t in _jieba().cut_for_search(word)) if w and w != word]
    return [p for p in dict.fromkeys(parts) if len(p) > 1 or p.isascii()]


def terms_of(resource: Resource, provider_name: str) -> dict[str, int]:
    weights: dict[str, int] = {}

    def add(words: Iterable[str], weight: int) -> None:
        for w in set(words):
            weights[w] = weights.get(w, 0) + weight

    add({resource.code.lower(), *(resource.identifier or "").lower().split()}, WEIGHTS["code"])
    add(index_words(resource.title), WEIGHTS["title"])
    tag_words: set[str] = set()
    for tag in resource.tags:
        whole = _normal(tag)
        tag_words |= index_words(tag) | ({whole} if whole else set())
    add(tag_words, WEIGHTS["tag"])
    add(index_words(resource.topic or ""), WEIGHTS["topic"])
    add(index_words(provider_name), WEIGHTS["provider"])
    add(
        index_words(classification.label(resource.classification, " ").replace("/", " ")),
        WEIGHTS["classification"],
    )
    add(index_words(resource.abstract), WEIGHTS["abstract"])
    return weights


def facets_of(
    resource: Resource, provider_code: str, provider_name: str, formats: list[str]
) -> list[tuple[str, str, str]]:
    """(facet, value, label) rows; labels of code-list values are translated at display."""
    rows = [
        ("provider", provider_code, provider_name),
        ("update_cycle", resource.update_cycle, resource.update_cycle),
        ("open_class", resource.open_class, resource.open_class),
    ]
    if resource.topic:
        rows.append(("topic", resource.topic, resource.topic))
    rows += [("format", f.lower(), f) for f in formats]
    rows += [("tag", t[:200], t[:200]) for t in dict.fromkeys(resource.tags) if t.strip()]
    return rows


def source_digest(resource: Resource, provider_name: str) -> str:
    """Changes whenever anything the index is built from changes."""
    parts = (resource.schema_sha256, resource.status, resource.open_class, provider_name)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def refresh(session: Session, schemas: Mapping[str, ResourceSchema]) -> int:
    """Re-index the catalogue entries that changed since they were indexed; returns how many.

    Closed (禁止开放) and unpublished entries are removed from the index, so nothing about them
    can leak through search, facets or counts.
    """
    indexed = repo.index_digests(session)
    entries: list[repo.IndexEntry] = []
    for resource, dept_code, dept_name in repo.entries_with_providers(session):
        digest = source_digest(resource, dept_name)
        if indexed.get(resource.code) == digest:
            continue
        if not access.is_listed(resource.open_class, resource.status):
            entries.append(repo.IndexEntry(resource.code, digest, [], False, {}, []))
            continue
        schema = schemas.get(resource.code)
        formats = access.formats_of(schema, resource.open_class)
        entries.append(
            repo.IndexEntry(
                code=resource.code,
                digest=digest,
                formats=formats,
                is_geo=schema is not None and access.is_geo(schema),
                terms=terms_of(resource, dept_name),
                facets=facets_of(resource, dept_code, dept_name, formats),
            )
        )
    repo.replace_index_entries(session, entries)
    return len(entries)
