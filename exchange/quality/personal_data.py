"""Personal data where there should be none: the one detector behind every PII scan.

A served column (sensitivity `public`) of an open dataset may still carry what a clerk typed
into it. The detector looks for:
* `resident_id`: 18 characters that are a GB 11643 number: right check character (python-stdnum),
  a province code (GB/T 2260, as stdnum lists them) in front and a real birth date since 1900.
  An all-digit credit code passes the MOD 11-2 check 1 time in 11, but its first two digits
  are an authority and type code (91, 92 ... for businesses) and its "date" is made of county
  and organisation digits: one in tens of thousands passes all three. (Ruling out every valid
  credit code instead would miss the 1 in 31 real ID numbers that happen to be one.);
* `name_with_id`: a name (2-4 Han characters, none of 证 号 码, so that a label such as
  身份证号码 is no name) right before such a number: who it is;
* `resident_id_15`: a first-generation (pre-1999) 15-digit ID number: province code and a
  real 19YYMMDD birth date; it has no check character, so it is a warning, not proof;
* `mobile`: a mainland mobile number (11 digits, 13x-19x), also with the country code
  (`+86 138...`, `86138...`): critical, since an open dataset has no business publishing one;

Numbers are read as people write them: full-width digits (１３８) count as digits, and spaces
or dashes between digits (`330106 1990 0101 123X`, `138-1234-5678`) are ignored (`normalize`,
and `sql_normalized`, its SQL twin).
* `individual_business`: the credit code of an individual business (个体工商户, GB 32100 codes
  starting 92: the code of a natural person's business), with a valid check character;
* `email`: an e-mail address.

Two forms of the same rules: `find` for text in Python (the portal's sample scan, public API
responses, visitors' feedback), and `SqlScan` for a whole table inside PostgreSQL (the security
pipeline). Each pattern below is both a Python and a PostgreSQL regular expression with one
group, the value; the SQL form of the checks is `sql_checks`' arithmetic, and tests hold the two
forms to the same verdicts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from exchange.core import masking
from exchange.core.resource_schema import ResourceSchema, Sensitivity
from exchange.quality import sql_checks as sqlc


class Kind(StrEnum):
    name_with_id = "name_with_id"
    resident_id = "resident_id"
    resident_id_15 = "resident_id_15"
    mobile = "mobile"
    individual_business = "individual_business"
    email = "email"


# kind -> (severity of a finding, what it is)
KINDS: dict[Kind, tuple[str, str]] = {
    Kind.name_with_id: ("critical", "a name next to an ID number"),
    Kind.resident_id: ("critical", "an ID number (GB 11643, valid check character and date)"),
    Kind.resident_id_15: ("warning", "a 15-digit (first-generation) ID number"),
    Kind.mobile: ("critical", "a mobile phone number"),
    Kind.individual_business: ("warning", "the credit code of an individual business"),
    Kind.email: ("warning", "an e-mail address"),
}

_ID = "[0-9]{17}[0-9Xx]"


def _han_except(excluded: str) -> str:
    """A bracket expression of the CJK unified ideographs 一..龥 without `excluded` (literal
    characters: the one spelling Python and PostgreSQL both read)."""
    bounds, low = [], ord("一")
    for c in sorted(map(ord, excluded)):
        bounds.append(f"{chr(low)}-{chr(c - 1)}")
        low = c + 1
    return "[" + "".join(bounds) + f"{chr(low)}-龥]"


PATTERNS: dict[Kind, str] = {
    Kind.name_with_id: f"({_han_except('证号码')}{{2,4}}[ :：,，]*{_ID})(?:[^0-9A-Za-z]|$)",
    Kind.resident_id: f"(?:^|[^0-9A-Za-z])({_ID})(?:[^0-9A-Za-z]|$)",
    Kind.resident_id_15: "(?:^|[^0-9A-Za-z])([0-9]{15})(?:[^0-9A-Za-z]|$)",
    Kind.mobile: "(?:^|[^0-9])(?:[+]?86)?(1[3-9][0-9]{9})(?:[^0-9]|$)",
    Kind.individual_business: "(?:^|[^0-9A-Z])(92[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10})(?:[^0-9A-Z]|$)",
    Kind.email: "([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:[.][A-Za-z0-9-]+)+)",
}
_COMPILED = {kind: re.compile(pattern) for kind, pattern in PATTERNS.items()}

# Full-width digits, X, plus, dash and the ideographic space, as an IME types them.
_WIDE, _NARROW = "０１２３４５６７８９Ｘｘ＋－　", "0123456789Xx+- "
_WIDTHS = str.maketrans(_WIDE, _NARROW)
# Separators between digits (the group kept, the lookahead not consumed: "1 2 3" -> "123").
_SEPARATED = "([0-9])[ -]+(?=[0-9Xx])"
_SEPARATED_RE = re.compile(_SEPARATED)


def normalize(text: str) -> str:
    """`text` as the patterns read it: narrow digits, no spaces or dashes between digits."""
    return _SEPARATED_RE.sub(r"\1", text.translate(_WIDTHS))


@dataclass(frozen=True)
class Leak:
    """Personal data found in one column of one dataset (or a column that says it holds some)."""

    dataset: str
    column: str
    kind: str  # a Kind, or "personal_column"
    count: int  # values holding it (in the sample, or in the table)
    example: str  # masked
    key: str | None = None  # masked key of one row holding it


EARLIEST_BIRTH_YEAR = 1900


@cache
def provinces() -> frozenset[str]:
    """The two-digit province codes python-stdnum knows (11 北京 ... 82 澳门)."""
    return frozenset(
        f"{p:02d}"
        for _, low, high, _, _ in numdb.get("cn/loc").prefixes
        for p in range(int(low), int(high) + 1)
    )


# -- in Python ---------------------------------------------------------------------------------
def is_resident_id(number: str) -> bool:
    number = number.upper()
    if number[:2] not in provinces():
        return False
    try:
        if ric.calc_check_digit(number) != number[17]:
            return False
        born = ric.get_birth_date(number)
    except (ValidationError, ValueError):
        return False
    return born.year >= EARLIEST_BIRTH_YEAR and born <= dt.date.today()


def is_credit_code(code: str) -> bool:
    try:
        return bool(uscc.calc_check_digit(code[:17]) == code[17])
    except (ValidationError, ValueError):  # a character outside the GB 32100 alphabet
        return False


def is_resident_id_15(number: str) -> bool:
    if len(number) != 15 or not number.isdigit() or number[:2] not in provinces():
        return False
    try:
        born = dt.date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    except ValueError:
        return False
    return born <= dt.date.today()


def _accept(kind: Kind, value: str) -> bool:
    if kind is Kind.name_with_id:
        return is_resident_id(value[-18:])
    if kind is Kind.resident_id:
        return is_resident_id(value)
    if kind is Kind.resident_id_15:
        return is_resident_id_15(value)
    if kind is Kind.individual_business:
        return is_credit_code(value)
    return True


def find(text: str) -> Iterator[tuple[Kind, str]]:
    """(kind, value) for each piece of personal data in `text` (values as `normalize`d)."""
    text = normalize(text)
    for kind, pattern in _COMPILED.items():
        for m in pattern.finditer(text):
            if _accept(kind, m.group(1)):
                yield kind, m.group(1)


def first_of_each(text: str) -> dict[Kind, str]:
    """The first value of each kind in `text`: counts are of values holding a kind, as in SQL."""
    found: dict[Kind, str] = {}
    for kind, value in find(text):
        found.setdefault(kind, value)
    return found


def mask(kind: str, value: str) -> str:
    """A found value as a finding shows it: masked by `core.masking`, as the field it belongs
    in would be (an ID number or a business code as a personal ID, a mobile as a contact)."""
    if kind == Kind.email:
        name, _, domain = value.partition("@")
        return name[:1] + "***@" + domain
    if kind == Kind.name_with_id:
        return value[:1] + "* " + masking.mask(value[-18:], Sensitivity.personal_id)
    if kind == Kind.mobile:
        return masking.mask(value, Sensitivity.contact)
    return masking.mask(value, Sensitivity.personal_id)


def mask_key(key: str | None) -> str | None:
    if key is None:
        return None
    return "|".join(p if len(p) < 11 else p[:4] + "****" + p[-2:] for p in key.split("|"))


def redact(text: str) -> str:
    """`text` with every piece of personal data masked (what visitors wrote, shown back;
    digits written wide or spaced out come back narrow and joined, masked)."""
    text = normalize(text)
    for kind, value in sorted(set(find(text)), key=lambda m: -len(m[1])):
        text = text.replace(value, mask(kind, value))
    return text


def scanned_fields(schema: ResourceSchema) -> list[str]:
    """What a scan reads: the served (`public`) text columns. A column checked as a credit code
    is the organisation's own key, published on purpose."""
    return [
        f.name
        for f in schema.fields
        if f.sensitivity is Sensitivity.public and f.type == "string" and f.check != "cn_uscc"
    ]


