"""Solr-style filter queries (`fq`, `fq_list`) as CKAN passes them to Solr: `field:value`,
quoted values, `AND` / `OR` / `NOT` / `-` / `+`, parentheses, `field:(a OR b)`, wildcards
`field:*`, and ranges on dates `metadata_modified:[2024-01-01T00:00:00Z TO NOW]`.

An expression is evaluated to the set of matching dataset codes over the listed catalogue
(at most some tens of thousands of entries, each with a handful of facet values), then the
search is narrowed to that set. Terms are joined by AND when no operator is given, as CKAN's
Solr schema sets. Anything else is a `Search Query Error` naming the parameter.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from exchange.directory.models import Resource
from exchange.platforms.open_data.ckan.params import SearchQueryError
from exchange.platforms.open_data.portal import repository as repo

MAX_FQ_CHARS = 2000
_TOKEN = re.compile(
    r'\s*(?:(?P<open>\()|(?P<close>\))|(?P<range>[\[{][^\]}]*[\]}])|"(?P<quoted>[^"]*)"'
    r"|(?P<colon>:)|(?P<word>[^\s():\"\[\]{}]+))"
)
_DATE_MATH = re.compile(r"^NOW(?:([+-])(\d+)(DAYS?|MONTHS?|YEARS?|HOURS?))?(?:/DAY)?$")


@dataclass(frozen=True)
class Entry:
    code: str
    values: dict[str, tuple[str, ...]]
    dates: dict[str, dt.datetime | None]


def _entries(session: Session) -> list[Entry]:
    listed = repo.listed(session)
    formats = repo.formats_of(session, [r.code for r in listed])
    return [_entry(r, formats.get(r.code, [])) for r in listed]


def _entry(r: Resource, formats: Sequence[str]) -> Entry:
    low = tuple(f.lower() for f in formats)
    provider = r.provider.code
    values = {
        "name": (r.code,),
        "id": (r.code,),
        "organization": (provider.lower(),),
        "provider": (provider, provider.lower()),
        "tags": tuple(r.tags),
        "tag": tuple(r.tags),
        "res_format": low,
        "format": low,
        "groups": (r.topic,) if r.topic else (),
        "topic": (r.topic,) if r.topic else (),
        "license_id": (r.licence,) if r.licence else (),
        "update_cycle": (r.update_cycle,),
        "open_class": (r.open_class,),
    }
    modified = r.last_updated_at or r.published_at
    return Entry(
        r.code, values, {"metadata_modified": modified, "metadata_created": r.published_at}
    )


FIELDS = {
    "name",
    "id",
    "organization",
    "provider",
    "tags",
    "tag",
    "res_format",
    "format",
    "groups",
    "topic",
    "license_id",
    "update_cycle",
    "open_class",
    "metadata_modified",
    "metadata_created",
}
Match = Callable[[Entry], bool]


class _Parser:
    def __init__(self, text: str, param: str) -> None:
        self.param = param
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise self.error(f"cannot read {text[pos : pos + 20]!r}")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.at = 0

    def error(self, why: str) -> SearchQueryError:
        return SearchQueryError(f"Search Query Error: {self.param}: {why}")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise self.error("unexpected end")
        self.at += 1
        return token

    def parse(self) -> Match:
        if not self.tokens:
            return lambda e: True
        match = self.either()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return match

    def either(self) -> Match:
        parts = [self.both()]
        while self.peek() == ("word", "OR"):
            self.take()
            parts.append(self.both())
        return parts[0] if len(parts) == 1 else (lambda e: any(p(e) for p in parts))

    def both(self) -> Match:
        parts = [self.unary()]
        while (token := self.peek()) is not None and token[0] != "close" and token[1] != "OR":
            if token == ("word", "AND"):
                self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda e: all(p(e) for p in parts))

    def unary(self) -> Match:
        token = self.peek()
        if token == ("word", "NOT") or (token and token[0] == "word" and token[1] == "-"):
            self.take()
            inner = self.unary()
            return lambda e: not inner(e)
        if token and token[0] == "word" and token[1].startswith(("-", "+")) and len(token[1]) > 1:
            self.tokens[self.at] = ("word", token[1][1:])
            inner = self.unary()
            return (lambda e: not inner(e)) if token[1][0] == "-" else inner
        return self.atom()

    def atom(self) -> Match:
        kind, text = self.take()
        if kind == "open":
            inner = self.either()
            if self.take()[0] != "close":
                raise self.error("a parenthesis is not closed")
            return inner
        if kind != "word":
            raise self.error(f"expected field:value, got {text!r}")
        if text == "*" and self.peek() == ("colon", ":"):
            self.take()
            if self.take() != ("word", "*"):
                raise self.error("only *:* has no field")
            return lambda e: True
        field = text
        if field not in FIELDS:
            raise self.error(f"unknown field {field!r}")
        if self.take()[0] != "colon":
            raise self.error(f"expected {field}:value")
        return self.value(field)

    def value(self, field: str) -> Match:
        kind, text = self.take()
        if kind == "open":  # field:(a OR b c)
            alternatives: list[Match] = []
            joiner = all
            while (token := self.take())[0] != "close":
                if token == ("word", "OR"):
                    joiner = any
                    continue
                if token == ("word", "AND"):
                    continue
                alternatives.append(self.one(field, token[0], token[1]))
            if not alternatives:
                raise self.error(f"{field}: empty parentheses")
            return lambda e: joiner(a(e) for a in alternatives)
        return self.one(field, kind, text)

    def one(self, field: str, kind: str, text: str) -> Match:
        if field in ("metadata_modified", "metadata_created"):
            if kind != "range":
                raise self.error(f"{field} takes a range such as [2024-01-01T00:00:00Z TO NOW]")
            low, high, inclusive = self.dates(text)

            def within(e: Entry) -> bool:
                when = e.dates[field]
                if when is None:
                    return False
                when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
                if inclusive:
                    return (low is None or when >= low) and (high is None or when <= high)
                return (low is None or when > low) and (high is None or when < high)

            return within
        if kind == "range":
            raise self.error(f"{field} takes no range")
        if kind not in ("word", "quoted"):
            raise self.error(f"expected a value for {field}")
        if text == "*":
            return lambda e: bool(e.values[field])
        wanted = text.lower() if field in ("organization", "res_format", "format") else text
        if wanted.endswith("*") and kind == "word":
            prefix = wanted[:-1]
            return lambda e: any(v.startswith(prefix) for v in e.values[field])
        return lambda e: wanted in e.values[field]

    def dates(self, text: str) -> tuple[dt.datetime | None, dt.datetime | None, bool]:
        inclusive = text[0] == "["
        if (text[-1] == "]") != inclusive:
            raise self.error("mixed range brackets")
        parts = text[1:-1].split()
        if len(parts) != 3 or parts[1] != "TO":
            raise self.error(f"a range is [from TO to], not {text!r}")
        return self.when(parts[0]), self.when(parts[2]), inclusive

    def when(self, text: str) -> dt.datetime | None:
        if text == "*":
            return None
        now = dt.datetime.now(dt.UTC)
        m = _DATE_MATH.match(text)
        if m:
            sign, amount, unit = m.groups()
            if sign:
                days = {"D": 1, "M": 30, "Y": 365, "H": 1 / 24}[unit[0]] * int(amount)
                now += dt.timedelta(days=days if sign == "+" else -days)
            return now
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise self.error(f"not a date: {text!r} (use 2024-01-01T00:00:00Z or NOW)") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def matching_codes(session: Session, filters: Iterable[tuple[str, str]]) -> tuple[str, ...] | None:
    """The codes matching every (param, expression); None when there is nothing to filter."""
    parsed = []
    for param, text in filters:
        if len(text) > MAX_FQ_CHARS:
            raise SearchQueryError(
                f"Search Query Error: {param}: at most {MAX_FQ_CHARS} characters"
            )
        if text.strip():
            parsed.append(_Parser(text, param).parse())
    if not parsed:
        return None
    return tuple(e.code for e in _entries(session) if all(m(e) for m in parsed))
