"""DuckDB JSON expressions for Snowflake's semi-structured values, the building blocks of the
transforms in :mod:`aidemo.local.dialect.semistructured` and :mod:`aidemo.local.dialect.flatten`.

VARIANT is DuckDB's ``JSON``, OBJECT ``MAP(VARCHAR, JSON)`` and ARRAY ``JSON[]``; an expression a
transform builds is marked with the Snowflake type it has (:func:`kind`), so the constructs around
it know whether it is JSON already.
"""

from __future__ import annotations

import functools
from typing import NoReturn

import sqlglot
from sqlglot import exp

from aidemo.local.engine.sqlerrors import unsupported

VARIANT, OBJECT, ARRAY = "VARIANT", "OBJECT", "ARRAY"
KIND = "snowflake_type"  # the meta key marking a rewritten node's Snowflake type

#: DuckDB's type for each Snowflake semi-structured type.
DUCK_TYPES = {
    exp.DataType.Type.VARIANT: "JSON",
    exp.DataType.Type.OBJECT: "MAP(VARCHAR, JSON)",
    exp.DataType.Type.ARRAY: "JSON[]",
}
SEMI = {exp.DataType.Type.VARIANT: VARIANT, exp.DataType.Type.OBJECT: OBJECT, exp.DataType.Type.ARRAY: ARRAY}
DUCK_JSON_TYPES = ("JSON", "JSON[]", "MAP(VARCHAR, JSON)")


def holds_json(duck_type: str) -> bool:
    """Whether a DuckDB type (as DuckDB or sqlglot spells it) is VARIANT, OBJECT or ARRAY."""
    return duck_type.upper().replace("TEXT", "VARCHAR") in DUCK_JSON_TYPES


def refuse(construct: str) -> NoReturn:
    """Refuse a construct the local service does not implement (0A000), naming it."""
    raise unsupported(construct)


@functools.cache
def _template(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="duckdb")


def build(sql: str, kind: str | None = None, **args: exp.Expression) -> exp.Expression:
    """DuckDB expression ``sql`` with its ``__name`` columns replaced by ``args``, marked ``kind``."""

    def fill(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name.startswith("__"):
            return args[node.name[2:]].copy()
        return node

    built = _template(sql).copy().transform(fill, copy=False)
    if kind:
        built.meta[KIND] = kind
    return built


def kind(node: exp.Expression) -> str | None:
    """The Snowflake type of a value a transform built, or of a column the catalog typed; None if unknown."""
    if node.meta and KIND in node.meta:
        return node.meta[KIND]
    if isinstance(node, exp.Column) and node.type is not None:
        return SEMI.get(node.type.this)
    return None


def as_json(node: exp.Expression) -> exp.Expression:
    """``node`` as a DuckDB JSON value (VARIANT): OBJECT, ARRAY and SQL values are converted."""
    if kind(node) == VARIANT:
        return node
    return build("to_json(__x)", VARIANT, x=node)


def json_path(parts: list[exp.Expression]) -> str:
    """A DuckDB JSON path for sqlglot's JSONPath parts."""
    path = "$"
    for part in parts:
        if isinstance(part, exp.JSONPathRoot):
            continue
        if isinstance(part, exp.JSONPathKey) and '"' not in part.name:
            path += f'."{part.name}"'
        elif isinstance(part, exp.JSONPathSubscript) and str(part.this).isdigit():
            path += f"[{part.this}]"
        else:
            refuse(f"The path element {part.sql('snowflake')!r}")
    return path


def extract(value: exp.Expression, path: str) -> exp.Expression:
    return build("json_extract(__v, __p)", VARIANT, v=as_json(value), p=exp.Literal.string(path))


def unary(name: str, sql: str, result: str | None = None):
    """The transform of a one-argument function ``name(v)``: DuckDB ``sql`` over the argument as
    JSON (``__j``), marked ``result``."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        args = node.expressions if isinstance(node, exp.Anonymous) else [node.this]
        if len(args) != 1:
            refuse(f"{name} with {len(args)} arguments (it takes one)")
        return build(sql, result, j=as_json(args[0]))

    rewrite.__doc__ = f"{name}(v)"
    return rewrite