# -- in PostgreSQL -----------------------------------------------------------------------------
def _sql_resident_id(name: str) -> str:
    """The candidate in column `name` (upper-cased) passes `is_resident_id`, as SQL. CASE fixes
    the order: the date arithmetic runs only on a well-formed YYYYMMDD."""
    v = sqlc.q(name)
    year, month, day = (f"substr({v}, {a}, {n})::int" for a, n in ((7, 4), (11, 2), (13, 2)))
    last_day = f"extract(day from make_date({year}, {month}, 1) + interval '1 month - 1 day')"
    since = EARLIEST_BIRTH_YEAR // 100
    return (
        f"(CASE WHEN {v} IS NULL OR substr({v}, 1, 2) NOT IN {sqlc.in_list(sorted(provinces()))}"
        f" OR {sqlc.ric_check_char(name)} <> substr({v}, 18, 1) THEN false"
        f" WHEN substr({v}, 7, 8) !~ '^({since}|{since + 1})[0-9]{{2}}"
        "(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$' THEN false"
        f" WHEN {day} > {last_day} THEN false"
        f" ELSE make_date({year}, {month}, {day}) <= current_date END)"
    )


def sql_normalized(column: str) -> str:
    """`normalize` in PostgreSQL, over the quoted column `column`."""
    widths = f"translate({column}, {sqlc.literal(_WIDE)}, {sqlc.literal(_NARROW)})"
    return f"regexp_replace({widths}, {sqlc.literal(_SEPARATED)}, '\\1', 'g')"


