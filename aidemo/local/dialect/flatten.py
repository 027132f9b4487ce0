"""Snowflake's FLATTEN table function as a sqlglot transform to a DuckDB lateral subquery over
``json_tree``: ``, LATERAL FLATTEN(input => v:items) f`` and ``TABLE(FLATTEN(...))``."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.snowflake import Snowflake

from aidemo.local.dialect.jsonsql import as_json, build, extract, json_path, refuse
from aidemo.local.errors import SqlError

# FLATTEN's rows: each element (every descendant when recursive) of the input's array or object,
# THIS being the container it is in; with OUTER, one row of NULLs for an input with no element.
_FLATTEN_ROWS = """SELECT __seq AS "SEQ",
    CASE WHEN json_type(json_extract(__in, e.path)) <> 'ARRAY' THEN e.key END AS "KEY",
    regexp_replace(__prefix || substr(regexp_replace(e.fullkey, '\\."([^"]*)"', '[''\\1'']', 'g'), 2), '^\\.', '')
    AS "PATH", CASE WHEN json_type(json_extract(__in, e.path)) = 'ARRAY' THEN CAST(e.key AS BIGINT) END AS "INDEX",
    e.value AS "VALUE", json_extract(__in, e.path) AS "THIS"
    FROM json_tree(__in) AS e WHERE e.id <> 0 AND json_type(__in) IN ('ARRAY', 'OBJECT') AND (__depth)"""
_FLATTEN_OUTER = """SELECT __seq, NULL, NULL, NULL, NULL, __in WHERE coalesce(json_type(__in) NOT IN ('ARRAY', 'OBJECT')
    OR json_array_length(__in) = 0 AND len(json_keys(__in)) = 0, true)"""
_FLATTEN_ARGUMENTS = ("INPUT", "PATH", "OUTER", "RECURSIVE", "MODE")


def flatten(node: exp.Expression) -> exp.Expression:
    """``, LATERAL FLATTEN(input => v:items)`` and ``TABLE(FLATTEN(...))``: a (lateral) subquery with
    Snowflake's columns SEQ, KEY, PATH, INDEX, VALUE and THIS, and the PATH, OUTER and RECURSIVE arguments."""
    call = node.this
    if not isinstance(call, exp.Explode):
        return node
    args = _flatten_arguments(call)
    value, path = as_json(args["INPUT"]), args.get("PATH")
    prefix = ""
    if path is not None:
        if not (isinstance(path, exp.Literal) and path.is_string):
            refuse("FLATTEN with a PATH that is not a constant string")
        prefix = path.name
        value = extract(value, json_path(Snowflake().to_json_path(path).expressions))
    recursive, outer = (_flag(args, name) for name in ("RECURSIVE", "OUTER"))
    mode = args.get("MODE")
    if mode is not None and mode.name.upper() != "BOTH":
        refuse(f"FLATTEN with MODE => {mode.sql('snowflake')}")
    # the sequence number of the input row: unique per row of the table FLATTEN reads
    seq = _flatten_seq(node, args["INPUT"])
    depth = exp.true() if recursive else build("e.parent = 0")
    query = build(_FLATTEN_ROWS, seq=seq, prefix=exp.Literal.string(prefix), depth=depth, **{"in": value})
    if outer:
        query = exp.union(query, build(_FLATTEN_OUTER, seq=seq, **{"in": value}), distinct=False)
    alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier("FLATTEN"))
    return exp.Lateral(this=exp.Subquery(this=query), alias=alias.copy())


def _flatten_arguments(call: exp.Explode) -> dict[str, exp.Expression]:
    args = {}
    for position, arg in enumerate([call.this, *call.expressions]):
        name = arg.this.name.upper() if isinstance(arg, exp.Kwarg) else _FLATTEN_ARGUMENTS[position]
        if name not in _FLATTEN_ARGUMENTS:
            refuse(f"FLATTEN's argument {name}")
        args[name] = arg.expression if isinstance(arg, exp.Kwarg) else arg
    if "INPUT" not in args:
        raise SqlError("FLATTEN needs its INPUT => argument: the VARIANT, OBJECT or ARRAY to flatten.")
    return args


def _flag(args: dict[str, exp.Expression], name: str) -> bool:
    value = args.get(name)
    if value is None:
        return False
    if not isinstance(value, exp.Boolean):
        refuse(f"FLATTEN with {name} => {value.sql('snowflake')} (the local service takes TRUE or FALSE)")
    return value.this


def _flatten_seq(node: exp.Expression, value: exp.Expression) -> exp.Expression:
    """SEQ: 1 for a constant input; else the row number of the one table the input reads (its rowid).
    Not computed where the statement never reads it."""
    columns = list(value.find_all(exp.Column))
    if not columns:
        return exp.Literal.number(1)
    statement, select = node.root(), node.find_ancestor(exp.Select)
    alias = node.alias_or_name.upper()
    star = any(
        isinstance(item, exp.Star) or (isinstance(item.this, exp.Star) and item.table.upper() in ("", alias))
        for item in (select.expressions if select else [])
    )
    if not star and not any(c.name.upper() == "SEQ" for c in statement.find_all(exp.Column)):
        return exp.null()
    sources = [select.args["from_"].this] if select and select.args.get("from_") else []
    sources += [join.this for join in (select.args.get("joins") or []) if join.this is not node]
    ctes = {cte.alias_or_name.upper() for cte in statement.find_all(exp.CTE)}
    names = {c.table.upper() for c in columns}
    tables = [
        t for t in sources
        if isinstance(t, exp.Table) and isinstance(t.this, exp.Identifier) and t.name.upper() not in ctes
        and (names == {""} and len(sources) == 1 or t.alias_or_name.upper() in names)
    ]  # fmt: skip
    if len(tables) != 1 or names - {"", tables[0].alias_or_name.upper()}:
        refuse("FLATTEN's SEQ column over an input that is not a column of one table")
    return build("__rowid + 1", rowid=exp.column("rowid", table=tables[0].alias_or_name))
