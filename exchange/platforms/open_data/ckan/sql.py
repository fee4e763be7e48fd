"""CKAN's `datastore_search_sql`, made safe: one SELECT, parsed by a real SQL parser (sqlglot),
every node of it on an allow-list, every table an open dataset, and only its public columns.

Each table named is replaced by a subquery over the dataset's served columns of its live rows,
so `SELECT *` and any reference to a withheld column can only see what `datastore_search`
shows; a function not on the list (pg_sleep, pg_read_file, set_config, ...), a second
statement, SELECT INTO, FOR UPDATE, a CTE or a system table is refused with CKAN's
`Validation Error` on `sql` before anything runs. What runs is time-boxed and read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from exchange.core import values
from exchange.platforms.open_data.ckan import params as ckan
from exchange.platforms.open_data.ckan.datastore import _RESOURCE_SUFFIX
from exchange.platforms.open_data.ckan.params import Context
from exchange.platforms.open_data.datastore import repository as ds
from exchange.platforms.open_data.portal import service

MAX_SQL_CHARS = 4000
MAX_ROWS = 32_000
TIMEOUT_MS = 5_000
ALLOWED = frozenset(
    {
        # shape of a query
        exp.Select, exp.From, exp.Join, exp.Where, exp.Group, exp.Having, exp.Order,
        exp.Ordered, exp.Limit, exp.Offset, exp.Distinct, exp.Table, exp.TableAlias,
        exp.Alias, exp.Column, exp.Identifier, exp.Star, exp.Literal, exp.Null,
        exp.Boolean, exp.Paren, exp.Tuple, exp.Subquery, exp.DataType,
        # logic and comparison
        exp.And, exp.Or, exp.Not, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE,
        exp.Like, exp.ILike, exp.In, exp.Between, exp.Is, exp.Case, exp.If,
        # arithmetic and text
        exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg, exp.DPipe, exp.Concat,
        exp.Lower, exp.Upper, exp.Length, exp.Substring, exp.Trim, exp.Round, exp.Abs,
        exp.Coalesce, exp.Cast, exp.Extract, exp.Var,
        # aggregates
        exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max,
    }
)  # fmt: skip


def _refuse(why: str) -> ckan.ValidationError:
    return ckan.ValidationError("sql", why)


def parse(sql: str) -> exp.Select:
    """The one SELECT in `sql`, every node of it allowed; a Validation Error says why not."""
    if len(sql) > MAX_SQL_CHARS:
        raise _refuse(f"at most {MAX_SQL_CHARS} characters")
    try:
        trees = [t for t in sqlglot.parse(sql, read="postgres") if t is not None]
    except ParseError as exc:
        raise _refuse(f"cannot parse: {str(exc).splitlines()[0]}") from None
    if len(trees) != 1:
        raise _refuse("exactly one statement, a SELECT")
    tree = trees[0]
    if not isinstance(tree, exp.Select):
        raise _refuse(f"only SELECT is allowed, not {tree.key.upper()}")
    for node in tree.walk():
        if type(node) not in ALLOWED:
            name = node.sql(dialect="postgres")[:60] if isinstance(node, exp.Func) else node.key
            raise _refuse(f"not allowed in a datastore query: {name}")
    return tree


def datastore_search_sql(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    """A read-only SQL SELECT over open datasets' public columns (tables named by resource id;
    5 s at most, 32,000 rows at most)."""
    sql = ckan.string(params, "sql", required=True) or ""
    tree = parse(sql)
    dialect = ctx.session.get_bind().dialect
    for table in list(tree.find_all(exp.Table)):
        if table.args.get("db") or table.args.get("catalog"):
            raise _refuse(f"name datasets by resource id only, not {table.sql()}")
        code = _RESOURCE_SUFFIX.sub("", table.name)
        _, schema = service.readable_schema(ctx.session, ctx.schemas, code, ctx.api_key_id)
        public = (
            ds.Columns(schema)
            .base()
            .compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        )
        alias = table.alias or table.name
        inner = sqlglot.parse_one(str(public), read=_dialect(dialect.name))
        table.replace(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias))))
    limit = tree.args.get("limit")
    if limit is None or not _within(limit, MAX_ROWS):
        tree = tree.limit(MAX_ROWS + 1)
    text = tree.sql(dialect=_dialect(dialect.name))
    try:
        names, rows = ds.run_select(ctx.session, text, timeout_ms=TIMEOUT_MS)
    except ds.QueryFailed as exc:
        raise _refuse(str(exc)) from None
    if len(rows) > MAX_ROWS:
        raise _refuse(f"more than {MAX_ROWS} rows: add a LIMIT or narrow the query")
    return {
        "sql": sql,
        "records": [
            {n: values.jsonable(v) for n, v in zip(names, row, strict=True)} for row in rows
        ],
        "fields": [{"id": n, "type": "text"} for n in names],
        "records_format": "objects",
    }


def _within(limit: exp.Expression, most: int) -> bool:
    value = limit.args.get("expression")
    return isinstance(value, exp.Literal) and value.is_int and int(value.this) <= most


def _dialect(name: str) -> str:
    return "postgres" if name == "postgresql" else "sqlite"