def _sql_resident_id_15(name: str) -> str:
    """`is_resident_id_15` as SQL, the date arithmetic only on well-formed digits."""
    v = sqlc.q(name)
    year, month, day = (f"substr({v}, {a}, 2)::int" for a in (7, 9, 11))
    last_day = (
        f"extract(day from make_date(1900 + {year}, {month}, 1) + interval '1 month - 1 day')"
    )
    return (
        f"(CASE WHEN {v} IS NULL OR substr({v}, 1, 2) NOT IN {sqlc.in_list(sorted(provinces()))}"
        f" THEN false WHEN substr({v}, 9, 4) !~ '^(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$'"
        f" THEN false WHEN {day} > {last_day} THEN false"
        f" ELSE make_date(1900 + {year}, {month}, {day}) <= current_date END)"
    )


@dataclass(frozen=True)
class SqlScan:
    """The detector over one column as SQL. `extract()` are select-list items pulling one
    candidate per kind out of each value; `found(kind)` is true where that candidate passes the
    kind's checks and `value(kind)` names it (the text an example is masked from)."""

    column: str
    i: int

    def value(self, kind: Kind) -> str:
        return f"{kind.value}_{self.i}"

    def _number(self) -> str:  # the ID number of a name_with_id candidate
        return f"name_id_{self.i}"

    def extract(self) -> list[str]:
        c = sql_normalized(sqlc.q(self.column))
        # substring(... from pattern) returns the pattern's group: one candidate per value,
        # enough to count the values holding each kind.
        out = []
        for kind, pattern in PATTERNS.items():
            found = f"substring({c} from {sqlc.literal(pattern)})"
            if kind is Kind.resident_id:
                found = f"upper({found})"
            out.append(f"{found} AS {sqlc.q(self.value(kind))}")
            if kind is Kind.name_with_id:
                out.append(f"upper(right({found}, 18)) AS {sqlc.q(self._number())}")
        return out

    def found(self, kind: Kind) -> str:
        if kind is Kind.name_with_id:
            return _sql_resident_id(self._number())
        if kind is Kind.resident_id:
            return _sql_resident_id(self.value(kind))
        if kind is Kind.resident_id_15:
            return _sql_resident_id_15(self.value(kind))
        v = sqlc.q(self.value(kind))
        if kind is Kind.individual_business:
            name = self.value(kind)
            return f"({v} IS NOT NULL AND {sqlc.uscc_check_char(name)} = substr({v}, 18, 1))"
        return f"({v} IS NOT NULL)"
