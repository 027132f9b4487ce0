"""Row sources that Snowflake names its own way, for DuckDB: the columns of ``VALUES`` (``COLUMN1``,
``COLUMN2``, ... and ``$1``, ``$2``, ...) and ``GENERATOR`` inside a subquery.

Snowpark writes these: ``create_dataframe`` selects ``$1 AS "A"`` from ``VALUES``, ``range``
numbers the rows of ``(TABLE(GENERATOR(ROWCOUNT => n)))`` by ``SEQ8()``.
"""

from __future__ import annotations

from sqlglot import exp

from aidemo.local.dialect.sqltokens import quoted
from aidemo.local.engine.sqlerrors import INVALID_IDENTIFIER, unsupported
from aidemo.local.errors import SnowflakeError

# A VALUES without an alias is named so (DuckDB needs a name to name its columns).
_VALUES = "VALUES"


def transform(tree: exp.Expression) -> None:
    """Rewrite the row sources of a parsed statement in place, innermost queries first."""
    for node in reversed(list(tree.walk())):
        handler = TRANSFORMS.get(type(node))
        if handler is not None:
            handler(node)


def _values(node: exp.Values) -> None:
    """VALUES' columns are COLUMN1, COLUMN2, ... unless its alias names them, as in Snowflake."""
    alias = node.args.get("alias")
    if not isinstance(node.parent, (exp.From, exp.Join)) or (alias is not None and alias.columns):
        return  # the rows of an INSERT, or named already
    width = len(node.expressions[0].expressions) if isinstance(node.expressions[0], exp.Tuple) else 1
    name = alias.this if alias is not None else quoted(_VALUES)
    node.set("alias", exp.TableAlias(this=name, columns=[quoted(f"COLUMN{i + 1}") for i in range(width)]))


def _positional(select: exp.Select) -> None:
    """``$n`` of a SELECT from one VALUES: its nth column. (Snowflake reads ``$n`` of a table or a
    staged file too; the local service answers it over VALUES only.)"""
    parameters = [p for p in _in_scope(select, exp.Parameter) if isinstance(p.this, exp.Literal)]
    if not parameters:
        return
    source = select.args.get("from_")
    values = source.this if source is not None else None
    if not isinstance(values, exp.Values) or select.args.get("joins"):
        raise unsupported(f"${parameters[0].this.name} of a source other than VALUES")
    _values(values)
    columns = values.args["alias"].columns
    for parameter in parameters:
        position = int(parameter.this.name)
        if not 1 <= position <= len(columns):
            raise SnowflakeError(INVALID_IDENTIFIER, f"invalid identifier '${position}'")
        parameter.replace(exp.column(columns[position - 1].copy(), table=values.alias_or_name))


def _generator_subquery(node: exp.Subquery) -> None:
    """``FROM (TABLE(GENERATOR(...)))`` is the generator itself, whose SEQ functions number its rows."""
    inner = node.this
    if isinstance(inner, exp.TableFromRows) and isinstance(inner.this, exp.Generator) and not inner.alias:
        if node.args.get("alias") is not None:
            inner.set("alias", node.args["alias"])
        node.replace(inner)


def _in_scope(select: exp.Select, kind: type) -> list[exp.Expression]:
    """The nodes of ``kind`` in ``select`` outside the queries nested in it."""
    return [n for n in select.walk(prune=lambda n: n is not select and isinstance(n, exp.Query)) if isinstance(n, kind)]


TRANSFORMS = {
    exp.Values: _values,
    exp.Select: _positional,
    exp.Subquery: _generator_subquery,
}
