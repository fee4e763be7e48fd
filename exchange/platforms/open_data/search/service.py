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

from exchange.core import classification, divisions
from exchange.core.resource_schema import ResourceSchema
from exchange.directory.models import Resource
from exchange.platforms.open_data import access
from exchange.platforms.open_data.search import repository as repo

MAX_TERM = 64
# Bumped when what the index holds changes (2: pinyin, characters, places), so a refresh
# re-indexes every entry built the old way.
INDEX_VERSION = "2"
# Where a word occurs decides how much it counts; a word in several places adds up.
WEIGHTS = {
    "code": 8,
    "title": 8,
    "tag": 5,
    "topic": 4,
    "provider": 3,
    "classification": 2,
    "abstract": 1,
    "pinyin": 3,
    "character": 1,
    "place": 1,
}
# What citizens type for what the catalogue calls otherwise (one direction: query -> index).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "营业执照": ("法人", "企业"),
    "公司": ("企业", "法人"),
    "工商": ("企业", "法人"),
    "户口": ("人口",),
    "户籍": ("人口",),
    "地图": ("地理", "地址"),
    "gdp": ("经济", "生产总值"),
    "物价": ("cpi", "价格"),
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


def pinyin_of(words: Iterable[str]) -> set[str]:
    """Full pinyin and initials of each Chinese word of two or more characters (人口 ->
    renkou, rk), so a citizen typing on a Latin keyboard finds it."""
    from pypinyin import lazy_pinyin

    out: set[str] = set()
    for word in words:
        if len(word) < 2 or not all(_is_han(ch) for ch in word):
            continue
        syllables = lazy_pinyin(word)
        out.add("".join(syllables)[:MAX_TERM])
        out.add("".join(s[0] for s in syllables if s)[:MAX_TERM])
    return out


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def characters_of(text: str) -> set[str]:
    """Each Chinese character on its own: a one-character query (人) finds 人口."""
    return {ch for ch in text if _is_han(ch) and ch not in STOPWORDS}


def places_of(node_code: str) -> set[str]:
    """The names of the provider's division and, below it, each district's: a city's data
    covers its districts, so 西湖区 finds the city's datasets too (at the lowest weight)."""
    own = divisions.get(node_code)
    names = {own.name} if own else set()
    names |= {d.name for d in divisions.children_of(node_code)}
    out: set[str] = set()
    for name in names:
        whole = _normal(name)
        out |= index_words(name) | ({whole} if whole else set())
    return out


def terms_of(
    resource: Resource, provider_name: str, node_code: str | None = None
) -> dict[str, int]:
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
    named = index_words(resource.title) | tag_words | index_words(resource.topic or "")
    add(pinyin_of(named), WEIGHTS["pinyin"])
    add(characters_of(resource.title + "".join(resource.tags)), WEIGHTS["character"])
    if node_code:
        add(places_of(node_code), WEIGHTS["place"])
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
    parts = (
        INDEX_VERSION,
        resource.schema_sha256,
        resource.status,
        resource.open_class,
        provider_name,
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def refresh(session: Session, schemas: Mapping[str, ResourceSchema]) -> int:
    """Re-index the catalogue entries that changed since they were indexed; returns how many.

    Closed (禁止开放) and unpublished entries are removed from the index, so nothing about them
    can leak through search, facets or counts.
    """
    indexed = repo.index_digests(session)
    entries: list[repo.IndexEntry] = []
    for resource, dept_code, dept_name, node_code in repo.entries_with_providers(session):
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
                terms=terms_of(resource, dept_name, node_code),
                facets=facets_of(resource, dept_code, dept_name, formats),
            )
        )
    repo.replace_index_entries(session, entries)
    return len(entries)
